//! The intake benchmark (issue 2, "Performance and durability"): `cargo bench --bench intake`.
//!
//! Starts the release `tipline` binary on a fresh data directory, times start-up on the existing
//! database and reads its idle memory, then drives it over HTTP with 64 keep-alive clients posting
//! the web report form, and again with 2. In the same run it measures the machine's ceiling (a
//! minimal axum + SQLite server in this file, run as a separate process) under the identical load,
//! and prints tipline's throughput as a share of it, with the targets marked PASS/FAIL.
//!
//! Client and server share the same cores, so every figure includes the load generator's cost.
//! `TIPLINE_BENCH_SECS` sets the length of each run (default 10); `TIPLINE_BENCH_PERF=FILE`
//! records a `perf` profile of tipline during its 64-client run (`TIPLINE_BENCH_PERF_FEW=1`: during
//! its 2-client run instead). `TIPLINE_BENCH_SERVER_LOG=FILTER` sets the servers' log filter (their
//! log is `servers.log` in the run's temporary directory).

#[path = "intake/ceiling.rs"]
mod ceiling;
#[path = "intake/load.rs"]
mod load;
#[path = "intake/server.rs"]
mod server;

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use load::{FormBody, Outcome};
use server::{Memory, Server};

/// Connections for the throughput figures.
const CLIENTS: usize = 64;
/// Connections for the low-concurrency latency figure.
const FEW_CLIENTS: usize = 2;
/// Restarts timed on the existing database.
const RESTARTS: usize = 3;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--ceiling-server") {
        return ceiling::main(&args);
    }
    let secs: u64 = match std::env::var("TIPLINE_BENCH_SECS") {
        Ok(v) => v
            .parse()
            .context("TIPLINE_BENCH_SECS must be whole seconds")?,
        Err(_) => 10,
    };
    bench(Duration::from_secs(secs))
}

/// CPU used during one run, as shares of the whole machine (all cores).
struct CpuShare {
    server: f64,
    /// Server CPU seconds (clock ticks are 1/100 s on Linux).
    server_secs: f64,
    client: f64,
    others: f64,
}

struct Run {
    outcome: Outcome,
    cpu: CpuShare,
}

fn bench(duration: Duration) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "tipline intake benchmark: {} s per run, {cores} cores; the load generator runs on the \
         SAME cores as the server, so every figure includes its cost",
        duration.as_secs()
    );
    let work = tempfile::tempdir()?;
    let log = work.path().join("servers.log");
    let flush_before = flush_probe(work.path())?;

    // Start-up: first on an empty directory, then RESTARTS times on the database it created.
    let tipline_dir = work.path().join("tipline-data");
    let first = Server::start(tipline_cmd(&tipline_dir), &log)?;
    let fresh_startup = first.startup;
    first.stop()?;
    let mut startups = Vec::new();
    let mut tipline = None;
    for i in 0..RESTARTS {
        let s = Server::start(tipline_cmd(&tipline_dir), &log)?;
        startups.push(s.startup);
        if i + 1 == RESTARTS {
            tipline = Some(s);
        } else {
            s.stop()?;
        }
    }
    let tipline = tipline.context("no restart")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    std::thread::sleep(Duration::from_millis(500));
    rt.block_on(async {
        reqwest::get(format!("{}/healthz", tipline.base))
            .await?
            .error_for_status()
    })?;
    let idle = tipline.memory()?;

    let ceiling_cmd = {
        let mut c = Command::new(std::env::current_exe()?);
        c.arg("--ceiling-server")
            .arg("--data-dir")
            .arg(work.path().join("ceiling-data"));
        c
    };
    let ceiling = Server::start(ceiling_cmd, &log)?;
    let form = Arc::new(FormBody::new());
    let t_url = format!("{}/hi/report", tipline.base);
    let c_url = format!("{}/hi/report", ceiling.base);
    // Warm both up (connections, page cache, first WAL growth); not counted.
    for url in [&t_url, &c_url] {
        rt.block_on(load::run(
            url,
            form.clone(),
            CLIENTS,
            Duration::from_secs(1),
        ))?;
    }
    // Interleaved, so a change in the machine's regime hits both alike.
    let profile = std::env::var_os("TIPLINE_BENCH_PERF");
    let profile_few = std::env::var_os("TIPLINE_BENCH_PERF_FEW").is_some();
    let profiled = |clients: usize, run: &dyn Fn() -> anyhow::Result<Run>| {
        let perf = match &profile {
            Some(out) if profile_few == (clients == FEW_CLIENTS) => {
                Some(perf_record(tipline.pid(), Path::new(out))?)
            }
            _ => None,
        };
        let m = run()?;
        if let Some(perf) = perf {
            perf_finish(perf)?;
        }
        anyhow::Ok(m)
    };
    let t64 = profiled(CLIENTS, &|| {
        measure(&rt, &tipline, &t_url, &form, CLIENTS, duration)
    })?;
    let c64 = measure(&rt, &ceiling, &c_url, &form, CLIENTS, duration)?;
    let t2 = profiled(FEW_CLIENTS, &|| {
        measure(&rt, &tipline, &t_url, &form, FEW_CLIENTS, duration)
    })?;
    let c2 = measure(&rt, &ceiling, &c_url, &form, FEW_CLIENTS, duration)?;
    let peak = tipline.memory()?;
    let ceiling_peak = ceiling.memory()?;
    tipline.stop()?;
    ceiling.stop()?;
    let flush_after = flush_probe(work.path())?;

    let report = Report {
        flush: [flush_before, flush_after],
        fresh_startup,
        startups,
        idle,
        peak,
        ceiling_peak,
        runs: [t64, c64, t2, c2],
    };
    report.print();
    Ok(())
}

/// Starts `perf record` on `pid` (for `TIPLINE_BENCH_PERF=FILE`: profiles the 64-client run).
fn perf_record(pid: u32, out: &Path) -> anyhow::Result<std::process::Child> {
    Command::new("perf")
        .args(["record", "-F", "499", "-g", "-o"])
        .arg(out)
        .args(["-p", &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("cannot run perf")
}

/// Stops `perf record` with SIGINT so that it writes its file.
fn perf_finish(mut perf: std::process::Child) -> anyhow::Result<()> {
    Command::new("kill")
        .args(["-INT", &perf.id().to_string()])
        .status()?;
    perf.wait()?;
    Ok(())
}

fn tipline_cmd(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tipline"));
    c.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir);
    c
}

fn measure(
    rt: &tokio::runtime::Runtime,
    server: &Server,
    url: &str,
    form: &Arc<FormBody>,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Run> {
    let machine0 = server::machine_ticks()?;
    let me0 = server::process_ticks("/proc/self/stat")?;
    let srv0 = server.cpu_ticks()?;
    let outcome = rt.block_on(load::run(url, form.clone(), clients, duration))?;
    let (total, busy) = server::machine_ticks()?;
    let (total, busy) = ((total - machine0.0) as f64, (busy - machine0.1) as f64);
    let client = (server::process_ticks("/proc/self/stat")? - me0) as f64;
    let srv = (server.cpu_ticks()? - srv0) as f64;
    let share = |t: f64| 100.0 * t / total.max(1.0);
    Ok(Run {
        outcome,
        cpu: CpuShare {
            server: share(srv),
            server_secs: srv / 100.0,
            client: share(client),
            others: share((busy - srv - client).max(0.0)),
        },
    })
}

/// Latency of `write 4 KiB + fdatasync` over a preallocated file: p50 and p99 in milliseconds.
/// It tells which flush regime the machine was in (see reference/performance.md).
fn flush_probe(dir: &Path) -> anyhow::Result<(f64, f64)> {
    let path = dir.join("flush-probe");
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)?;
    let block = [0x5au8; 4096];
    for _ in 0..256 {
        f.write_all(&block)?;
    }
    f.sync_all()?;
    let mut times = Vec::with_capacity(200);
    for i in 0..200u64 {
        f.seek(SeekFrom::Start((i % 256) * 4096))?;
        let t = Instant::now();
        f.write_all(&block)?;
        f.sync_data()?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    std::fs::remove_file(&path)?;
    times.sort_by(f64::total_cmp);
    Ok((times[100], times[198]))
}

struct Report {
    flush: [(f64, f64); 2],
    fresh_startup: Duration,
    startups: Vec<Duration>,
    idle: Memory,
    peak: Memory,
    ceiling_peak: Memory,
    /// tipline 64, ceiling 64, tipline 2, ceiling 2.
    runs: [Run; 4],
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Report {
    fn print(&self) {
        println!();
        for (when, (p50, p99)) in ["before", "after"].iter().zip(self.flush) {
            let regime = if p50 < 1.0 { "fast" } else { "SLOW" };
            println!(
                "disk flush {when} (4 KiB write + fdatasync): p50 {p50:.2} ms, p99 {p99:.2} ms \
                 -> {regime}-flush regime"
            );
        }
        println!();
        println!(
            "{:<20} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7} {:>7} {:>7}",
            "run", "tips/s", "p50 ms", "p99 ms", "max ms", "errors", "srv %", "cli %", "other %"
        );
        let names = [
            "tipline, 64 clients",
            "ceiling, 64 clients",
            "tipline,  2 clients",
            "ceiling,  2 clients",
        ];
        for (name, run) in names.iter().zip(&self.runs) {
            let o = &run.outcome;
            println!(
                "{name:<20} {:>9.0} {:>9.2} {:>9.2} {:>9.2} {:>8} {:>7.0} {:>7.0} {:>7.0}",
                o.rate(),
                o.latency_ms(0.5),
                o.latency_ms(0.99),
                o.latency_ms(1.0),
                o.errors,
                run.cpu.server,
                run.cpu.client,
                run.cpu.others
            );
        }
        println!(
            "  (srv/cli/other %: CPU of the server, of this load generator and of everything else, \
             as a share of all cores)"
        );
        for (name, run) in names.iter().zip(&self.runs) {
            if let Some(e) = &run.outcome.first_error {
                println!("  first error, {name}: {e}");
            }
        }
        let [t64, c64, t2, _] = &self.runs;
        let ratio = t64.outcome.rate() / c64.outcome.rate().max(1e-9);
        let srv_cpu_us = t64.cpu.server_secs * 1e6 / (t64.outcome.accepted.max(1) as f64);
        println!();
        println!(
            "tip text: {} characters of Hindi/Hinglish, plus place and time; district bilaspur",
            FormBody::text_chars()
        );
        println!("tipline CPU per accepted tip at 64 clients: about {srv_cpu_us:.0} µs");
        println!(
            "tipline / ceiling at 64 clients: {ratio:.2} (the ceiling commits one transaction per \
             request; tipline commits in groups, so it may exceed 1)"
        );
        let worst = self.startups.iter().max().copied().unwrap_or_default();
        println!(
            "start-up to ready: fresh directory {:.0} ms; existing database {} ms",
            ms(self.fresh_startup),
            self.startups
                .iter()
                .map(|d| format!("{:.0}", ms(*d)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "tipline memory: idle VmRSS {:.1} MB, VmHWM {:.1} MB; after the load VmRSS {:.1} MB, \
             peak VmHWM {:.1} MB (ceiling peak {:.1} MB)",
            mb(self.idle.rss_kb),
            mb(self.idle.hwm_kb),
            mb(self.peak.rss_kb),
            mb(self.peak.hwm_kb),
            mb(self.ceiling_peak.hwm_kb)
        );
        println!();
        println!("targets (issue 2):");
        let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
        let rate = t64.outcome.rate();
        let p99 = t64.outcome.latency_ms(0.99);
        let lines = [
            (
                "tips accepted/s at 64 connections >= 2,000",
                format!("{rate:.0}"),
                rate >= 2000.0,
            ),
            (
                "p99 latency at 64 connections < 50 ms",
                format!("{p99:.1} ms"),
                p99 < 50.0,
            ),
            (
                "throughput >= 0.3 of the ceiling",
                format!("{ratio:.2}"),
                ratio >= 0.3,
            ),
            (
                "idle server peak memory (VmHWM) < 50 MB",
                format!("{:.1} MB", mb(self.idle.hwm_kb)),
                self.idle.hwm_kb < 50 * 1024,
            ),
            (
                "start-up to ready on existing db < 1 s",
                format!("{:.0} ms (worst of {})", ms(worst), self.startups.len()),
                worst < Duration::from_secs(1),
            ),
        ];
        for (what, got, ok) in lines {
            println!("  {what:<46} {got:>22}  {}", verdict(ok));
        }
        println!(
            "  (also: p99 at 2 connections {:.1} ms, no target)",
            t2.outcome.latency_ms(0.99)
        );
        println!(
            "reminder: client and server shared {} cores; the disk flush regime above decides the \
             ceiling's figure",
            self.cores()
        );
    }

    fn cores(&self) -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}
