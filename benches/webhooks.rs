//! The WhatsApp webhook benchmark (issue 4, "Performance"): `cargo bench --bench webhooks`.
//!
//! Starts the release `tipline` binary on a fresh SQLite data directory (synchronous=FULL) with
//! Meta's WhatsApp Cloud API configured, and a fake Graph API in this process that accepts the
//! answers the server sends through its outbox. 64 keep-alive clients then post signed
//! notifications (`X-Hub-Signature-256`, one text message each, every one from a new sender, so
//! each opens a tip) as fast as answers come back, and one in twenty is sent a second time, as
//! Meta does when an answer is late. It prints accepted messages per second and the
//! acknowledgement latency, checks that every message was stored exactly once (tips == distinct
//! messages accepted), and marks the targets PASS/FAIL.
//!
//! Client, fake and server share the machine's cores, so every figure includes their cost.
//! `TIPLINE_BENCH_SECS` sets the length of the run (default 10).

#[path = "intake/server.rs"]
#[allow(dead_code)] // shared with the intake bench, which reads its memory and CPU figures
mod server;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use server::Server;

const CLIENTS: usize = 64;
const APP_SECRET: &str = "bench-app-secret-0123456789";
/// Korba's crime-stopper number, as Meta writes it.
const NUMBER: &str = "919926353146";
const TEXT: &str = "Kusmunda khadan ke paas raat ko diesel chori hoti hai, tanker aate hain, \
    गाड़ी नंबर CG 12 से शुरू होता है, चौकी के पास ही खड़ी रहती है";

/// Target: accepted messages per second.
const TARGET_RATE: f64 = 1500.0;
/// Target: p99 acknowledgement latency.
const TARGET_P99_MS: f64 = 250.0;

fn body(n: u64) -> String {
    serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": NUMBER, "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "\u{0930}\u{0935}\u{093f}"}, "wa_id": format!("9198{n:08}")}],
            "messages": [{"from": format!("9198{n:08}"), "id": format!("wamid.BENCH{n}"),
                "timestamp": "1764400000", "type": "text", "text": {"body": format!("{TEXT} #{n}")}}]
        }}]}]
    })
    .to_string()
}

fn sign(body: &str) -> String {
    let mac = tipline::crypto::hmac_sha256(APP_SECRET.as_bytes(), body.as_bytes());
    format!("sha256={}", tipline::crypto::encode_hex(&mac))
}

/// A fake Graph API: every send is accepted.
async fn fake_graph() -> anyhow::Result<String> {
    let route = axum::routing::post(|| async {
        axum::Json(
            serde_json::json!({"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT"}]}),
        )
    });
    let router = axum::Router::new().route("/{id}/messages", route);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(format!("http://{addr}"))
}

#[derive(Default)]
struct Seen {
    accepted: u64,
    repeats: u64,
    errors: u64,
    first_error: Option<String>,
    latencies_us: Vec<u32>,
}

async fn client(
    http: reqwest::Client,
    url: Arc<str>,
    seq: Arc<AtomicU64>,
    deadline: Instant,
) -> Seen {
    let mut seen = Seen::default();
    while Instant::now() < deadline {
        let n = seq.fetch_add(1, Ordering::Relaxed);
        let b = body(n);
        let tries = if n.is_multiple_of(20) { 2 } else { 1 };
        for attempt in 0..tries {
            let sent = Instant::now();
            let result = http
                .post(&*url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", sign(&b))
                .body(b.clone())
                .send()
                .await;
            seen.latencies_us
                .push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
            match result {
                Ok(r) if r.status() == reqwest::StatusCode::OK => {
                    if attempt == 0 {
                        seen.accepted += 1;
                    } else {
                        seen.repeats += 1;
                    }
                }
                Ok(r) => {
                    seen.errors += 1;
                    seen.first_error
                        .get_or_insert(format!("status {}", r.status()));
                }
                Err(e) => {
                    seen.errors += 1;
                    seen.first_error
                        .get_or_insert(format!("request failed: {e}"));
                }
            }
        }
    }
    seen
}

fn quantile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secs: u64 = match std::env::var("TIPLINE_BENCH_SECS") {
        Ok(v) => v
            .parse()
            .context("TIPLINE_BENCH_SECS must be whole seconds")?,
        Err(_) => 10,
    };
    let dir = tempfile::tempdir()?;
    let graph = fake_graph().await?;
    let config = dir.path().join("tipline.toml");
    std::fs::write(
        &config,
        format!(
            "public_url = \"https://tips.example.in\"\nlog = \"warn\"\n\n[channels.meta]\napp_secret = \"{APP_SECRET}\"\nverify_token = \"bench-verify-token\"\naccess_token = \"bench-token\"\ngraph_url = \"{graph}\"\n"
        ),
    )?;
    let data = dir.path().join("data");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tipline"));
    cmd.arg("--config")
        .arg(&config)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data);
    let log = dir.path().join("server.log");
    let server = Server::start(cmd, &log)?;
    let url: Arc<str> = format!("{}/hooks/meta/whatsapp", server.base).into();
    println!(
        "webhooks: signed Meta WhatsApp notifications, {CLIENTS} clients, {secs} s, SQLite (synchronous=FULL), 1 in 20 sent twice"
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?;
    // A short warm-up, on its own numbers.
    let warm = Arc::new(AtomicU64::new(1_000_000_000));
    let warmed = client(
        http.clone(),
        url.clone(),
        warm,
        Instant::now() + Duration::from_secs(1),
    )
    .await;
    let seq = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(client(http.clone(), url.clone(), seq.clone(), deadline)))
        .collect();
    let mut total = Seen::default();
    for t in tasks {
        let s = t.await?;
        total.accepted += s.accepted;
        total.repeats += s.repeats;
        total.errors += s.errors;
        total.first_error = total.first_error.or(s.first_error);
        total.latencies_us.extend(s.latencies_us);
    }
    let elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    let healthy = reqwest::get(format!("{}/healthz", server.base)).await?;
    anyhow::ensure!(
        healthy.status().is_success(),
        "server unhealthy after the run"
    );
    server.stop()?;

    // Stored exactly once: one tip per distinct message accepted (warm-up included).
    let key = tipline::crypto::MasterKey::load_or_create(&data.join("master.key"))?.0;
    let store = tipline::store::open(
        &format!("sqlite://{}", data.join("tipline.db").display()),
        Arc::new(key.derive()),
    )
    .await?;
    let tips = store.tip_count().await?;
    let rate = total.accepted as f64 / elapsed.as_secs_f64();
    let (p50, p99) = (
        quantile(&total.latencies_us, 0.50),
        quantile(&total.latencies_us, 0.99),
    );
    println!(
        "accepted {} distinct messages in {:.1} s: {rate:.0} messages/s; {} repeats answered; {} errors{}",
        total.accepted,
        elapsed.as_secs_f64(),
        total.repeats,
        total.errors,
        total
            .first_error
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
    println!(
        "acknowledgement latency: p50 {p50:.1} ms, p90 {:.1} ms, p99 {p99:.1} ms, max {:.1} ms",
        quantile(&total.latencies_us, 0.90),
        quantile(&total.latencies_us, 1.0)
    );
    let distinct = warmed.accepted + total.accepted;
    let errors = warmed.errors + total.errors;
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!(
        "stored exactly once: {} ({tips} tips for {distinct} distinct messages accepted, warm-up included; {} repeats; {errors} errors)",
        verdict(u64::try_from(tips).ok() == Some(distinct) && errors == 0),
        warmed.repeats + total.repeats
    );
    println!("targets (issue 4):");
    println!(
        "  {} at least {TARGET_RATE:.0} messages/s          {rate:.0}",
        verdict(rate >= TARGET_RATE)
    );
    println!(
        "  {} p99 acknowledgement under {TARGET_P99_MS:.0} ms    {p99:.1} ms",
        verdict(p99 < TARGET_P99_MS)
    );
    Ok(())
}
