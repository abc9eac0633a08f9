//! An officer in a test: an account made through the real code, logged in over HTTP with a
//! password and a TOTP code computed from the stored secret, and a cookie and form token carried
//! on every request.

use tipline::domain::{NewPassword, OfficerScope, Role, Username};
use tipline::officers::{self, OfficerInput};

use super::{TestApp, between, encode};

/// Every test officer's password.
pub const PASSWORD: &str = "correct horse battery staple";

pub struct OfficerClient<'a> {
    pub app: &'a TestApp,
    pub id: i64,
    pub username: String,
    pub cookie: String,
    pub csrf: String,
}

/// The session cookie value from a response, if it set one.
pub fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("tipline_sid="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

impl TestApp {
    /// Creates an account (without logging in); returns its id.
    /// Sets an officer's work phone and email as `tipline user contact` does (audited).
    #[allow(dead_code)]
    pub async fn set_contacts(&self, officer_id: i64, phone: Option<&str>, email: Option<&str>) {
        let audit = tipline::store::AuditDraft {
            actor: "admin:test".into(),
            action: "officer.contact".into(),
            subject: format!("officer:{officer_id}"),
            detail: "{}".into(),
            created_at: self.core.clock.now_ms(),
        };
        self.core
            .store
            .set_contacts(
                officer_id,
                phone.map(Into::into),
                email.map(Into::into),
                audit,
            )
            .await
            .unwrap();
    }

    pub async fn add_officer(
        &self,
        username: &str,
        role: Role,
        district: Option<&str>,
        desk: Option<&str>,
    ) -> i64 {
        let name = Username::parse(username).unwrap();
        let input = OfficerInput {
            password: NewPassword::parse(PASSWORD, &name).unwrap(),
            username: name,
            display_name: format!("Officer {username}"),
            scope: OfficerScope::new(role, district.map(str::to_owned), desk.map(str::to_owned))
                .unwrap(),
        };
        officers::add_officer(&self.core, input, "test")
            .await
            .unwrap()
    }

    /// The current TOTP code of an officer (from the stored secret).
    pub async fn totp_code(&self, officer_id: i64) -> String {
        let row = self.core.store.officer(officer_id).await.unwrap().unwrap();
        let secret = officers::totp_secret(&self.core, &row).await.unwrap();
        let now = (self.core.clock.now_ms() / 1000) as u64;
        format!("{:06}", secret.code_at(now))
    }

    /// Posts the password step; returns the response.
    pub async fn login_password(&self, username: &str, password: &str) -> reqwest::Response {
        self.post_form(
            "/console/login",
            &[("username", username), ("password", password)],
        )
        .await
    }

    /// Makes an officer and logs them in fully.
    pub async fn officer(
        &self,
        username: &str,
        role: Role,
        district: Option<&str>,
        desk: Option<&str>,
    ) -> OfficerClient<'_> {
        let id = self.add_officer(username, role, district, desk).await;
        self.log_in(id, username).await
    }

    /// Logs an existing officer in (password, then code); the clock moves 30 s so each login uses
    /// a fresh TOTP step.
    pub async fn log_in(&self, id: i64, username: &str) -> OfficerClient<'_> {
        self.clock.advance(30_000);
        let resp = self.login_password(username, PASSWORD).await;
        assert_eq!(resp.status(), 303, "password step");
        let half = session_cookie(&resp).expect("a session cookie after the password");
        let mut c = OfficerClient {
            app: self,
            id,
            username: username.to_owned(),
            cookie: half,
            csrf: String::new(),
        };
        let page = c.get("/console/code").await.text().await.unwrap();
        c.csrf = between(&page, "name=\"csrf\" value=\"", "\"");
        let code = self.totp_code(id).await;
        let resp = c.post("/console/code", &[("code", &code)]).await;
        assert_eq!(resp.status(), 303, "code step");
        c.cookie = session_cookie(&resp).expect("a new session cookie after the code");
        let mut page = c.get("/console/").await;
        if page.status() == 303 {
            // The administrator's home is the officer list.
            let to = page.headers()["location"].to_str().unwrap().to_owned();
            page = c.get(&to).await;
        }
        let body = page.text().await.unwrap();
        c.csrf = between(&body, "name=\"csrf\" value=\"", "\"");
        c
    }
}

impl OfficerClient<'_> {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.app
            .client
            .get(self.app.url(path))
            .header("cookie", format!("tipline_sid={}", self.cookie))
            .send()
            .await
            .unwrap()
    }

    /// Posts a form with this session's cookie and form token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields (no form token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.app
            .client
            .post(self.app.url(path))
            .header("cookie", format!("tipline_sid={}", self.cookie))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// The tip page's text (asserting 200).
    pub async fn tip_page(&self, number: &str) -> String {
        let resp = self.get(&format!("/console/tips/{number}")).await;
        assert_eq!(resp.status(), 200, "tip page of {number}");
        resp.text().await.unwrap()
    }

    /// Takes a workflow step on a tip seen in `seen` status; returns the response.
    pub async fn step(
        &self,
        number: &str,
        seen: &str,
        step: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut fields = vec![("seen", seen), ("step", step)];
        fields.extend_from_slice(extra);
        self.post(&format!("/console/tips/{number}/step"), &fields)
            .await
    }
}
