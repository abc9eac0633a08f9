//! PostgreSQL: for production and for several nodes. Each write is its own transaction on a
//! pooled connection; PostgreSQL groups concurrent commits itself. `synchronous_commit` must be
//! on (checked on every connection): an acknowledged tip must survive a crash of the server.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};

use super::queries::postgres as q;
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

/// The NOTIFY channel live events travel on between nodes.
const EVENT_CHANNEL: &str = "tipline_events";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The PostgreSQL store.
pub struct PgStore {
    pool: PgPool,
    keys: Arc<Keys>,
}

async fn check_settings(c: &mut PgConnection) -> Result<(), sqlx::Error> {
    let (sync,): (String,) = sqlx::query_as("SHOW synchronous_commit")
        .fetch_one(&mut *c)
        .await?;
    let (fsync,): (String,) = sqlx::query_as("SHOW fsync").fetch_one(&mut *c).await?;
    if sync != "on" || fsync != "on" {
        return Err(sqlx::Error::Configuration(
            format!("PostgreSQL settings are unsafe (synchronous_commit={sync}, fsync={fsync}); both must be on").into(),
        ));
    }
    Ok(())
}

impl PgStore {
    /// Connects, checks the settings and migrates.
    pub async fn open(url: &str, keys: Arc<Keys>) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .after_connect(|c, _| Box::pin(check_settings(c)))
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool, keys })
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ready(&self) -> Result<(), StoreError> {
        let (applied,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        if applied < MIGRATOR.iter().count() as i64 {
            return Err(StoreError::Config("migrations are not all applied".into()));
        }
        Ok(())
    }

    async fn data_keys(&self) -> Result<Vec<StoredDataKey>, StoreError> {
        q::data_keys(&mut *self.pool.acquire().await?).await
    }

    async fn add_data_key(&self, key: StoredDataKey) -> Result<(), StoreError> {
        q::add_data_key(&mut *self.pool.acquire().await?, &key).await
    }

    async fn create_tip(&self, tip: NewTip) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        q::create_tips(&mut tx, &self.keys, &[&tip]).await?;
        Ok(tx.commit().await?)
    }

    async fn import_tips(
        &self,
        tips: Vec<ImportedTip>,
        audit: AuditDraft,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        q::import_tips(&mut tx, &self.keys, &tips, &audit).await?;
        Ok(tx.commit().await?)
    }

    async fn tip_auth(&self, tip_number: &str) -> Result<Option<TipAuth>, StoreError> {
        q::tip_auth(&mut *self.pool.acquire().await?, tip_number).await
    }

    async fn record_failed_guess(
        &self,
        tip_id: TipId,
        now: i64,
        window_ms: i64,
    ) -> Result<(), StoreError> {
        q::record_failed_guess(&mut *self.pool.acquire().await?, tip_id, now, window_ms).await
    }

    async fn clear_failed_guesses(&self, tip_id: TipId) -> Result<(), StoreError> {
        q::clear_failed_guesses(&mut *self.pool.acquire().await?, tip_id).await
    }

    async fn tip(&self, tip_id: TipId) -> Result<Option<TipRecord>, StoreError> {
        q::tip(&mut *self.pool.acquire().await?, tip_id).await
    }

    async fn tips(&self, ids: &[TipId]) -> Result<Vec<TipRecord>, StoreError> {
        q::tips(&mut *self.pool.acquire().await?, ids).await
    }

    async fn messages(&self, tip_id: TipId) -> Result<Vec<StoredMessage>, StoreError> {
        q::messages(&mut *self.pool.acquire().await?, tip_id).await
    }

    async fn add_message(&self, message: NewMessage) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        q::add_message(&mut tx, &self.keys, &message).await?;
        Ok(tx.commit().await?)
    }

    async fn tips_with_term(&self, term: [u8; 16], limit: i64) -> Result<Vec<TipId>, StoreError> {
        q::tips_with_term(&mut *self.pool.acquire().await?, term, limit).await
    }

    async fn audit_entries(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        q::audit_entries(&mut *self.pool.acquire().await?, after_seq, limit).await
    }

    async fn audit_head(&self) -> Result<(i64, Vec<u8>), StoreError> {
        q::audit_head(&mut *self.pool.acquire().await?).await
    }

    async fn tip_count(&self) -> Result<i64, StoreError> {
        q::tip_count(&mut *self.pool.acquire().await?).await
    }

    async fn tip_ids_after(&self, after: i64, limit: i64) -> Result<Vec<TipId>, StoreError> {
        q::tip_ids_after(&mut *self.pool.acquire().await?, after, limit).await
    }

    async fn tips_sharing_bands(
        &self,
        bands: &[Vec<u8>],
        since_id: i64,
        per_band: i64,
    ) -> Result<Vec<(TipId, Vec<u8>)>, StoreError> {
        q::tips_sharing_bands(&mut *self.pool.acquire().await?, bands, since_id, per_band).await
    }

    async fn tips_at_station(
        &self,
        station_id: &str,
        category: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<TipId>, StoreError> {
        q::tips_at_station(
            &mut *self.pool.acquire().await?,
            station_id,
            category,
            since,
            limit,
        )
        .await
    }

    async fn tip_links(&self, tip_id: TipId) -> Result<Vec<super::TipLink>, StoreError> {
        q::tip_links(&mut *self.pool.acquire().await?, tip_id).await
    }

    async fn pending_terms(&self, limit: i64) -> Result<Vec<PendingTerms>, StoreError> {
        q::pending_terms(&mut *self.pool.acquire().await?, limit).await
    }

    async fn finish_pending(
        &self,
        done: Vec<PendingTerms>,
        links: Vec<(TipId, TipLink)>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        q::finish_pending(&mut tx, &done, &links, now).await?;
        Ok(tx.commit().await?)
    }
    async fn officer(&self, officer_id: i64) -> Result<Option<OfficerRow>, StoreError> {
        q::officer(&mut *self.pool.acquire().await?, Some(officer_id), None).await
    }

    async fn officer_named(&self, username: &str) -> Result<Option<OfficerRow>, StoreError> {
        q::officer(&mut *self.pool.acquire().await?, None, Some(username)).await
    }

    async fn officers(&self) -> Result<Vec<OfficerRow>, StoreError> {
        q::officers(&mut *self.pool.acquire().await?).await
    }

    async fn create_officer(&self, officer: NewOfficer) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id = q::create_officer(&mut tx, &self.keys, &officer).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn change_officer(
        &self,
        officer_id: i64,
        change: OfficerChange,
        audit: AuditDraft,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        q::change_officer(&mut tx, &self.keys, officer_id, &change, &audit).await?;
        Ok(tx.commit().await?)
    }

    async fn create_session(
        &self,
        session_hash: [u8; 32],
        officer_id: i64,
        stage: &str,
        now: i64,
        replacing: Option<[u8; 32]>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let old = replacing.as_ref().map(|r| &r[..]);
        q::create_session(&mut tx, &session_hash, officer_id, stage, now, old).await?;
        Ok(tx.commit().await?)
    }

    async fn session(
        &self,
        session_hash: [u8; 32],
    ) -> Result<Option<(SessionRow, OfficerRow)>, StoreError> {
        q::session(&mut *self.pool.acquire().await?, &session_hash).await
    }

    async fn touch_session(&self, session_hash: [u8; 32], now: i64) -> Result<(), StoreError> {
        q::touch_session(&mut *self.pool.acquire().await?, &session_hash, now).await
    }

    async fn end_session(&self, session_hash: [u8; 32]) -> Result<(), StoreError> {
        q::end_session(&mut *self.pool.acquire().await?, &session_hash).await
    }

    async fn queue(&self, filter: QueueFilter) -> Result<Vec<QueueRow>, StoreError> {
        q::queue(&mut *self.pool.acquire().await?, &filter).await
    }

    async fn assignments(&self, tip_id: TipId) -> Result<Vec<AssignmentRow>, StoreError> {
        q::assignments(&mut *self.pool.acquire().await?, tip_id).await
    }

    async fn action_reports(&self, tip_id: TipId) -> Result<Vec<ActionReportRow>, StoreError> {
        q::action_reports(&mut *self.pool.acquire().await?, tip_id).await
    }

    async fn tips_to_alert(&self, since: i64, limit: i64) -> Result<Vec<TipId>, StoreError> {
        q::tips_to_alert(&mut *self.pool.acquire().await?, since, limit).await
    }

    async fn store_alerts(
        &self,
        batch: Vec<(TipId, Vec<NewOutbox>)>,
        now: i64,
    ) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await?;
        let stored = q::store_alerts(&mut tx, &batch, now).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn claim_outbox(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        if !q::outbox_due(&mut *self.pool.acquire().await?, now).await? {
            return Ok(Vec::new());
        }
        let mut tx = self.pool.begin().await?;
        let rows = q::claim_outbox(&mut tx, now, lease_until, limit).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn finish_outbox(
        &self,
        outbox_id: i64,
        attempt: i64,
        result: Delivery,
        now: i64,
    ) -> Result<(), StoreError> {
        q::finish_outbox(
            &mut *self.pool.acquire().await?,
            outbox_id,
            attempt,
            &result,
            now,
        )
        .await
    }

    async fn outbox_about(
        &self,
        tip_id: Option<TipId>,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        q::outbox_about(&mut *self.pool.acquire().await?, tip_id, limit).await
    }

    async fn outbox_recent(&self, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        q::outbox_recent(&mut *self.pool.acquire().await?, limit).await
    }

    async fn record_delivery(
        &self,
        provider_ref: String,
        report: DeliveryReport,
    ) -> Result<u64, StoreError> {
        q::record_delivery(&mut *self.pool.acquire().await?, &provider_ref, &report).await
    }

    async fn record_watermark(
        &self,
        recipient_ref: String,
        watermark: i64,
        report: DeliveryReport,
    ) -> Result<u64, StoreError> {
        q::record_watermark(
            &mut *self.pool.acquire().await?,
            &recipient_ref,
            watermark,
            &report,
        )
        .await
    }

    async fn district_stats(
        &self,
        now: i64,
    ) -> Result<Vec<(Option<String>, i64, i64, i64)>, StoreError> {
        q::district_stats(&mut *self.pool.acquire().await?, now).await
    }

    async fn digest_counts(
        &self,
        from: i64,
        until: i64,
        now: i64,
    ) -> Result<Vec<DigestRow>, StoreError> {
        q::digest_counts(&mut *self.pool.acquire().await?, from, until, now).await
    }

    async fn digest_done(&self, day: &str) -> Result<bool, StoreError> {
        q::digest_done(&mut *self.pool.acquire().await?, day).await
    }

    async fn store_digest(
        &self,
        rows: Vec<DigestRow>,
        mail: Vec<NewOutbox>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let stored = q::store_digest(&mut tx, &rows, &mail, now).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn digests(&self, scopes: Vec<String>, limit: i64) -> Result<Vec<DigestRow>, StoreError> {
        q::digests(&mut *self.pool.acquire().await?, &scopes, limit).await
    }

    async fn add_shift(&self, shift: NewShift) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        q::add_shift(&mut tx, &self.keys, &shift).await?;
        Ok(tx.commit().await?)
    }

    async fn shifts(&self, from: i64, until: i64) -> Result<Vec<ShiftRow>, StoreError> {
        q::shifts(&mut *self.pool.acquire().await?, from, until).await
    }

    async fn set_contacts(
        &self,
        officer_id: i64,
        phone: Option<String>,
        email: Option<String>,
        audit: AuditDraft,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        q::set_contacts(
            &mut tx,
            &self.keys,
            officer_id,
            phone.as_deref(),
            email.as_deref(),
            &audit,
        )
        .await?;
        Ok(tx.commit().await?)
    }

    async fn announce(&self, payload: &str) -> Result<bool, StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(EVENT_CHANNEL)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(true)
    }

    async fn inbound_answer(
        &self,
        channel: &str,
        provider_id: &str,
    ) -> Result<Option<(TipId, Option<Vec<u8>>)>, StoreError> {
        q::inbound_answer(&mut *self.pool.acquire().await?, channel, provider_id).await
    }

    async fn sender_tip(
        &self,
        channel: &str,
        pseudonym: &[u8],
    ) -> Result<Option<TipId>, StoreError> {
        q::sender_tip(&mut *self.pool.acquire().await?, channel, pseudonym).await
    }

    async fn senders_of(&self, tip_id: TipId) -> Result<Vec<SenderRow>, StoreError> {
        q::senders_of(&mut *self.pool.acquire().await?, tip_id).await
    }

    async fn attachments(&self, tip_id: TipId) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        q::attachments(&mut *self.pool.acquire().await?, tip_id).await
    }

    async fn attachment_copy(
        &self,
        tip_id: TipId,
        attachment_id: i64,
        copy: AttachmentCopy,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>, StoreError> {
        q::attachment_copy(
            &mut *self.pool.acquire().await?,
            tip_id,
            attachment_id,
            copy,
        )
        .await
    }

    async fn tips_acted_at_station(
        &self,
        station_id: &str,
        category: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<TipId>, StoreError> {
        q::tips_acted_at_station(
            &mut *self.pool.acquire().await?,
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
        q::linked_alarms(&mut *self.pool.acquire().await?, kind, since, limit).await
    }

    async fn persons_of(&self, tip_id: TipId) -> Result<Vec<Vec<u8>>, StoreError> {
        q::persons_of(&mut *self.pool.acquire().await?, tip_id).await
    }

    async fn tips_naming(
        &self,
        term: &[u8],
        since: i64,
        limit: i64,
    ) -> Result<Vec<TipId>, StoreError> {
        q::tips_naming(&mut *self.pool.acquire().await?, term, since, limit).await
    }

    async fn outbox_created_at(&self, outbox_key: &str) -> Result<Option<i64>, StoreError> {
        q::outbox_created_at(&mut *self.pool.acquire().await?, outbox_key).await
    }

    async fn sender_messages_since(&self, pseudonym: &[u8], since: i64) -> Result<i64, StoreError> {
        q::sender_messages_since(&mut *self.pool.acquire().await?, pseudonym, since).await
    }

    async fn media_due(&self, now: i64, limit: i64) -> Result<Vec<MediaRow>, StoreError> {
        q::media_due(&mut *self.pool.acquire().await?, now, limit).await
    }

    async fn finish_media(
        &self,
        row: MediaRow,
        done: MediaDone,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = q::finish_media(&mut tx, &row, &done, now).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn enqueue(&self, items: Vec<NewOutbox>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        q::enqueue(&mut tx, &items).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn forget_answers(&self, before: i64) -> Result<u64, StoreError> {
        q::forget_answers(&mut *self.pool.acquire().await?, before).await
    }

    async fn event_feed(&self) -> Result<Option<tokio::sync::mpsc::Receiver<String>>, StoreError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen(EVENT_CHANNEL).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(256);
        tokio::spawn(async move {
            loop {
                // The listener reconnects by itself after a lost connection.
                match listener.recv().await {
                    Ok(n) => {
                        if tx.send(n.payload().to_owned()).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "live event listener failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Some(rx))
    }

    async fn late_tips(&self, now: i64, limit: i64) -> Result<Vec<DueTip>, StoreError> {
        q::late_tips(&mut *self.pool.acquire().await?, now, limit).await
    }

    async fn escalate(&self, escalation: Escalation) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let taken = q::escalate(&mut tx, &self.keys, &escalation).await?;
        tx.commit().await?;
        Ok(taken)
    }

    async fn correct_triage(&self, correction: TriageCorrection) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        q::correct_triage(&mut tx, &self.keys, &correction).await?;
        Ok(tx.commit().await?)
    }

    async fn triage_corrections(
        &self,
        tip_id: Option<TipId>,
    ) -> Result<Vec<CorrectionRow>, StoreError> {
        q::triage_corrections(&mut *self.pool.acquire().await?, tip_id).await
    }

    async fn change_tip(&self, change: TipChange) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        q::change_tip(&mut tx, &self.keys, &change).await?;
        Ok(tx.commit().await?)
    }

    async fn record_audit(&self, draft: AuditDraft) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        q::record_audit(&mut tx, &self.keys, &draft).await?;
        Ok(tx.commit().await?)
    }

    async fn audit_about(&self, subject: &str, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        q::audit_about(&mut *self.pool.acquire().await?, subject, limit).await
    }

    async fn audit_search(&self, filter: AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        q::audit_search(&mut *self.pool.acquire().await?, &filter).await
    }

    async fn count_actions(
        &self,
        actor: &str,
        action: &str,
        since: i64,
    ) -> Result<i64, StoreError> {
        q::count_actions(&mut *self.pool.acquire().await?, actor, action, since).await
    }
}
