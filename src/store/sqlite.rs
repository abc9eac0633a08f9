//! SQLite: the embedded default. Reads go through a small pool; every write goes through one
//! writer task that owns the only writing connection and commits in groups: it takes what is
//! queued (up to `MAX_BATCH` requests), runs them in one transaction, and answers every caller
//! only after the COMMIT, so an acknowledged write is on disk (synchronous=FULL). New tips, the
//! bulk of the writes, arrive as data rather than as closures, so that a group's tips are stored
//! with a few multi-row statements (each statement is a round trip to sqlx's worker thread).
//! If anything in a group fails, the group is rolled back and each request is run again alone,
//! so one failed request never undoes another; jobs are therefore `Fn`, safe to run twice.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, Executor};
use tokio::sync::{mpsc, oneshot};

use super::queries::sqlite as q;
use super::sqlite_intake::{self, Begun};
use super::{
    ActionReportRow, AssignmentRow, AttachmentCopy, AuditDraft, AuditEntry, AuditFilter,
    CorrectionRow, Delivery, DeliveryReport, DigestRow, DueTip, Escalation, ImportedTip, MediaDone,
    MediaRow, NewMessage, NewOfficer, NewOutbox, NewShift, NewTip, OfficerChange, OfficerRow,
    OutboxRow, PendingTerms, QueueFilter, QueueRow, SenderRow, SessionRow, ShiftRow, Store,
    StoreError, StoredDataKey, StoredMessage, TipAuth, TipChange, TipLink, TipRecord,
    TriageCorrection,
};
use crate::crypto::Keys;
use crate::domain::TipId;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Most jobs committed together.
const MAX_BATCH: usize = 256;

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type Job = Box<
    dyn for<'c> Fn(&'c mut SqliteConnection) -> BoxFut<'c, Result<(), StoreError>> + Send + Sync,
>;

/// A write for the writer task.
enum Request {
    /// A new tip: batched with the other tips of its group (boxed: a tip is large).
    CreateTip(Box<NewTip>),
    /// Any other write, run as it is.
    Job(Job),
}

struct Pending {
    request: Request,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The SQLite store.
pub struct SqliteStore {
    read: SqlitePool,
    writer: mpsc::Sender<Pending>,
    keys: Arc<Keys>,
}

fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .pragma("secure_delete", "ON")
        .pragma("trusted_schema", "OFF")
        // Savepoint journals of the group commit stay in memory instead of a temporary file
        // (they never need to survive a crash: the transaction's own WAL frames do).
        .pragma("temp_store", "MEMORY")
        // A 32 MB page cache per connection, so a group of tips does not spill to disk.
        .pragma("cache_size", "-32768")
        // The server's writer hands checkpoints to another connection (see `run_writer`); this
        // is the backstop for other processes (the CLI) and for a checkpointer that falls behind.
        .pragma("wal_autocheckpoint", "4000")
}

/// Refuses a connection whose durability and safety settings are not what we rely on.
async fn check_settings(c: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let (journal,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut *c)
        .await?;
    let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
        .fetch_one(&mut *c)
        .await?;
    let (fk,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
        .fetch_one(&mut *c)
        .await?;
    let (secure,): (i64,) = sqlx::query_as("PRAGMA secure_delete")
        .fetch_one(&mut *c)
        .await?;
    let (trusted,): (i64,) = sqlx::query_as("PRAGMA trusted_schema")
        .fetch_one(&mut *c)
        .await?;
    if journal != "wal" || sync != 2 || fk != 1 || secure != 1 || trusted != 0 {
        return Err(sqlx::Error::Configuration(
            format!(
                "SQLite connection settings are unsafe (journal_mode={journal}, synchronous={sync}, \
                 foreign_keys={fk}, secure_delete={secure}, trusted_schema={trusted}); need wal, 2 (FULL), 1, 1, 0"
            )
            .into(),
        ));
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file, migrates it and starts the writer.
    pub async fn open(path: &Path, keys: Arc<Keys>) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", dir.display())))?;
        }
        let opts = options(path);
        let mut conn = SqliteConnection::connect_with(&opts).await?;
        check_settings(&mut conn).await?;
        MIGRATOR.run(&mut conn).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            // A connection to a local file does not go stale; the default ping before every
            // acquire doubles the round trips to the connection's thread for nothing.
            .test_before_acquire(false)
            .after_connect(|c, _| Box::pin(check_settings(c)))
            .connect_with(opts)
            .await?;
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(run_writer(conn, keys.clone(), rx, read.clone()));
        Ok(Self {
            read,
            writer: tx,
            keys,
        })
    }

    /// Runs `job` in the next group commit and waits until it is durable.
    async fn write<F>(&self, job: F) -> Result<(), StoreError>
    where
        F: for<'c> Fn(&'c mut SqliteConnection) -> BoxFut<'c, Result<(), StoreError>>
            + Send
            + Sync
            + 'static,
    {
        self.submit(Request::Job(Box::new(job))).await
    }

    /// A write job that returns a value: the value of the run that committed (a job runs again
    /// on its own when its group is rolled back).
    async fn write_value<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + Default + 'static,
        F: for<'c> Fn(&'c mut SqliteConnection) -> BoxFut<'c, Result<T, StoreError>>
            + Send
            + Sync
            + 'static,
    {
        let slot = Arc::new(std::sync::Mutex::new(T::default()));
        let out = slot.clone();
        let job = Arc::new(job);
        self.write(move |c| {
            let (job, slot) = (job.clone(), slot.clone());
            Box::pin(async move {
                let value = job(c).await?;
                if let Ok(mut s) = slot.lock() {
                    *s = value;
                }
                Ok(())
            })
        })
        .await?;
        let mut value = out
            .lock()
            .map_err(|_| StoreError::Config("a writer job's result was lost".into()))?;
        Ok(std::mem::take(&mut *value))
    }

    /// Queues a request for the writer and waits until it is durable (or has failed).
    async fn submit(&self, request: Request) -> Result<(), StoreError> {
        let (done, wait) = oneshot::channel();
        self.writer
            .send(Pending { request, done })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        wait.await.map_err(|_| StoreError::WriterGone)?
    }

    async fn reader(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Sqlite>, StoreError> {
        Ok(self.read.acquire().await?)
    }
}

/// A checkpoint after writes runs at most this often.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// The writer: takes what is queued (up to [`MAX_BATCH`]) and commits it as one group. After
/// writes it starts a passive checkpoint on a reading connection, so that copying the WAL into
/// the database (and its fsync) runs beside the next commits instead of inside one of them (an
/// automatic checkpoint would stall every request of that group).
async fn run_writer(
    mut conn: SqliteConnection,
    keys: Arc<Keys>,
    mut rx: mpsc::Receiver<Pending>,
    read: SqlitePool,
) {
    let mut checkpoint: Option<tokio::task::JoinHandle<()>> = None;
    let mut last_checkpoint = std::time::Instant::now();
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let (n, t0) = (batch.len(), std::time::Instant::now());
        let jobs = batch
            .iter()
            .filter(|p| matches!(p.request, Request::Job(_)))
            .count();
        run_batch(&mut conn, &keys, batch).await;
        tracing::debug!(
            requests = n,
            jobs,
            micros = t0.elapsed().as_micros() as u64,
            "group committed"
        );
        let idle = checkpoint.as_ref().is_none_or(|c| c.is_finished());
        if idle && last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            last_checkpoint = std::time::Instant::now();
            let read = read.clone();
            checkpoint = Some(tokio::spawn(async move {
                if let Err(e) = passive_checkpoint(&read).await {
                    tracing::warn!(error = %e, "WAL checkpoint failed; the automatic one remains");
                }
            }));
        }
    }
}

async fn passive_checkpoint(read: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut c = read.acquire().await?;
    c.execute("PRAGMA wal_checkpoint(PASSIVE)").await?;
    Ok(())
}

async fn run_batch(conn: &mut SqliteConnection, keys: &Keys, batch: Vec<Pending>) {
    match run_together(conn, keys, &batch).await {
        Ok(()) => {
            for p in batch {
                let _ = p.done.send(Ok(()));
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, requests = batch.len(), "group rolled back; running its requests one by one");
            for p in batch {
                let result = run_together(conn, keys, std::slice::from_ref(&p)).await;
                let _ = p.done.send(result);
            }
        }
    }
}

/// Runs requests in one transaction: all commit, or none. The tips go first, together; then the
/// jobs in their order (none of them can depend on a tip of the same group: its caller has not
/// been answered yet). A group of tips alone begins, is stored and commits in two round trips.
async fn run_together(
    conn: &mut SqliteConnection,
    keys: &Keys,
    requests: &[Pending],
) -> Result<(), StoreError> {
    let tips: Vec<&NewTip> = requests
        .iter()
        .filter_map(|p| match &p.request {
            Request::CreateTip(t) => Some(t.as_ref()),
            Request::Job(_) => None,
        })
        .collect();
    let alone = tips.len() == requests.len();
    let done = match sqlite_intake::begin_with_tips(conn, keys, &tips, alone).await {
        Ok(Begun::Committed) => return Ok(()),
        Ok(Begun::Open) => run_jobs(conn, requests).await,
        Err(e) => Err(e),
    };
    if let Err(e) = done {
        rollback(conn).await;
        return Err(e);
    }
    if let Err(e) = conn.execute("COMMIT").await {
        tracing::error!(error = %e, "sqlite writer could not commit; the group is rolled back");
        rollback(conn).await;
        return Err(e.into());
    }
    Ok(())
}

async fn run_jobs(conn: &mut SqliteConnection, requests: &[Pending]) -> Result<(), StoreError> {
    for p in requests {
        if let Request::Job(job) = &p.request {
            job(conn).await?;
        }
    }
    Ok(())
}

async fn rollback(conn: &mut SqliteConnection) {
    if let Err(e) = conn.execute("ROLLBACK").await {
        tracing::error!(error = %e, "sqlite writer could not roll back");
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn writes_waiting(&self) -> usize {
        self.writer.max_capacity() - self.writer.capacity()
    }

    async fn ready(&self) -> Result<(), StoreError> {
        let mut c = self.reader().await?;
        let (applied,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&mut *c)
                .await?;
        if applied < MIGRATOR.iter().count() as i64 {
            return Err(StoreError::Config("migrations are not all applied".into()));
        }
        Ok(())
    }

    async fn data_keys(&self) -> Result<Vec<StoredDataKey>, StoreError> {
        q::data_keys(&mut *self.reader().await?).await
    }

    async fn add_data_key(&self, key: StoredDataKey) -> Result<(), StoreError> {
        let key = Arc::new(key);
        self.write(move |c| {
            let key = key.clone();
            Box::pin(async move { q::add_data_key(c, &key).await })
        })
        .await
    }

    async fn create_tip(&self, tip: NewTip) -> Result<(), StoreError> {
        self.submit(Request::CreateTip(Box::new(tip))).await
    }

    async fn import_tips(
        &self,
        tips: Vec<ImportedTip>,
        audit: AuditDraft,
    ) -> Result<(), StoreError> {
        let keys = self.keys.clone();
        let work = Arc::new((tips, audit));
        self.write(move |c| {
            let (keys, work) = (keys.clone(), work.clone());
            Box::pin(async move { q::import_tips(c, &keys, &work.0, &work.1).await })
        })
        .await
    }

    async fn tip_auth(&self, tip_number: &str) -> Result<Option<TipAuth>, StoreError> {
        q::tip_auth(&mut *self.reader().await?, tip_number).await
    }

    async fn record_failed_guess(
        &self,
        tip_id: TipId,
        now: i64,
        window_ms: i64,
    ) -> Result<(), StoreError> {
        self.write(move |c| {
            Box::pin(async move { q::record_failed_guess(c, tip_id, now, window_ms).await })
        })
        .await
    }

    async fn clear_failed_guesses(&self, tip_id: TipId) -> Result<(), StoreError> {
        self.write(move |c| Box::pin(async move { q::clear_failed_guesses(c, tip_id).await }))
            .await
    }

    async fn tip(&self, tip_id: TipId) -> Result<Option<TipRecord>, StoreError> {
        q::tip(&mut *self.reader().await?, tip_id).await
    }

    async fn tips(&self, ids: &[TipId]) -> Result<Vec<TipRecord>, StoreError> {
        q::tips(&mut *self.reader().await?, ids).await
    }

    async fn messages(&self, tip_id: TipId) -> Result<Vec<StoredMessage>, StoreError> {
        q::messages(&mut *self.reader().await?, tip_id).await
    }

    async fn add_message(&self, message: NewMessage) -> Result<(), StoreError> {
        let keys = self.keys.clone();
        let message = Arc::new(message);
        self.write(move |c| {
            let (keys, message) = (keys.clone(), message.clone());
            Box::pin(async move { q::add_message(c, &keys, &message).await })
        })
        .await
    }

    async fn tips_with_term(&self, term: [u8; 16], limit: i64) -> Result<Vec<TipId>, StoreError> {
        q::tips_with_term(&mut *self.reader().await?, term, limit).await
    }

    async fn audit_entries(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        q::audit_entries(&mut *self.reader().await?, after_seq, limit).await
    }

    async fn audit_head(&self) -> Result<(i64, Vec<u8>), StoreError> {
        q::audit_head(&mut *self.reader().await?).await
    }

    async fn tip_count(&self) -> Result<i64, StoreError> {
        q::tip_count(&mut *self.reader().await?).await
    }

    async fn tip_ids_after(&self, after: i64, limit: i64) -> Result<Vec<TipId>, StoreError> {
        q::tip_ids_after(&mut *self.reader().await?, after, limit).await
    }

    async fn tips_sharing_bands(
        &self,
        bands: &[Vec<u8>],
        since_id: i64,
        per_band: i64,
    ) -> Result<Vec<(TipId, Vec<u8>)>, StoreError> {
        q::tips_sharing_bands(&mut *self.reader().await?, bands, since_id, per_band).await
    }

    async fn tips_at_station(
        &self,
        station_id: &str,
        category: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<TipId>, StoreError> {
        q::tips_at_station(
            &mut *self.reader().await?,
            station_id,
            category,
            since,
            limit,
        )
        .await
    }

    async fn tip_links(&self, tip_id: TipId) -> Result<Vec<super::TipLink>, StoreError> {
        q::tip_links(&mut *self.reader().await?, tip_id).await
    }

    async fn pending_terms(&self, limit: i64) -> Result<Vec<PendingTerms>, StoreError> {
        q::pending_terms(&mut *self.reader().await?, limit).await
    }

    async fn finish_pending(
        &self,
        done: Vec<PendingTerms>,
        links: Vec<(TipId, TipLink)>,
        now: i64,
    ) -> Result<(), StoreError> {
        let work = Arc::new((done, links));
        self.write(move |c| {
            let work = work.clone();
            Box::pin(async move { q::finish_pending(c, &work.0, &work.1, now).await })
        })
        .await
    }
    async fn officer(&self, officer_id: i64) -> Result<Option<OfficerRow>, StoreError> {
        q::officer(&mut *self.reader().await?, Some(officer_id), None).await
    }

    async fn officer_named(&self, username: &str) -> Result<Option<OfficerRow>, StoreError> {
        q::officer(&mut *self.reader().await?, None, Some(username)).await
    }

    async fn officers(&self) -> Result<Vec<OfficerRow>, StoreError> {
        q::officers(&mut *self.reader().await?).await
    }

    async fn create_officer(&self, officer: NewOfficer) -> Result<i64, StoreError> {
        let keys = self.keys.clone();
        let officer = Arc::new(officer);
        let id = Arc::new(std::sync::Mutex::new(0i64));
        let out = id.clone();
        self.write(move |c| {
            let (keys, officer, id) = (keys.clone(), officer.clone(), id.clone());
            Box::pin(async move {
                let new_id = q::create_officer(c, &keys, &officer).await?;
                if let Ok(mut slot) = id.lock() {
                    *slot = new_id;
                }
                Ok(())
            })
        })
        .await?;
        let id = out.lock().map(|v| *v).unwrap_or_default();
        Ok(id)
    }

    async fn change_officer(
        &self,
        officer_id: i64,
        change: OfficerChange,
        audit: AuditDraft,
    ) -> Result<(), StoreError> {
        let keys = self.keys.clone();
        let work = Arc::new((change, audit));
        self.write(move |c| {
            let (keys, work) = (keys.clone(), work.clone());
            Box::pin(async move { q::change_officer(c, &keys, officer_id, &work.0, &work.1).await })
        })
        .await
    }

    async fn create_session(
        &self,
        session_hash: [u8; 32],
        officer_id: i64,
        stage: &str,
        now: i64,
        replacing: Option<[u8; 32]>,
    ) -> Result<(), StoreError> {
        let stage = stage.to_owned();
        self.write(move |c| {
            let stage = stage.clone();
            Box::pin(async move {
                q::create_session(
                    c,
                    &session_hash,
                    officer_id,
                    &stage,
                    now,
                    replacing.as_ref().map(|r| &r[..]),
                )
                .await
            })
        })
        .await
    }

    async fn session(
        &self,
        session_hash: [u8; 32],
    ) -> Result<Option<(SessionRow, OfficerRow)>, StoreError> {
        q::session(&mut *self.reader().await?, &session_hash).await
    }

    async fn touch_session(&self, session_hash: [u8; 32], now: i64) -> Result<(), StoreError> {
        self.write(move |c| Box::pin(async move { q::touch_session(c, &session_hash, now).await }))
            .await
    }

    async fn end_session(&self, session_hash: [u8; 32]) -> Result<(), StoreError> {
        self.write(move |c| Box::pin(async move { q::end_session(c, &session_hash).await }))
            .await
    }

    async fn queue(&self, filter: QueueFilter) -> Result<Vec<QueueRow>, StoreError> {
        q::queue(&mut *self.reader().await?, &filter).await
    }

    async fn assignments(&self, tip_id: TipId) -> Result<Vec<AssignmentRow>, StoreError> {
        q::assignments(&mut *self.reader().await?, tip_id).await
    }

    async fn action_reports(&self, tip_id: TipId) -> Result<Vec<ActionReportRow>, StoreError> {
        q::action_reports(&mut *self.reader().await?, tip_id).await
    }

    async fn change_tip(&self, change: TipChange) -> Result<(), StoreError> {
        let keys = self.keys.clone();
        let change = Arc::new(change);
        self.write(move |c| {
            let (keys, change) = (keys.clone(), change.clone());
            Box::pin(async move { q::change_tip(c, &keys, &change).await })
        })
        .await
    }

    async fn tips_to_alert(&self, since: i64, limit: i64) -> Result<Vec<TipId>, StoreError> {
        q::tips_to_alert(&mut *self.reader().await?, since, limit).await
    }

    async fn store_alerts(
        &self,
        batch: Vec<(TipId, Vec<NewOutbox>)>,
        now: i64,
    ) -> Result<usize, StoreError> {
        let batch = Arc::new(batch);
        self.write_value(move |c| {
            let batch = batch.clone();
            Box::pin(async move { q::store_alerts(c, &batch, now).await })
        })
        .await
    }

    async fn claim_outbox(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        // A read first: the writer (and a disk flush) only when something is due.
        if !q::outbox_due(&mut *self.reader().await?, now).await? {
            return Ok(Vec::new());
        }
        self.write_value(move |c| Box::pin(q::claim_outbox(c, now, lease_until, limit)))
            .await
    }

    async fn finish_outbox(
        &self,
        outbox_id: i64,
        attempt: i64,
        result: Delivery,
        now: i64,
    ) -> Result<(), StoreError> {
        let result = Arc::new(result);
        self.write(move |c| {
            let result = result.clone();
            Box::pin(async move { q::finish_outbox(c, outbox_id, attempt, &result, now).await })
        })
        .await
    }

    async fn outbox_about(
        &self,
        tip_id: Option<TipId>,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        q::outbox_about(&mut *self.reader().await?, tip_id, limit).await
    }

    async fn outbox_recent(&self, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        q::outbox_recent(&mut *self.reader().await?, limit).await
    }

    async fn record_delivery(
        &self,
        provider_ref: String,
        report: DeliveryReport,
    ) -> Result<u64, StoreError> {
        let args = Arc::new((provider_ref, report));
        self.write_value(move |c| {
            let args = args.clone();
            Box::pin(async move { q::record_delivery(c, &args.0, &args.1).await })
        })
        .await
    }

    async fn record_watermark(
        &self,
        recipient_ref: String,
        watermark: i64,
        report: DeliveryReport,
    ) -> Result<u64, StoreError> {
        let args = Arc::new((recipient_ref, report));
        self.write_value(move |c| {
            let args = args.clone();
            Box::pin(async move { q::record_watermark(c, &args.0, watermark, &args.1).await })
        })
        .await
    }

    async fn district_stats(
        &self,
        now: i64,
    ) -> Result<Vec<(Option<String>, i64, i64, i64)>, StoreError> {
        q::district_stats(&mut *self.reader().await?, now).await
    }

    async fn digest_counts(
        &self,
        from: i64,
        until: i64,
        now: i64,
    ) -> Result<Vec<DigestRow>, StoreError> {
        q::digest_counts(&mut *self.reader().await?, from, until, now).await
    }

    async fn digest_done(&self, day: &str) -> Result<bool, StoreError> {
        q::digest_done(&mut *self.reader().await?, day).await
    }

    async fn store_digest(
        &self,
        rows: Vec<DigestRow>,
        mail: Vec<NewOutbox>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let both = Arc::new((rows, mail));
        self.write_value(move |c| {
            let both = both.clone();
            Box::pin(async move { q::store_digest(c, &both.0, &both.1, now).await })
        })
        .await
    }

    async fn digests(&self, scopes: Vec<String>, limit: i64) -> Result<Vec<DigestRow>, StoreError> {
        q::digests(&mut *self.reader().await?, &scopes, limit).await
    }

    async fn add_shift(&self, shift: NewShift) -> Result<(), StoreError> {
        let keys = self.keys.clone();
        let shift = Arc::new(shift);
        self.write(move |c| {
            let (keys, shift) = (keys.clone(), shift.clone());
            Box::pin(async move { q::add_shift(c, &keys, &shift).await })
        })
        .await
    }

    async fn shifts(&self, from: i64, until: i64) -> Result<Vec<ShiftRow>, StoreError> {
        q::shifts(&mut *self.reader().await?, from, until).await
    }

    async fn set_contacts(
        &self,
        officer_id: i64,
        phone: Option<String>,
        email: Option<String>,
        audit: AuditDraft,
    ) -> Result<(), StoreError> {
        let keys = self.keys.clone();
        let change = Arc::new((phone, email, audit));
        self.write(move |c| {
            let (keys, change) = (keys.clone(), change.clone());
            Box::pin(async move {
                let (phone, email, audit) = &*change;
                q::set_contacts(
                    c,
                    &keys,
                    officer_id,
                    phone.as_deref(),
                    email.as_deref(),
                    audit,
                )
                .await
            })
        })
        .await
    }

    async fn announce(&self, _payload: &str) -> Result<bool, StoreError> {
        Ok(false)
    }

    async fn inbound_answer(
        &self,
        channel: &str,
        provider_id: &str,
    ) -> Result<Option<(TipId, Option<Vec<u8>>)>, StoreError> {
        q::inbound_answer(&mut *self.reader().await?, channel, provider_id).await
    }

    async fn sender_tip(
        &self,
        channel: &str,
        pseudonym: &[u8],
    ) -> Result<Option<TipId>, StoreError> {
        q::sender_tip(&mut *self.reader().await?, channel, pseudonym).await
    }

    async fn senders_of(&self, tip_id: TipId) -> Result<Vec<SenderRow>, StoreError> {
        q::senders_of(&mut *self.reader().await?, tip_id).await
    }

    async fn attachments(&self, tip_id: TipId) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        q::attachments(&mut *self.reader().await?, tip_id).await
    }

    async fn attachment_copy(
        &self,
        tip_id: TipId,
        attachment_id: i64,
        copy: AttachmentCopy,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>, StoreError> {
        q::attachment_copy(&mut *self.reader().await?, tip_id, attachment_id, copy).await
    }

    async fn tips_acted_at_station(
        &self,
        station_id: &str,
        category: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<TipId>, StoreError> {
        q::tips_acted_at_station(
            &mut *self.reader().await?,
            station_id,
            category,
            since,
            limit,
        )
        .await
    }

    async fn linked_alarms(
        &self,
        kind: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<(String, Option<String>, i64)>, StoreError> {
        q::linked_alarms(&mut *self.reader().await?, kind, since, limit).await
    }

    async fn persons_of(&self, tip_id: TipId) -> Result<Vec<Vec<u8>>, StoreError> {
        q::persons_of(&mut *self.reader().await?, tip_id).await
    }

    async fn tips_naming(
        &self,
        term: &[u8],
        since: i64,
        limit: i64,
    ) -> Result<Vec<TipId>, StoreError> {
        q::tips_naming(&mut *self.reader().await?, term, since, limit).await
    }

    async fn outbox_created_at(&self, outbox_key: &str) -> Result<Option<i64>, StoreError> {
        q::outbox_created_at(&mut *self.reader().await?, outbox_key).await
    }

    async fn sender_messages_since(&self, pseudonym: &[u8], since: i64) -> Result<i64, StoreError> {
        q::sender_messages_since(&mut *self.reader().await?, pseudonym, since).await
    }

    async fn media_due(&self, now: i64, limit: i64) -> Result<Vec<MediaRow>, StoreError> {
        q::media_due(&mut *self.reader().await?, now, limit).await
    }

    async fn finish_media(
        &self,
        row: MediaRow,
        done: MediaDone,
        now: i64,
    ) -> Result<bool, StoreError> {
        let work = Arc::new((row, done));
        self.write_value(move |c| {
            let work = work.clone();
            Box::pin(async move { q::finish_media(c, &work.0, &work.1, now).await })
        })
        .await
    }

    async fn enqueue(&self, items: Vec<NewOutbox>) -> Result<(), StoreError> {
        let items = Arc::new(items);
        self.write(move |c| {
            let items = items.clone();
            Box::pin(async move { q::enqueue(c, &items).await })
        })
        .await
    }

    async fn forget_answers(&self, before: i64) -> Result<u64, StoreError> {
        self.write_value(move |c| Box::pin(async move { q::forget_answers(c, before).await }))
            .await
    }

    async fn event_feed(&self) -> Result<Option<tokio::sync::mpsc::Receiver<String>>, StoreError> {
        Ok(None)
    }

    async fn late_tips(&self, now: i64, limit: i64) -> Result<Vec<DueTip>, StoreError> {
        q::late_tips(&mut *self.reader().await?, now, limit).await
    }

    async fn escalate(&self, escalation: Escalation) -> Result<bool, StoreError> {
        let keys = self.keys.clone();
        let escalation = Arc::new(escalation);
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        self.write(move |c| {
            let (keys, escalation, flag) = (keys.clone(), escalation.clone(), flag.clone());
            Box::pin(async move {
                let taken = q::escalate(c, &keys, &escalation).await?;
                flag.store(taken, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            })
        })
        .await?;
        Ok(done.load(std::sync::atomic::Ordering::Relaxed))
    }

    async fn correct_triage(&self, correction: TriageCorrection) -> Result<(), StoreError> {
        let keys = self.keys.clone();
        let correction = Arc::new(correction);
        self.write(move |c| {
            let (keys, correction) = (keys.clone(), correction.clone());
            Box::pin(async move { q::correct_triage(c, &keys, &correction).await })
        })
        .await
    }

    async fn triage_corrections(
        &self,
        tip_id: Option<TipId>,
    ) -> Result<Vec<CorrectionRow>, StoreError> {
        q::triage_corrections(&mut *self.reader().await?, tip_id).await
    }

    async fn record_audit(&self, draft: AuditDraft) -> Result<(), StoreError> {
        let keys = self.keys.clone();
        let draft = Arc::new(draft);
        self.write(move |c| {
            let (keys, draft) = (keys.clone(), draft.clone());
            Box::pin(async move { q::record_audit(c, &keys, &draft).await })
        })
        .await
    }

    async fn audit_about(&self, subject: &str, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        q::audit_about(&mut *self.reader().await?, subject, limit).await
    }

    async fn audit_search(&self, filter: AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        q::audit_search(&mut *self.reader().await?, &filter).await
    }

    async fn count_actions(
        &self,
        actor: &str,
        action: &str,
        since: i64,
    ) -> Result<i64, StoreError> {
        q::count_actions(&mut *self.reader().await?, actor, action, since).await
    }
}
