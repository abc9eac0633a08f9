//! An officer of the benchmark: an account made with `tipline user add`, logged in over HTTP the
//! way a browser does (the password, then a TOTP code computed from the key the first login page
//! shows, with the page's form token), and the pages it fetches with its session cookie.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// An account to make: login name, role, district, station.
#[derive(Clone, Debug)]
pub struct Account {
    pub username: String,
    pub role: &'static str,
    pub district: Option<String>,
    pub desk: Option<String>,
    pub password: String,
}

impl Account {
    pub fn new(
        username: &str,
        role: &'static str,
        district: Option<&str>,
        desk: Option<&str>,
    ) -> Self {
        Self {
            username: username.to_owned(),
            role,
            district: district.map(str::to_owned),
            desk: desk.map(str::to_owned),
            password: String::new(),
        }
    }

    /// Makes the account with `tipline user add` and keeps the first password it prints.
    pub fn add(&mut self, data_dir: &Path, database_url: Option<&str>) -> anyhow::Result<()> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tipline"));
        cmd.args([
            "user",
            "add",
            &self.username,
            "--role",
            self.role,
            "--data-dir",
        ])
        .arg(data_dir);
        if let Some(url) = database_url {
            cmd.args(["--database-url", url]);
        }
        if let Some(d) = &self.district {
            cmd.args(["--district", d]);
        }
        if let Some(d) = &self.desk {
            cmd.args(["--desk", d]);
        }
        let out = cmd.env_remove("TIPLINE_DATABASE_URL").output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!(
                "tipline user add {} failed: {}{}",
                self.username,
                text,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        self.password = text
            .split("(shown once): ")
            .nth(1)
            .and_then(|rest| rest.lines().next())
            .context("no password printed by `tipline user add`")?
            .trim()
            .to_owned();
        Ok(())
    }
}

/// A page as fetched: status, bytes on the wire, the decoded text, time to the last byte.
pub struct Page {
    pub status: u16,
    pub wire_bytes: usize,
    pub text: String,
    pub elapsed: Duration,
}

/// A logged-in officer.
#[derive(Clone)]
pub struct Officer {
    pub http: reqwest::Client,
    pub base: String,
    pub username: String,
    cookie: String,
}

/// The client every officer uses: keep-alive, no redirects followed (the login steps answer 303).
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?)
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// The value of the session cookie a response sets.
fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("tipline_sid="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// The text between `start` and the next `end`.
pub fn between<'a>(haystack: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = haystack.find(start)? + start.len();
    let to = haystack[from..].find(end)? + from;
    Some(&haystack[from..to])
}

impl Officer {
    /// Logs in: the password, then the code from the enrolment key shown on the code page.
    pub async fn log_in(base: &str, account: &Account) -> anyhow::Result<Self> {
        let mut me = Self {
            http: client()?,
            base: base.to_owned(),
            username: account.username.clone(),
            cookie: String::new(),
        };
        let form = format!(
            "username={}&password={}",
            encode(&account.username),
            encode(&account.password)
        );
        let resp = me.post("/console/login", form).await?;
        me.cookie = session_cookie(&resp).context("no session cookie after the password")?;
        let page = me.get("/console/code", None).await?;
        let csrf = between(&page.text, "name=\"csrf\" value=\"", "\"").context("no form token")?;
        let key = between(&page.text, "<code id=\"totp-secret\">", "</code>")
            .context("no enrolment key on the first code page")?;
        let secret = tipline::totp::TotpSecret::from_base32(key).context("bad enrolment key")?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let form = format!("csrf={csrf}&code={:06}", secret.code_at(now));
        let resp = me.post("/console/code", form).await?;
        if resp.status() != 303 {
            bail!("code step for {} answered {}", me.username, resp.status());
        }
        me.cookie = session_cookie(&resp).context("no session cookie after the code")?;
        Ok(me)
    }

    async fn post(&self, path: &str, form: String) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("tipline_sid={}", self.cookie))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await?)
    }

    fn request(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("tipline_sid={}", self.cookie))
    }

    /// Opens the event stream of the live queue (on a client without the overall timeout, which
    /// would cut the stream).
    pub async fn events(&self) -> anyhow::Result<reqwest::Response> {
        Ok(reqwest::Client::builder()
            .build()?
            .get(format!("{}/console/events", self.base))
            .header("cookie", format!("tipline_sid={}", self.cookie))
            .send()
            .await?)
    }

    /// Fetches a page, asking for `encoding` (`br`, `gzip`) or none; brotli is decoded.
    pub async fn get(&self, path: &str, encoding: Option<&str>) -> anyhow::Result<Page> {
        let started = Instant::now();
        let mut req = self.request(path);
        if let Some(e) = encoding {
            req = req.header("accept-encoding", e);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let brotli = resp
            .headers()
            .get("content-encoding")
            .is_some_and(|v| v.as_bytes() == b"br");
        let raw = resp.bytes().await?;
        let elapsed = started.elapsed();
        let text = if brotli {
            let mut out = Vec::new();
            std::io::copy(
                &mut brotli_decompressor::Decompressor::new(&raw[..], 4096),
                &mut out,
            )?;
            String::from_utf8_lossy(&out).into_owned()
        } else {
            String::from_utf8_lossy(&raw).into_owned()
        };
        Ok(Page {
            status,
            wire_bytes: raw.len(),
            text,
            elapsed,
        })
    }
}

/// The tip numbers a queue page links to.
pub fn tip_numbers(page: &str) -> Vec<String> {
    page.split("<a href=\"/console/tips/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|n| n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

/// The queue page's "next" link, if any (HTML entities undone).
pub fn next_link(page: &str) -> Option<String> {
    between(page, "href=\"/console/?after=", "\"")
        .map(|rest| format!("/console/?after={}", rest.replace("&amp;", "&")))
}
