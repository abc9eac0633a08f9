//! Background work, safe to run on several nodes at once (each batch is claimed in its own
//! transaction, and every step is safe to repeat). Today: the indexer, which moves queued search
//! terms into the blind index in sorted batches and links each new tip to related earlier ones,
//! off the intake path.

use std::sync::Arc;
use std::time::Duration;

use crate::app::Core;
use crate::domain::TipId;
use crate::intake::{self, IntakeError};

/// Texts moved into the index per batch: large enough to sort well, small enough not to hold
/// the SQLite writer for long (at 100, the tips queued behind a batch made the intake
/// benchmark's p99 about 63 ms instead of 52 ms).
pub const INDEX_BATCH: i64 = 25;

/// Starts the background jobs on the current runtime.
pub fn spawn(core: Arc<Core>) {
    tokio::spawn(run_indexer(core.clone()));
    tokio::spawn(run_escalation(core.clone()));
    tokio::spawn(run_alerts(core.clone()));
    tokio::spawn(run_digest(core.clone()));
    tokio::spawn(run_media(core.clone()));
    tokio::spawn(run_outbox(core));
}

/// Stores the alerts of new urgent tips: at once when an urgent tip is announced (on any node),
/// and every second in case an announcement was missed.
async fn run_alerts(core: Arc<Core>) {
    let mut events = core.events.subscribe();
    loop {
        if let Err(e) = crate::alerts::alert_new_tips(&core).await {
            tracing::warn!(error = %e, "storing alerts failed; will retry");
        }
        tokio::select! {
            () = next_urgent(&mut events) => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Waits for an urgent tip's event, then takes every event already queued, so that one pass
/// serves a burst (a pass per ordinary tip would cost a query per tip for nothing).
async fn next_urgent(events: &mut tokio::sync::broadcast::Receiver<intake::TipEvent>) {
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};
    loop {
        match events.recv().await {
            Ok(e) if !e.urgent => continue,
            // Lagged: some events were missed, one of them may be urgent. Closed: the server is
            // stopping; the one-second pass is enough.
            Ok(_) | Err(RecvError::Lagged(_)) => break,
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
    while !matches!(
        events.try_recv(),
        Err(TryRecvError::Empty | TryRecvError::Closed)
    ) {}
}

/// Delivers the outbox: when woken by new messages, and every second for retries and for
/// messages another node left behind.
async fn run_outbox(core: Arc<Core>) {
    let client = match crate::alerts::send::client() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the HTTP client; alerts go to the live console only");
            return;
        }
    };
    loop {
        match crate::alerts::send::deliver_due(&core, &client).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox pass failed; will retry"),
        }
        tokio::select! {
            () = core.outbox_wake.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Looks at the escalation ladder every `[alerts] escalation_every_seconds`.
async fn run_escalation(core: Arc<Core>) {
    let every = Duration::from_secs(core.alerts.escalation_every_seconds);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match crate::escalation::run(&core).await {
            Ok(r) if r.escalated > 0 => {
                tracing::info!(escalated = r.escalated, "late tips escalated")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "escalation pass failed; will retry"),
        }
    }
}

/// Each minute: makes the daily digest when it is due (the store keeps it once), and forgets the
/// answers kept for providers' retries once they are a day old.
async fn run_digest(core: Arc<Core>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match crate::digest::run(&core).await {
            Ok(true) => tracing::info!("daily digest made"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "daily digest failed; will retry"),
        }
        // Answers kept for providers' retries (they hold tip numbers and secrets) go after a day.
        let day_ago = core.clock.now_ms() - 24 * 3_600_000;
        if let Err(e) = core.store.forget_answers(day_ago).await {
            tracing::warn!(error = %e, "forgetting old answers failed; will retry");
        }
    }
}

/// Fetches photos sent on provider channels, every two seconds.
async fn run_media(core: Arc<Core>) {
    let client = match crate::alerts::send::client() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the HTTP client; photos from channels are not fetched");
            return;
        }
    };
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = crate::channels::media::fetch_due(&core, &client).await {
            tracing::warn!(error = %e, "fetching photos failed; will retry");
        }
    }
}

/// Longest the indexer gives way to waiting writes (see [`run_indexer`]).
const INDEX_YIELD_MAX: Duration = Duration::from_secs(1);

/// Every half second, indexes what is queued, batch after batch. Intake comes first: while
/// writes wait for the single SQLite writer (a burst of tips), the indexer leaves it to them, but
/// runs at least one batch a second, so it keeps moving. Meanwhile search still finds the queued
/// texts (it reads the queue too) and related-tip links come a little later. With a one-batch
/// index job in most groups, the intake benchmark's writer spent about a third of its time on
/// the index.
async fn run_indexer(core: Arc<Core>) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_batch = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        loop {
            if core.store.writes_waiting() > 0 && last_batch.elapsed() < INDEX_YIELD_MAX {
                break;
            }
            last_batch = tokio::time::Instant::now();
            match index_batch(&core, INDEX_BATCH).await {
                Ok(n) if n as i64 == INDEX_BATCH => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "index batch failed; will retry");
                    break;
                }
            }
        }
    }
}

/// One batch: links the new tips among the queued texts to related earlier tips, then moves the
/// texts' terms into the index and stores the links in one transaction. Returns the texts done.
pub async fn index_batch(core: &Core, limit: i64) -> Result<usize, IntakeError> {
    let pending = core.store.pending_terms(limit).await?;
    let ids: Vec<TipId> = pending
        .iter()
        .filter(|p| p.is_tip_text())
        .map(|p| p.tip_id)
        .collect();
    let mut links = Vec::new();
    for tip in core.store.tips(&ids).await? {
        links.extend(
            intake::related_tips(core, &tip)
                .await?
                .into_iter()
                .map(|l| (tip.tip_id, l)),
        );
    }
    let done = pending.len();
    if done > 0 {
        core.store
            .finish_pending(pending, links, core.clock.now_ms())
            .await?;
    }
    Ok(done)
}
