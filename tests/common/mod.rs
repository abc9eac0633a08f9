//! Test harness: the real app on port 0 with a fresh database each (a temporary SQLite file, or a
//! new PostgreSQL database when `TIPLINE_TEST_POSTGRES_URL` is set), a manual clock, and typed
//! helpers that talk HTTP to it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use tipline::app::{App, Core};
use tipline::clock::ManualClock;
use tipline::crypto::MasterKey;
use tipline::jurisdiction::Jurisdiction;
use tipline::lexicon::Lexicon;

pub mod officer;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub core: Arc<Core>,
    pub clock: Arc<ManualClock>,
    pub client: reqwest::Client,
    pub database_url: String,
    pub backend: Backend,
    _dir: tempfile::TempDir,
}

/// The PostgreSQL server to test against, if any. With `TIPLINE_REQUIRE_POSTGRES=1` (CI) a
/// missing URL is an error, so the PostgreSQL leg cannot silently pass by not running.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("TIPLINE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var("TIPLINE_REQUIRE_POSTGRES").as_deref() == Ok("1") {
        panic!("TIPLINE_REQUIRE_POSTGRES=1 but TIPLINE_TEST_POSTGRES_URL is not set");
    }
    url
}

/// A new, empty database on the PostgreSQL server at `base`; returns its URL.
pub async fn fresh_postgres_database(base: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .expect("connect to TIPLINE_TEST_POSTGRES_URL");
    let name = format!(
        "tipline_test_{}",
        tipline::crypto::random_digits(12).unwrap()
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    // Replace the database name (the last path segment) of the base URL.
    let (prefix, rest) = base.rsplit_once('/').expect("URL with a database name");
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{prefix}/{name}{query}")
}

pub const START_MS: i64 = 1_795_000_000_000;

impl TestApp {
    /// Another node on the same database, key and clock (no HTTP server of its own).
    #[allow(dead_code)]
    pub async fn second_node(&self) -> Arc<Core> {
        let keys = Arc::new(MasterKey::from_hex(&"5a".repeat(32)).unwrap().derive());
        let store = tipline::store::open(&self.database_url, keys.clone())
            .await
            .unwrap();
        let core = Core::assemble(
            store,
            keys,
            Jurisdiction::builtin().unwrap(),
            Lexicon::builtin().unwrap(),
            self.clock.clone(),
        )
        .await
        .unwrap();
        Arc::new(core)
    }

    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like `spawn`, with the core adjusted first (alert gateways, policy).
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Core)) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("tipline.db").display()),
            Backend::Postgres => fresh_postgres_database(&postgres_url()?).await,
        };
        let keys = Arc::new(MasterKey::from_hex(&"5a".repeat(32)).unwrap().derive());
        let store = tipline::store::open(&database_url, keys.clone())
            .await
            .unwrap();
        let clock = Arc::new(ManualClock::new(START_MS));
        let core = Core::assemble(
            store,
            keys,
            Jurisdiction::builtin().unwrap(),
            Lexicon::builtin().unwrap(),
            clock.clone(),
        )
        .await
        .unwrap();
        let mut core = core;
        configure(&mut core);
        let core = Arc::new(core);
        let app = App::with_core(core.clone(), "127.0.0.1:0".parse().unwrap(), false)
            .await
            .unwrap();
        let addr = app.local_addr().unwrap();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Some(Self {
            addr,
            core,
            clock,
            client,
            database_url,
            backend,
            _dir: dir,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Posts a urlencoded form given as already-encoded bytes.
    pub async fn post_form_raw(&self, path: &str, body: Vec<u8>) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.post_form_raw(path, body.into_bytes()).await
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Submits a tip through the API; returns (tip number, secret).
    /// The internal id of the tip with this number.
    #[allow(dead_code)]
    pub async fn tip_id_of(&self, number: &str) -> tipline::domain::TipId {
        self.core
            .store
            .tip_auth(number)
            .await
            .unwrap()
            .unwrap()
            .tip_id
    }

    pub async fn submit_tip(&self, text: &str, district: Option<&str>) -> (String, String) {
        let resp = self
            .post_json(
                "/api/v1/tips",
                serde_json::json!({ "text": text, "district": district }),
            )
            .await;
        assert_eq!(resp.status(), 201, "submit failed");
        let v: serde_json::Value = resp.json().await.unwrap();
        (
            v["tip_number"].as_str().unwrap().to_owned(),
            v["secret"].as_str().unwrap().to_owned(),
        )
    }

    /// Submits a tip through the Hindi web form; returns (tip number, secret) read off the receipt.
    pub async fn submit_web_tip(&self, text: &str, district: &str) -> (String, String) {
        let resp = self
            .post_form(
                "/hi/report",
                &[("text", text), ("district", district), ("now", "1")],
            )
            .await;
        assert_eq!(resp.status(), 200);
        let html = resp.text().await.unwrap();
        (
            between(&html, "id=\"tip-number\">", "<").replace(' ', ""),
            between(&html, "id=\"tip-secret\">", "<").replace(' ', ""),
        )
    }

    pub async fn followup(&self, number: &str, secret: &str) -> reqwest::Response {
        self.post_form("/hi/followup", &[("number", number), ("secret", secret)])
            .await
    }

    pub async fn tip_count(&self) -> i64 {
        self.core.store.tip_count().await.unwrap()
    }

    /// On SQLite, checks that no byte string of `needles` is in the database file or its WAL
    /// (the data in clear, as anyone with the files would read it); on PostgreSQL, nothing.
    pub fn assert_not_in_database_files(&self, needles: &[&[u8]]) {
        let Some(path) = self.database_url.strip_prefix("sqlite://") else {
            return;
        };
        for file in [path.to_owned(), format!("{path}-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                for needle in needles {
                    assert!(
                        !bytes.windows(needle.len()).any(|w| w == *needle),
                        "{file} holds {}",
                        String::from_utf8_lossy(needle)
                    );
                }
            }
        }
    }

    /// Runs raw SQL against the test database (to play the attacker who edits it).
    pub async fn raw_sql(&self, sql: &str) {
        use sqlx::Connection;
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.database_url)
                    .await
                    .unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.database_url)
                    .await
                    .unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
        }
    }
}

/// A test body `|app| async move { .. }` captures only the fields of `app` it uses, and the rest
/// would be dropped as soon as the closure returns its future: the temporary directory with the
/// SQLite database would vanish mid-test (reads on new connections then fail with
/// SQLITE_CANTOPEN). A type with `Drop` cannot be taken apart like that, so the whole `TestApp`
/// lives as long as the test.
impl Drop for TestApp {
    fn drop(&mut self) {}
}

/// Serves a fake provider API on a free local port; returns its origin (`http://127.0.0.1:PORT`).
pub async fn serve_fake(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// Digits as the IVR reads them ("1, 2, 3").
pub fn spelled(digits: &str) -> String {
    digits
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Standard base64 with padding (for the Basic auth the fakes expect).
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn between(haystack: &str, start: &str, end: &str) -> String {
    let from = haystack
        .find(start)
        .unwrap_or_else(|| panic!("`{start}` not in page"))
        + start.len();
    let to = haystack[from..].find(end).unwrap() + from;
    haystack[from..to].to_owned()
}

/// Defines one async test per backend: `name::sqlite` always, `name::postgres` when configured.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let app = common::TestApp::spawn(common::Backend::Sqlite)
                    .await
                    .unwrap();
                ($body)(app).await;
            }

            #[tokio::test]
            async fn postgres() {
                match common::TestApp::spawn(common::Backend::Postgres).await {
                    Some(app) => ($body)(app).await,
                    None => eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set"),
                }
            }
        }
    };
}

/// A time as a roster file writes it: `YYYY-MM-DD HH:MM`, India Standard Time.
#[allow(dead_code)]
pub fn roster_time(ms: i64) -> String {
    tipline::alerts::roster::format_ist(ms)
}
