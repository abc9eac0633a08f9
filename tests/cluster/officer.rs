//! An officer logged in to one node over HTTP the way a browser does (the password, then a TOTP
//! code from the key the first code page shows), to hold that node's live event stream open.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// A session on one node.
pub struct Session {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("tipline_sid="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

fn between<'a>(haystack: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = haystack.find(start)? + start.len();
    let to = haystack[from..].find(end)? + from;
    Some(&haystack[from..to])
}

impl Session {
    /// Logs in with the first password `tipline user add` printed.
    pub async fn log_in(base: &str, username: &str, password: &str) -> anyhow::Result<Self> {
        let mut me = Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            base: base.to_owned(),
            cookie: String::new(),
        };
        let form = format!(
            "username={}&password={}",
            encode(username),
            encode(password)
        );
        let resp = me.post("/console/login", form).await?;
        me.cookie = session_cookie(&resp).context("no session cookie after the password")?;
        let page = me.get("/console/code").await?.text().await?;
        let csrf = between(&page, "name=\"csrf\" value=\"", "\"").context("no form token")?;
        let key = between(&page, "<code id=\"totp-secret\">", "</code>")
            .context("no enrolment key on the first code page")?;
        let secret = tipline::totp::TotpSecret::from_base32(key).context("bad enrolment key")?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let form = format!("csrf={csrf}&code={:06}", secret.code_at(now));
        let resp = me.post("/console/code", form).await?;
        if resp.status() != 303 {
            bail!("code step answered {}", resp.status());
        }
        me.cookie = session_cookie(&resp).context("no session cookie after the code")?;
        Ok(me)
    }

    async fn post(&self, path: &str, form: String) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("tipline_sid={}", self.cookie))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
    }

    async fn get(&self, path: &str) -> reqwest::Result<reqwest::Response> {
        self.http
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("tipline_sid={}", self.cookie))
            .send()
            .await
    }

    /// Opens the live queue's event stream.
    pub async fn events(&self) -> anyhow::Result<Events> {
        let resp = self.get("/console/events").await?;
        if resp.status() != 200 {
            bail!("/console/events answered {}", resp.status());
        }
        Ok(Events {
            resp,
            buf: String::new(),
        })
    }
}

/// An open event stream.
pub struct Events {
    resp: reqwest::Response,
    buf: String,
}

impl Events {
    /// Waits up to `wait` for the next `tip` event; returns its data.
    pub async fn next_tip(&mut self, wait: Duration) -> anyhow::Result<String> {
        tokio::time::timeout(wait, async {
            loop {
                // Events end with a blank line; a partial one waits for the next chunk.
                while let Some(end) = self.buf.find("\n\n") {
                    let event: String = self.buf.drain(..end + 2).collect();
                    if event.lines().any(|l| l == "event: tip") {
                        let data = event.lines().find_map(|l| l.strip_prefix("data: "));
                        return Ok(data.unwrap_or_default().to_owned());
                    }
                }
                let chunk = self.resp.chunk().await?.context("event stream ended")?;
                self.buf.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .context("no tip event in time")?
    }
}
