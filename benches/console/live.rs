//! New tip → open queue page. A supervisor of the whole range keeps `/console/events` open (as
//! the queue page's script does); during the load, tips are posted to `POST /api/v1/tips` one at
//! a time at a steady rate, and each is timed from the POST's answer to the `tip` event that
//! announces it, then to the refetched queue page (what the script does on the event).
//!
//! The event names no tip (by design it says only "a tip arrived" and whether it is urgent), so
//! tips are matched to events by order: only this poster sends tips during the run, and it waits
//! for a tip's event (or a timeout) before sending the next.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::sync::mpsc;

use super::officer::Officer;

/// What the live measurement saw (milliseconds).
#[derive(Default)]
pub struct Live {
    /// POST answered → event received (0 when the event came first).
    pub to_event: Vec<f64>,
    /// POST sent → event received.
    pub from_send: Vec<f64>,
    /// POST answered → queue page refetched after the event.
    pub to_page: Vec<f64>,
    /// Events that came before the POST's answer.
    pub early: u64,
    /// Tips whose event never came within the timeout.
    pub missed: u64,
    /// Tips the API refused.
    pub refused: u64,
    pub first_error: Option<String>,
}

/// How long a tip's event may take before it counts as missed.
const EVENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Posts `per_sec` tips a second until `deadline`, timing each to its event.
pub async fn run(
    listener: Officer,
    texts: Vec<String>,
    per_sec: f64,
    deadline: Instant,
) -> anyhow::Result<Live> {
    let (tx, mut events) = mpsc::unbounded_channel();
    let stream = listener
        .events()
        .await
        .context("cannot open /console/events")?;
    if stream.status() != 200 {
        bail!("/console/events answered {}", stream.status());
    }
    let reader = tokio::spawn(read_events(stream, tx));
    let mut live = Live::default();
    let gap = Duration::from_secs_f64(1.0 / per_sec.max(0.01));
    let mut next = Instant::now();
    let mut n = 0usize;
    while next < deadline {
        tokio::time::sleep_until(next.into()).await;
        next += gap;
        while events.try_recv().is_ok() {}
        let text = format!("{} #{n}", texts[n % texts.len().max(1)]);
        n += 1;
        let sent = Instant::now();
        if let Err(e) = post(&listener, &text).await {
            live.refused += 1;
            live.first_error.get_or_insert(e.to_string());
            continue;
        }
        let answered = Instant::now();
        match tokio::time::timeout(EVENT_TIMEOUT, events.recv()).await {
            Ok(Some(at)) => {
                let ms = |d: Duration| d.as_secs_f64() * 1000.0;
                if at < answered {
                    live.early += 1;
                }
                live.to_event
                    .push(ms(at.saturating_duration_since(answered)));
                live.from_send.push(ms(at - sent));
                let page = listener.get("/console/", Some("br")).await?;
                live.to_page
                    .push(ms(at.saturating_duration_since(answered)) + ms(page.elapsed));
            }
            _ => live.missed += 1,
        }
    }
    reader.abort();
    for v in [&mut live.to_event, &mut live.from_send, &mut live.to_page] {
        v.sort_by(f64::total_cmp);
    }
    Ok(live)
}

async fn post(officer: &Officer, text: &str) -> anyhow::Result<()> {
    let body = serde_json::json!({ "text": text, "district": "bilaspur" });
    let resp = officer
        .http
        .post(format!("{}/api/v1/tips", officer.base))
        .json(&body)
        .send()
        .await?;
    if resp.status() != 201 {
        bail!("POST /api/v1/tips answered {}", resp.status());
    }
    resp.bytes().await?;
    Ok(())
}

/// Reads the event stream and sends the arrival time of every `tip` event.
async fn read_events(
    mut stream: reqwest::Response,
    tx: mpsc::UnboundedSender<Instant>,
) -> anyhow::Result<()> {
    let mut buf = String::new();
    while let Some(chunk) = stream.chunk().await? {
        let at = Instant::now();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        // Events end with a blank line; keep a partial one for the next chunk.
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if event.lines().any(|l| l == "event: tip") {
                let _ = tx.send(at);
            }
        }
    }
    Ok(())
}
