//! Background work, safe to run on several nodes at once (each batch is claimed in its own
//! transaction; on PostgreSQL with `SKIP LOCKED`). Today: the blind-index builder, which moves
//! queued search terms into the index in sorted batches, off the intake path.

use std::sync::Arc;
use std::time::Duration;

use crate::app::Core;

/// Texts moved into the index per batch: large enough to sort well, small enough not to hold
/// the SQLite writer for long.
pub const INDEX_BATCH: i64 = 500;

/// Starts the background jobs on the current runtime.
pub fn spawn(core: Arc<Core>) {
    tokio::spawn(run_indexer(core));
}

async fn run_indexer(core: Arc<Core>) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        loop {
            match core.store.index_pending_terms(INDEX_BATCH).await {
                Ok(n) if n as i64 == INDEX_BATCH => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "blind-index batch failed; will retry");
                    break;
                }
            }
        }
    }
}
