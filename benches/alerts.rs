//! The alert latency benchmark (issue 6: "from tip accepted to alert handed to the gateway, p99
//! under 1 s with 100 tips per second arriving"): `cargo bench --bench alerts`.
//!
//! Starts a fake Twilio Messages API in this process, makes an ASP with a phone on duty in every
//! district with the `tipline` commands, starts the release `tipline serve` with `[alerts.sms]`
//! pointing at the fake, and posts urgent tips (`happening_now`) to `POST /api/v1/tips` open-loop:
//! one every 1/`TIPLINE_BENCH_RATE` s (default 100/s) by the clock, whatever the answers do, for
//! `TIPLINE_BENCH_SECS` s (default 20), spread over four districts. Each tip is timed from its 201
//! (and from its request) to the first SMS naming its number at the gateway. Tips of the first
//! two seconds warm up and are not counted; a tip whose alert has not come within the grace
//! period after the last tip counts as missing.
//!
//! SQLite always; PostgreSQL too with `TIPLINE_BENCH_POSTGRES_URL` (a new database, dropped at the
//! end). `TIPLINE_BENCH_ONLY` = `sqlite` or `postgres` runs one; `TIPLINE_BENCH_KEEP=1` keeps the
//! data directory (server log, SQLite database) and the PostgreSQL database for a look at the
//! outbox afterwards. Client, fake gateway and server (and PostgreSQL) share the machine's cores,
//! and a stall of the disk's flushes shows up directly in the tail.

#[path = "alerts/gateway.rs"]
mod gateway;
#[path = "intake/server.rs"]
mod server;
#[path = "alerts/setup.rs"]
mod setup;

use std::time::{Duration, Instant};

use anyhow::Context;
use gateway::Arrivals;
use server::Server;
use setup::Place;

/// Tips of this first stretch are sent at the rate but not counted.
const WARM_UP: Duration = Duration::from_secs(2);
/// How long after the last tip a missing alert is still waited for.
const GRACE: Duration = Duration::from_secs(10);
/// The districts tips go to (one ASP on duty each).
const DISTRICTS: [&str; 4] = ["bilaspur", "korba", "raigarh", "janjgir_champa"];
/// The target for p99, ms.
const TARGET_P99_MS: f64 = 1000.0;

const SAMPLES: &str = include_str!("../tests/data/tips-dev.jsonl");

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map_err(|_| anyhow::anyhow!("{name} is not a valid number: {v}")),
        Err(_) => Ok(default),
    }
}

fn main() -> anyhow::Result<()> {
    let secs: u64 = env_or("TIPLINE_BENCH_SECS", 20)?;
    let rate: f64 = env_or("TIPLINE_BENCH_RATE", 100.0)?;
    let postgres = std::env::var("TIPLINE_BENCH_POSTGRES_URL")
        .ok()
        .filter(|v| !v.is_empty());
    let only = std::env::var("TIPLINE_BENCH_ONLY").ok();
    let runs = |b: &str| only.as_deref().is_none_or(|o| o == b);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "tipline alert latency: {rate} urgent tips/s for {secs} s (first {} s not counted), \
         {} districts; {cores} cores shared by client, gateway and server",
        WARM_UP.as_secs(),
        DISTRICTS.len()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let texts = texts();
    if runs("sqlite") {
        rt.block_on(bench("SQLite", None, &texts, rate, secs))?;
    }
    match (&postgres, runs("postgres")) {
        (Some(url), true) => rt.block_on(bench("PostgreSQL", Some(url), &texts, rate, secs))?,
        (None, true) => println!("\nPostgreSQL: skipped (set TIPLINE_BENCH_POSTGRES_URL)"),
        _ => {}
    }
    Ok(())
}

/// Sample tip texts (any text is urgent when it is happening now).
fn texts() -> Vec<String> {
    SAMPLES
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("text")?.as_str().map(str::to_owned))
        .collect()
}

/// One backend's run.
async fn bench(
    backend: &str,
    postgres: Option<&str>,
    texts: &[String],
    rate: f64,
    secs: u64,
) -> anyhow::Result<()> {
    println!("\n== {backend} ==");
    let (gateway, arrivals) = gateway::start().await?;
    let place = Place::new(postgres, &gateway).await?;
    let made = Instant::now();
    // The commands block; this runtime has a spare worker for the gateway meanwhile.
    tokio::task::block_in_place(|| place.officers_on_duty())?;
    println!(
        "{} ASPs with phones put on duty with `tipline user add/contact` and `roster import` in {:.1} s",
        setup::DISTRICTS.len(),
        made.elapsed().as_secs_f64()
    );
    let mut serve = place.command();
    serve.args(["serve", "--listen", "127.0.0.1:0"]);
    let log = place.dir.path().join("server.log");
    let server = tokio::task::block_in_place(|| Server::start(serve, &log))?;
    println!("server started in {} ms", server.startup.as_millis());
    let cpu0 = cpu(&server)?;
    let posted = load(&server.base, texts, rate, secs).await?;
    let cpu1 = cpu(&server)?;
    let last = posted
        .iter()
        .map(|p| p.sent)
        .max()
        .unwrap_or_else(Instant::now);
    wait_for_alerts(&posted, &arrivals, last + GRACE).await;
    let report = Report::new(&posted, &arrivals, rate, cpu_shares(cpu0, cpu1));
    let memory = server.memory()?;
    tokio::task::block_in_place(|| server.stop())?;
    report.print();
    println!(
        "server memory at the end {:.0} MB (peak {:.0} MB)",
        memory.rss_kb as f64 / 1024.0,
        memory.hwm_kb as f64 / 1024.0
    );
    if std::env::var_os("TIPLINE_BENCH_KEEP").is_some() {
        println!("kept: {} (server.log)", place.keep().display());
    } else {
        place.drop_database().await?;
    }
    Ok(())
}

/// One tip as posted.
struct Posted {
    sent: Instant,
    /// The 201's arrival and the tip number; none if refused or failed.
    answered: Option<(Instant, String)>,
    counted: bool,
    error: Option<String>,
}

/// Posts tips by the clock (never waiting for an answer before the next) for `secs` seconds.
async fn load(base: &str, texts: &[String], rate: f64, secs: u64) -> anyhow::Result<Vec<Posted>> {
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?;
    let start = Instant::now();
    let total = (rate * secs as f64) as usize;
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let at = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(at.into()).await;
        let body = serde_json::json!({
            "text": texts[i % texts.len().max(1)],
            "district": DISTRICTS[i % DISTRICTS.len()],
            "happening_now": true,
        });
        let request = client.post(format!("{base}/api/v1/tips")).json(&body);
        let counted = at >= start + WARM_UP;
        tasks.push(tokio::spawn(post(request, counted)));
    }
    let mut posted = Vec::with_capacity(total);
    for t in tasks {
        posted.push(t.await.context("a posting task failed")?);
    }
    Ok(posted)
}

async fn post(request: reqwest::RequestBuilder, counted: bool) -> Posted {
    let sent = Instant::now();
    let answer = async {
        let resp = request.send().await?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await?;
        let answered = Instant::now();
        anyhow::ensure!(status == 201, "POST /api/v1/tips answered {status}");
        let number = body["tip_number"].as_str().context("no tip_number")?;
        Ok((answered, number.to_owned()))
    };
    let (answered, error) = match answer.await {
        Ok(a) => (Some(a), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Posted {
        sent,
        answered,
        counted,
        error,
    }
}

/// Waits until every accepted tip's alert arrived, or `until`.
async fn wait_for_alerts(posted: &[Posted], arrivals: &Arrivals, until: Instant) {
    let numbers: Vec<&str> = posted
        .iter()
        .filter_map(|p| p.answered.as_ref().map(|(_, n)| n.as_str()))
        .collect();
    while Instant::now() < until {
        let all = {
            let seen = arrivals.lock().unwrap_or_else(|e| e.into_inner());
            numbers.iter().all(|n| seen.contains_key(*n))
        };
        if all {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

type Ticks = ((u64, u64), u64, u64);

fn cpu(server: &Server) -> anyhow::Result<Ticks> {
    Ok((
        server::machine_ticks()?,
        server::process_ticks("/proc/self/stat")?,
        server.cpu_ticks()?,
    ))
}

/// Shares of all cores (server, this client with its gateway, everything else) between two
/// readings.
fn cpu_shares(a: Ticks, b: Ticks) -> [f64; 3] {
    let total = (b.0.0 - a.0.0).max(1) as f64;
    let busy = (b.0.1 - a.0.1) as f64;
    let client = (b.1 - a.1) as f64;
    let srv = (b.2 - a.2) as f64;
    [srv, client, (busy - srv - client).max(0.0)].map(|t| 100.0 * t / total)
}

/// The figures of a run.
struct Report {
    offered: usize,
    /// The rate asked for.
    rate: f64,
    refused: usize,
    first_error: Option<String>,
    /// Accepted tips per second (first to last 201).
    accepted_rate: f64,
    offered_rate: f64,
    /// 201 → gateway, request sent → gateway, request sent → 201 (ms, sorted).
    from_answer: Vec<f64>,
    from_send: Vec<f64>,
    post: Vec<f64>,
    /// Alerts that reached the gateway before the client had the 201.
    early: usize,
    missing: usize,
    /// Tips with more than one SMS (each has one ASP on duty).
    repeated: usize,
    cpu: [f64; 3],
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Report {
    fn new(posted: &[Posted], arrivals: &Arrivals, rate: f64, cpu: [f64; 3]) -> Self {
        let seen = arrivals.lock().unwrap_or_else(|e| e.into_inner());
        let answers: Vec<Instant> = posted
            .iter()
            .filter_map(|p| p.answered.as_ref().map(|a| a.0))
            .collect();
        let span = |v: &[Instant]| match (v.iter().min(), v.iter().max()) {
            (Some(a), Some(b)) if b > a => (v.len() - 1) as f64 / (*b - *a).as_secs_f64(),
            _ => 0.0,
        };
        let sends: Vec<Instant> = posted.iter().map(|p| p.sent).collect();
        let mut r = Self {
            offered: posted.len(),
            refused: posted.iter().filter(|p| p.answered.is_none()).count(),
            first_error: posted.iter().find_map(|p| p.error.clone()),
            accepted_rate: span(&answers),
            offered_rate: span(&sends),
            rate,
            from_answer: Vec::new(),
            from_send: Vec::new(),
            post: Vec::new(),
            early: 0,
            missing: 0,
            repeated: seen.values().filter(|(_, n)| *n > 1).count(),
            cpu,
        };
        for p in posted.iter().filter(|p| p.counted) {
            let Some((answered, number)) = &p.answered else {
                continue;
            };
            r.post.push(ms(*answered - p.sent));
            match seen.get(number) {
                Some((at, _)) => {
                    r.early += usize::from(at < answered);
                    r.from_answer
                        .push(ms(at.saturating_duration_since(*answered)));
                    r.from_send.push(ms(*at - p.sent));
                }
                None => r.missing += 1,
            }
        }
        for v in [&mut r.from_answer, &mut r.from_send, &mut r.post] {
            v.sort_by(f64::total_cmp);
        }
        r
    }

    fn print(&self) {
        println!(
            "{} tips offered at {:.1}/s; {} accepted at {:.1}/s; {} refused or failed",
            self.offered,
            self.offered_rate,
            self.offered - self.refused,
            self.accepted_rate,
            self.refused
        );
        if let Some(e) = &self.first_error {
            println!("  first error: {e}");
        }
        println!(
            "\n{:<34} {:>6} {:>8} {:>8} {:>8} {:>8}",
            "after the warm-up", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        for (name, v) in [
            ("201 answered -> SMS at gateway", &self.from_answer),
            ("request sent -> SMS at gateway", &self.from_send),
            ("request sent -> 201 answered", &self.post),
        ] {
            println!(
                "{name:<34} {:>6} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
                v.len(),
                quantile(v, 0.5),
                quantile(v, 0.9),
                quantile(v, 0.99),
                quantile(v, 1.0)
            );
        }
        println!(
            "alerts never at the gateway within {} s of the last tip: {}; before the 201 was \
             read: {}; tips with more than one SMS: {}",
            GRACE.as_secs(),
            self.missing,
            self.early,
            self.repeated
        );
        println!(
            "CPU: server {:.0} %, this client and gateway {:.0} %, other processes {:.0} % of all cores",
            self.cpu[0], self.cpu[1], self.cpu[2]
        );
        let p99 = quantile(&self.from_answer, 0.99);
        // NaN (nothing measured) fails, and so does any missing alert.
        let pass = p99 < TARGET_P99_MS && self.missing == 0 && self.refused == 0;
        println!(
            "target (issue 6): tip accepted -> alert at the gateway p99 < 1 s at {} tips/s: \
             {p99:.1} ms {}",
            self.rate,
            if pass { "PASS" } else { "FAIL" }
        );
    }
}

/// The `q` quantile of sorted values (NaN if none).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}
