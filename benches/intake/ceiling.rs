//! The machine's ceiling: the least a server must do to accept the same web form durably. An axum
//! server that parses the urlencoded form and inserts it into SQLite with tipline's settings (WAL,
//! synchronous=FULL, one writer connection), one transaction per request, and answers with a
//! receipt carrying a tip number once the COMMIT returns. No sealing, no audit chain, no pages.
//!
//! It runs as a separate process (the bench binary re-executed with `--ceiling-server`) so that it
//! is measured exactly like tipline, and prints the same `listening on` line.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use tokio::net::TcpListener;

/// Runs the ceiling server; `args` carry `--data-dir DIR`.
pub fn main(args: &[String]) -> anyhow::Result<()> {
    let dir = args
        .iter()
        .position(|a| a == "--data-dir")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .context("--ceiling-server needs --data-dir DIR")?;
    // The same runtime as `#[tokio::main]` in tipline: one worker per core.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(dir))
}

async fn serve(dir: PathBuf) -> anyhow::Result<()> {
    std::fs::create_dir_all(&dir)?;
    let options = SqliteConnectOptions::new()
        .filename(dir.join("ceiling.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let (journal,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await?;
    let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
        .fetch_one(&pool)
        .await?;
    if journal != "wal" || sync != 2 {
        bail!("ceiling database is not WAL + FULL: {journal}, {sync}");
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS tip (tip_id INTEGER PRIMARY KEY, text TEXT NOT NULL, \
         district TEXT, place TEXT, when_text TEXT, happening_now INTEGER NOT NULL, \
         category TEXT, created_at INTEGER NOT NULL)",
    )
    .execute(&pool)
    .await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    let app = Router::new()
        .route("/{lang}/report", post(submit))
        .with_state(pool);
    axum::serve(listener, app)
        .with_graceful_shutdown(terminated())
        .await?;
    Ok(())
}

async fn terminated() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending::<()>().await,
    }
}

/// Stores one form in its own transaction and answers after the COMMIT.
async fn submit(State(pool): State<SqlitePool>, body: Bytes) -> Response {
    let Some(form) = Form::parse(&body) else {
        return (StatusCode::BAD_REQUEST, "bad form").into_response();
    };
    match insert(&pool, &form).await {
        Ok(id) => {
            let number = 1_000_000_000 + id;
            let html = format!(
                "<!doctype html><title>ok</title><dl><dt>number</dt>\
                 <dd id=\"tip-number\">{:05} {:05}</dd></dl>",
                number / 100_000,
                number % 100_000
            );
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn insert(pool: &SqlitePool, f: &Form) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO tip (text, district, place, when_text, happening_now, category, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING tip_id",
    )
    .bind(&f.text)
    .bind(&f.district)
    .bind(&f.place)
    .bind(&f.when)
    .bind(f.now)
    .bind(&f.category)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The report form's fields.
struct Form {
    text: String,
    district: Option<String>,
    place: Option<String>,
    when: Option<String>,
    now: bool,
    category: Option<String>,
}

impl Form {
    /// Parses an urlencoded body strictly (invalid UTF-8 is refused), like tipline does.
    fn parse(body: &[u8]) -> Option<Self> {
        let mut fields = Vec::new();
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let mut kv = pair.splitn(2, |b| *b == b'=');
            let name = decode(kv.next()?)?;
            let value = decode(kv.next().unwrap_or(&[]))?;
            fields.push((name, value));
        }
        let get = |name: &str| {
            fields
                .iter()
                .find(|(n, v)| n == name && !v.trim().is_empty())
                .map(|(_, v)| v.clone())
        };
        Some(Self {
            text: get("text")?,
            district: get("district"),
            place: get("place"),
            when: get("when"),
            now: get("now").is_some(),
            category: get("category"),
        })
    }
}

fn decode(raw: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    String::from_utf8(percent_encoding::percent_decode(&spaced).collect()).ok()
}
