//! Triage speed: median latency of one tip, batch throughput on one core, and the time to load
//! the lexicon and jurisdiction and compile the triage tables. `cargo bench --bench triage`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tipline::jurisdiction::Jurisdiction;
use tipline::lexicon::Lexicon;
use tipline::triage::Triage;

const DEV: &str = include_str!("../tests/data/tips-dev.jsonl");

fn texts() -> Vec<(String, Option<String>)> {
    DEV.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            let text = v.get("text")?.as_str()?.to_owned();
            let hotline = v
                .get("hotline_district")
                .and_then(|h| h.as_str())
                .map(str::to_owned);
            Some((text, hotline))
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let mut loads = Vec::new();
    let mut triage = None;
    for _ in 0..20 {
        let start = Instant::now();
        let j = Jurisdiction::builtin()?;
        let l = Lexicon::builtin()?;
        let t = Triage::new(&j, &l)?;
        loads.push(start.elapsed());
        triage = Some(t);
    }
    let Some(triage) = triage else {
        anyhow::bail!("no triage built")
    };
    let tips = texts();
    anyhow::ensure!(!tips.is_empty(), "no sample tips");

    // Warm up, then time each tip on its own.
    for (t, h) in &tips {
        black_box(triage.assess(t, h.as_deref()));
    }
    let mut per_tip = Vec::new();
    for _ in 0..20 {
        for (t, h) in &tips {
            let start = Instant::now();
            black_box(triage.assess(black_box(t), h.as_deref()));
            per_tip.push(start.elapsed());
        }
    }

    // Batch: the sample over and over on this thread for about two seconds.
    let start = Instant::now();
    let mut done = 0usize;
    while start.elapsed() < Duration::from_secs(2) {
        for (t, h) in &tips {
            black_box(triage.assess(black_box(t), h.as_deref()));
        }
        done += tips.len();
    }
    let rate = done as f64 / start.elapsed().as_secs_f64();

    println!("triage benchmark ({} sample tips, one thread)", tips.len());
    println!(
        "  load lexicon + jurisdiction + compile tables: median {:.2} ms",
        median(loads).as_secs_f64() * 1e3
    );
    println!(
        "  one tip: median {:.1} us, p99 {:.1} us",
        median(per_tip.clone()).as_secs_f64() * 1e6,
        {
            let mut v = per_tip;
            v.sort_unstable();
            v[v.len() * 99 / 100].as_secs_f64() * 1e6
        }
    );
    println!("  batch: {rate:.0} tips/s");
    Ok(())
}
