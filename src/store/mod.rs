//! Storage: the only place with SQL. A narrow [`Store`] trait named after what the app needs, with
//! a SQLite implementation (the default; one writer task that commits in groups, WAL with
//! synchronous=FULL checked on every connection) and a PostgreSQL one. Each backend has its own
//! migrations folder, numbered alike; the queries are written once (`queries.rs`) and expanded for
//! both. Every write that records an action appends its audit row in the same transaction.
//! Content arrives here already sealed: this module never sees tip text in clear.

mod console;
#[macro_use]
mod console_queries;
mod postgres;
mod queries;
mod sqlite;
mod sqlite_intake;

use std::sync::Arc;

use async_trait::async_trait;

use crate::crypto::Keys;
use crate::domain::TipId;

pub use console::{
    ActionReportRow, AssignmentRow, AuditFilter, CorrectionRow, Delivery, DeliveryReport,
    DigestRow, DueTip, Escalation, NewActionReport, NewAssignment, NewOfficer, NewOutbox, NewShift,
    OfficerChange, OfficerRow, OutboxRow, QueueFilter, QueueRow, SessionRow, ShiftRow, TipChange,
    TriageCorrection, TriageField, TriageFix,
};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value (a tip number) is taken; the caller may retry with another.
    #[error("conflict: {0} already exists")]
    Conflict(&'static str),
    /// The database URL or file is not usable.
    #[error("database configuration: {0}")]
    Config(String),
    /// The database refused or failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The group-commit writer has stopped.
    #[error("the database writer has stopped")]
    WriterGone,
}

/// Statuses of tips still being worked on (the queue's default).
pub const OPEN_STATUSES: [&str; 5] = [
    "new",
    "acknowledged",
    "assigned",
    "in_action",
    "action_taken",
];

/// [`OPEN_STATUSES`] as an SQL list, written out so that the planner can match the partial
/// indexes of open tips (migration 0010).
pub fn open_statuses_sql() -> String {
    OPEN_STATUSES.map(|s| format!("'{s}'")).join(", ")
}

/// The deadline of the step a tip is on (acknowledge when new, first action when acknowledged,
/// the report when assigned or in action; none after), as SQL over the `tip` table. The
/// escalation clock is reset to it on every step, and the digest counts tips past it.
pub const CURRENT_DUE_SQL: &str = "CASE status WHEN 'new' THEN ack_due_at \
     WHEN 'acknowledged' THEN action_due_at WHEN 'assigned' THEN report_due_at \
     WHEN 'in_action' THEN report_due_at ELSE NULL END";

/// A data key as stored: wrapped by the master key.
#[derive(Clone, Debug)]
pub struct StoredDataKey {
    /// The district id, or `_range` for tips without a district.
    pub scope: String,
    /// Version, starting at 1.
    pub version: i64,
    /// The wrapped key.
    pub wrapped: Vec<u8>,
    /// When it was created.
    pub created_at: i64,
}

/// One audit entry to append; the store numbers and chains it.
#[derive(Clone, Debug)]
pub struct AuditDraft {
    /// Who acted: `tipster`, `officer:<id>`, `system`. Never a person's identity or address.
    pub actor: String,
    /// What was done, e.g. `tip.create`.
    pub action: String,
    /// What it was done to, e.g. `tip:<id>`.
    pub subject: String,
    /// Non-sensitive facts as JSON (never tip text).
    pub detail: String,
    /// When, in Unix milliseconds.
    pub created_at: i64,
}

/// A stored audit entry.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    /// When.
    pub created_at: i64,
    /// Who acted.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// To what.
    pub subject: String,
    /// Non-sensitive detail.
    pub detail: String,
    /// MAC of the entry before.
    pub prev_mac: Vec<u8>,
    /// MAC of this entry.
    pub entry_mac: Vec<u8>,
}

/// A new tip, sealed and ready to store.
#[derive(Clone, Debug)]
pub struct NewTip {
    /// Internal id (also the sealing associated data).
    pub tip_id: TipId,
    /// The tip number.
    pub tip_number: String,
    /// Keyed hash of the secret.
    pub secret_mac: Vec<u8>,
    /// Channel name.
    pub channel: String,
    /// District, if known.
    pub district_id: Option<String>,
    /// Station, if known.
    pub station_id: Option<String>,
    /// Category id, if known.
    pub category: Option<String>,
    /// Status name.
    pub status: String,
    /// Whether the tipster says it is happening now.
    pub happening_now: bool,
    /// The tipster's language code.
    pub language: String,
    /// Whose data key sealed the content.
    pub key_scope: String,
    /// The sealed text.
    pub text_sealed: Vec<u8>,
    /// The sealed place, if given.
    pub place_sealed: Option<Vec<u8>>,
    /// The sealed time description, if given.
    pub when_sealed: Option<Vec<u8>>,
    /// Triage: `urgent`, `high`, `normal` or `low`.
    pub priority: String,
    /// Triage: needs a response within the hour.
    pub urgent: bool,
    /// Triage: the tip alleges police involvement.
    pub police_involvement: bool,
    /// Triage: the station the tip accuses, which must never receive it.
    pub barred_station_id: Option<String>,
    /// Triage: the full assessment (with the words that decided it), sealed.
    pub triage_sealed: Option<Vec<u8>>,
    /// Blind-index terms.
    pub terms: Vec<[u8; 16]>,
    /// MinHash fingerprint of the terms (see `search::Fingerprint`).
    pub fingerprint: Option<Vec<u8>>,
    /// The fingerprint's band keys, indexed to find near-duplicates.
    pub bands: Vec<Vec<u8>>,
    /// Deadlines from the policy in force on arrival.
    pub deadlines: Option<crate::policy::TipDeadlines>,
    /// When, in Unix milliseconds.
    pub created_at: i64,
    /// The provider message that brought it, if it came on a provider channel.
    pub inbound: Option<NewInbound>,
    /// Photos sent with it, sealed.
    pub attachments: Vec<NewAttachment>,
    /// Keyed terms of the people it names.
    pub persons: Vec<[u8; 16]>,
    /// The audit entry recording the creation.
    pub audit: AuditDraft,
}

/// A tip made by `tipline generate` for benchmarks, with the state a real tip reaches over its
/// life: its status and last change, and the dispatch that got it there. Its terms go straight to
/// the blind index, as the indexer would have left them; the `audit` draft of `tip` is not
/// written (a whole import is recorded by one entry).
#[derive(Clone, Debug)]
pub struct ImportedTip {
    /// The sealed tip, as intake made it (its `status` is the one it has reached).
    pub tip: NewTip,
    /// When it last changed.
    pub updated_at: i64,
    /// Its dispatch to a station, with when it was made.
    pub assignment: Option<(NewAssignment, i64)>,
}

/// A text's search terms waiting for the background indexer.
#[derive(Clone, Debug)]
pub struct PendingTerms {
    /// The tip's id for its own text, a message's id for a message.
    pub source_id: i64,
    /// The tip the text belongs to.
    pub tip_id: TipId,
    /// The terms, 16 bytes each.
    pub terms: Vec<u8>,
}

impl PendingTerms {
    /// True when this is the tip's own text (not a later message).
    pub fn is_tip_text(&self) -> bool {
        self.source_id == self.tip_id.get()
    }
}

/// A link from a tip to an earlier related one. Tips are linked, never merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TipLink {
    /// The earlier tip.
    pub related_tip_id: TipId,
    /// `near_duplicate` (the same words) or `same_place` (same station and category, days apart).
    pub kind: String,
    /// Similarity in percent (100 for `same_place`).
    pub score: i64,
}

/// A message on a tip's thread, sealed.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// Message id (also the sealing associated data).
    pub message_id: i64,
    /// The tip.
    pub tip_id: TipId,
    /// `tipster` or `police`.
    pub author: String,
    /// Sealed body.
    pub body_sealed: Vec<u8>,
    /// Blind-index terms to add for the tip.
    pub terms: Vec<[u8; 16]>,
    /// When.
    pub created_at: i64,
    /// The provider message that brought it, if any.
    pub inbound: Option<NewInbound>,
    /// Messages to send with it (a police question relayed to the tipster's channel).
    pub outbox: Vec<NewOutbox>,
    /// The audit entry recording it.
    pub audit: AuditDraft,
}

/// A provider message stored with the tip or message it brought: its id (stored once), the
/// answer given (sealed, for the provider's retries) and the sender's pseudonym and sealed
/// address (so that later messages join the tip and police questions reach the sender).
#[derive(Clone, Debug)]
pub struct NewInbound {
    /// `sms`, `whatsapp`, ...
    pub channel: String,
    /// The provider's message id.
    pub provider_id: String,
    /// HMAC of the sender's address.
    pub pseudonym: Vec<u8>,
    /// The sender's address, sealed under the range key.
    pub reply_sealed: Vec<u8>,
    /// The answer given, sealed under the tip's key.
    pub answer_sealed: Vec<u8>,
    /// The answer to send, where the provider is not answered in the webhook's response.
    pub answer_outbox: Vec<NewOutbox>,
    /// The sender is flooding: the tip is marked.
    pub flood: bool,
    /// Photos to fetch from the provider.
    pub media: Vec<NewMedia>,
}

/// Which copy of an attachment to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachmentCopy {
    /// Without identifying metadata, or with the voice disguised: what officers see and hear.
    Clean,
    /// As received (evidence; a recording's original only on release).
    Original,
}

/// A photo to fetch from a provider: an id, and the provider's reference (and what to fetch it
/// through) sealed under the range key.
#[derive(Clone, Debug)]
pub struct NewMedia {
    /// Id (also the sealing associated data).
    pub media_id: i64,
    /// `meta`, `telegram`.
    pub provider: String,
    /// The sealed reference.
    pub ref_sealed: Vec<u8>,
}

/// A photo waiting to be fetched.
#[derive(Clone, Debug)]
pub struct MediaRow {
    /// Id.
    pub media_id: i64,
    /// The tip it belongs to.
    pub tip_id: TipId,
    /// Provider.
    pub provider: String,
    /// The sealed reference.
    pub ref_sealed: Vec<u8>,
    /// Attempts so far.
    pub attempts: i64,
}

/// How a fetch ended.
#[derive(Clone, Debug)]
pub enum MediaDone {
    /// Fetched: the photo, sealed, becomes an attachment.
    Stored(NewAttachment),
    /// Try again at this time.
    Retry(i64),
    /// Given up (not a photo, or too many attempts).
    Dropped,
}

/// A photo of a tip, sealed under the tip's key: the original (evidence), the copy without
/// metadata (what officers see), and its facts (type, size, SHA-256).
#[derive(Clone, Debug)]
pub struct NewAttachment {
    /// Id (also the sealing associated data).
    pub attachment_id: i64,
    /// The original bytes, sealed.
    pub original_sealed: Vec<u8>,
    /// The cleaned copy, sealed.
    pub clean_sealed: Vec<u8>,
    /// The facts as JSON, sealed.
    pub facts_sealed: Vec<u8>,
}

/// A sender's way back, as stored.
#[derive(Clone, Debug)]
pub struct SenderRow {
    /// Channel.
    pub channel: String,
    /// The tip.
    pub tip_id: TipId,
    /// The sealed address.
    pub reply_sealed: Option<Vec<u8>>,
    /// The sender's last message.
    pub last_seen_at: i64,
}

/// What the follow-up check needs of a tip.
#[derive(Clone, Debug)]
pub struct TipAuth {
    /// The tip.
    pub tip_id: TipId,
    /// Keyed hash of the secret.
    pub secret_mac: Vec<u8>,
    /// Wrong guesses in the current window.
    pub guess_failures: i64,
    /// When the current window started.
    pub guess_window_start: i64,
}

/// A tip as its tipster may see it (content still sealed).
#[derive(Clone, Debug)]
pub struct TipRecord {
    /// Internal id.
    pub tip_id: TipId,
    /// The tip number.
    pub tip_number: String,
    /// Status name.
    pub status: String,
    /// District id.
    pub district_id: Option<String>,
    /// Category id.
    pub category: Option<String>,
    /// Station id.
    pub station_id: Option<String>,
    /// Triage priority.
    pub priority: String,
    /// Needs a response within the hour.
    pub urgent: bool,
    /// Alleges police involvement.
    pub police_involvement: bool,
    /// Its sender sent more messages in an hour than a person would.
    pub flooded: bool,
    /// The station that must never receive it.
    pub barred_station_id: Option<String>,
    /// Channel name.
    pub channel: String,
    /// Whose data key sealed the content.
    pub key_scope: String,
    /// Sealed text.
    pub text_sealed: Vec<u8>,
    /// The triage assessment as JSON (with the words that decided it), sealed.
    pub triage_sealed: Option<Vec<u8>>,
    /// Deadlines set on arrival (none for tips stored before deadlines existed).
    pub deadlines: Option<crate::policy::TipDeadlines>,
    /// MinHash fingerprint of its terms.
    pub fingerprint: Option<Vec<u8>>,
    /// When it arrived.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

/// A stored message (sealed).
#[derive(Clone, Debug)]
pub struct StoredMessage {
    /// Message id.
    pub message_id: i64,
    /// `tipster` or `police`.
    pub author: String,
    /// Sealed body.
    pub body_sealed: Vec<u8>,
    /// When.
    pub created_at: i64,
}

/// The storage the app needs. Implemented for SQLite and PostgreSQL.
#[async_trait]
pub trait Store: Send + Sync {
    /// The database answers and the migrations are applied.
    async fn ready(&self) -> Result<(), StoreError>;
    /// All wrapped data keys.
    async fn data_keys(&self) -> Result<Vec<StoredDataKey>, StoreError>;
    /// Adds a data key unless one with the same scope and version exists (another node won).
    async fn add_data_key(&self, key: StoredDataKey) -> Result<(), StoreError>;
    /// Stores a new tip with its terms and audit entry in one transaction.
    async fn create_tip(&self, tip: NewTip) -> Result<(), StoreError>;
    /// Stores generated tips, their index terms, bands and dispatches, and one audit entry for
    /// the lot, in one transaction (`tipline generate`). A taken tip number fails the whole call
    /// with [`StoreError::Conflict`].
    async fn import_tips(
        &self,
        tips: Vec<ImportedTip>,
        audit: AuditDraft,
    ) -> Result<(), StoreError>;
    /// What the follow-up check needs, by tip number.
    async fn tip_auth(&self, tip_number: &str) -> Result<Option<TipAuth>, StoreError>;
    /// Counts a wrong secret for a tip (no record of who guessed).
    async fn record_failed_guess(
        &self,
        tip_id: TipId,
        now: i64,
        window_ms: i64,
    ) -> Result<(), StoreError>;
    /// Clears the wrong-guess count after a right guess.
    async fn clear_failed_guesses(&self, tip_id: TipId) -> Result<(), StoreError>;
    /// A tip as its tipster may see it.
    async fn tip(&self, tip_id: TipId) -> Result<Option<TipRecord>, StoreError>;
    /// Tips by id (those that exist), in id order, with few round trips.
    async fn tips(&self, ids: &[TipId]) -> Result<Vec<TipRecord>, StoreError>;
    /// The messages on a tip's thread, oldest first.
    async fn messages(&self, tip_id: TipId) -> Result<Vec<StoredMessage>, StoreError>;
    /// Adds a message (and its search terms and audit entry) in one transaction.
    async fn add_message(&self, message: NewMessage) -> Result<(), StoreError>;
    /// Up to `limit` texts whose terms wait for the blind index, oldest first.
    async fn pending_terms(&self, limit: i64) -> Result<Vec<PendingTerms>, StoreError>;
    /// In one transaction: moves these texts' terms into the blind index, stores the links found
    /// for their tips, and removes them from the queue.
    async fn finish_pending(
        &self,
        done: Vec<PendingTerms>,
        links: Vec<(TipId, TipLink)>,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Tips whose text contains the word with this blind-index term, newest first (indexed or
    /// still queued).
    async fn tips_with_term(&self, term: [u8; 16], limit: i64) -> Result<Vec<TipId>, StoreError>;
    /// Audit entries after `after_seq`, in order.
    async fn audit_entries(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// The recorded end of the audit chain: last sequence number and MAC.
    async fn audit_head(&self) -> Result<(i64, Vec<u8>), StoreError>;
    /// Number of tips stored.
    async fn tip_count(&self) -> Result<i64, StoreError>;
    /// The newest tips with ids from `since_id` on sharing a fingerprint band, at most `per_band`
    /// per band: (id, fingerprint).
    async fn tips_sharing_bands(
        &self,
        bands: &[Vec<u8>],
        since_id: i64,
        per_band: i64,
    ) -> Result<Vec<(TipId, Vec<u8>)>, StoreError>;
    /// Tips since `since` about the same station and category, newest first.
    async fn tips_at_station(
        &self,
        station_id: &str,
        category: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<TipId>, StoreError>;
    /// The links from a tip to earlier related tips.
    async fn tip_links(&self, tip_id: TipId) -> Result<Vec<TipLink>, StoreError>;
    /// Tip ids greater than `after`, in id order (for exports and whole-database checks).
    async fn tip_ids_after(&self, after: i64, limit: i64) -> Result<Vec<TipId>, StoreError>;

    /// An officer by id.
    async fn officer(&self, officer_id: i64) -> Result<Option<OfficerRow>, StoreError>;
    /// An officer by login name.
    async fn officer_named(&self, username: &str) -> Result<Option<OfficerRow>, StoreError>;
    /// Every officer.
    async fn officers(&self) -> Result<Vec<OfficerRow>, StoreError>;
    /// Adds an officer with its audit entry; returns the new id.
    async fn create_officer(&self, officer: NewOfficer) -> Result<i64, StoreError>;
    /// Changes an account with its audit entry (ending sessions where the change requires).
    async fn change_officer(
        &self,
        officer_id: i64,
        change: OfficerChange,
        audit: AuditDraft,
    ) -> Result<(), StoreError>;
    /// Starts a session, removing the one it replaces.
    async fn create_session(
        &self,
        session_hash: [u8; 32],
        officer_id: i64,
        stage: &str,
        now: i64,
        replacing: Option<[u8; 32]>,
    ) -> Result<(), StoreError>;
    /// A session and its officer.
    async fn session(
        &self,
        session_hash: [u8; 32],
    ) -> Result<Option<(SessionRow, OfficerRow)>, StoreError>;
    /// Marks a session as used now.
    async fn touch_session(&self, session_hash: [u8; 32], now: i64) -> Result<(), StoreError>;
    /// Ends a session.
    async fn end_session(&self, session_hash: [u8; 32]) -> Result<(), StoreError>;
    /// The queue.
    async fn queue(&self, filter: QueueFilter) -> Result<Vec<QueueRow>, StoreError>;
    /// A tip's dispatches to stations and units.
    async fn assignments(&self, tip_id: TipId) -> Result<Vec<AssignmentRow>, StoreError>;
    /// A tip's action-taken reports.
    async fn action_reports(&self, tip_id: TipId) -> Result<Vec<ActionReportRow>, StoreError>;
    /// Applies a state change of a tip with its audit entry, if the tip is still in the status
    /// the officer saw (else `Conflict`).
    async fn change_tip(&self, change: TipChange) -> Result<(), StoreError>;
    /// Writes queued for the store's single writer (SQLite); 0 where writers run in parallel.
    fn writes_waiting(&self) -> usize {
        0
    }
    /// Shares a live event with every node (PostgreSQL NOTIFY); false if this backend has one
    /// node only (SQLite), so the caller delivers it locally.
    async fn announce(&self, payload: &str) -> Result<bool, StoreError>;
    /// A provider message seen before: the tip it went to and the sealed answer (if still kept).
    async fn inbound_answer(
        &self,
        channel: &str,
        provider_id: &str,
    ) -> Result<Option<(TipId, Option<Vec<u8>>)>, StoreError>;
    /// The newest open tip this sender (pseudonym) wrote on this channel.
    async fn sender_tip(
        &self,
        channel: &str,
        pseudonym: &[u8],
    ) -> Result<Option<TipId>, StoreError>;
    /// The ways back to a tip's senders on provider channels.
    async fn senders_of(&self, tip_id: TipId) -> Result<Vec<SenderRow>, StoreError>;
    /// A tip's attachments: (id, sealed facts), oldest first.
    async fn attachments(&self, tip_id: TipId) -> Result<Vec<(i64, Vec<u8>)>, StoreError>;
    /// One attachment's cleaned copy and facts, sealed; `None` if the tip has no such attachment.
    async fn attachment_copy(
        &self,
        tip_id: TipId,
        attachment_id: i64,
        copy: AttachmentCopy,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>, StoreError>;
    /// Tips at a station in a category closed after an action-taken report since `since`.
    async fn tips_acted_at_station(
        &self,
        station_id: &str,
        category: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<TipId>, StoreError>;
    /// Tips since `since` with a link of `kind` (`repeat_after_action`, `same_person_burst`):
    /// (number, district, time), newest first.
    async fn linked_alarms(
        &self,
        kind: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<(String, Option<String>, i64)>, StoreError>;
    /// The keyed terms of the people a tip names.
    async fn persons_of(&self, tip_id: TipId) -> Result<Vec<Vec<u8>>, StoreError>;
    /// Tips since a time naming a person (by term), newest first.
    async fn tips_naming(
        &self,
        term: &[u8],
        since: i64,
        limit: i64,
    ) -> Result<Vec<TipId>, StoreError>;
    /// Photos due to be fetched.
    async fn media_due(&self, now: i64, limit: i64) -> Result<Vec<MediaRow>, StoreError>;
    /// Ends a fetch (once: false if another node ended it first).
    async fn finish_media(
        &self,
        row: MediaRow,
        done: MediaDone,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Messages a sender (pseudonym) sent since a time.
    async fn sender_messages_since(&self, pseudonym: &[u8], since: i64) -> Result<i64, StoreError>;
    /// Stores messages in the outbox (each key once; a repeat is a no-op).
    async fn enqueue(&self, items: Vec<NewOutbox>) -> Result<(), StoreError>;
    /// When the outbox message with this key was stored, if there is one.
    async fn outbox_created_at(&self, outbox_key: &str) -> Result<Option<i64>, StoreError>;
    /// Forgets the answers to provider messages stored before `before`.
    async fn forget_answers(&self, before: i64) -> Result<u64, StoreError>;
    /// The live events of every node (this one's too), where the backend carries them.
    async fn event_feed(&self) -> Result<Option<tokio::sync::mpsc::Receiver<String>>, StoreError>;
    /// Tips whose time to climb the escalation ladder has come (at most `limit`).
    async fn late_tips(&self, now: i64, limit: i64) -> Result<Vec<DueTip>, StoreError>;
    /// Applies one climb if the tip is still as the job saw it; false if not.
    async fn escalate(&self, escalation: Escalation) -> Result<bool, StoreError>;
    /// New urgent tips since a time whose alerts are not stored yet.
    async fn tips_to_alert(&self, since: i64, limit: i64) -> Result<Vec<TipId>, StoreError>;
    /// Stores tips' alerts and marks each tip alerted, once, in one transaction; a tip done
    /// already (by another node) is skipped. Returns how many tips this call alerted.
    async fn store_alerts(
        &self,
        batch: Vec<(TipId, Vec<NewOutbox>)>,
        now: i64,
    ) -> Result<usize, StoreError>;
    /// Claims due outbox messages for this node until `lease_until`.
    async fn claim_outbox(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError>;
    /// Records the end of a delivery attempt: `attempt` is the row's `attempts` as this node
    /// claimed it, the lease token. When the lease ran out and another node claimed the message
    /// again (counting one more attempt), this node's late result changes nothing.
    async fn finish_outbox(
        &self,
        outbox_id: i64,
        attempt: i64,
        result: Delivery,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Outbox messages about a tip, or every one that did not arrive (`None`: given up, or
    /// reported failed by its provider), newest first.
    async fn outbox_about(
        &self,
        tip_id: Option<TipId>,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError>;
    /// The newest outbox messages, whatever became of them.
    async fn outbox_recent(&self, limit: i64) -> Result<Vec<OutboxRow>, StoreError>;
    /// Records a provider's report of the message it named (`provider_ref`, keyed) unless one of
    /// the same or a higher rank is recorded; returns how many messages changed (0 for an id
    /// no message has).
    async fn record_delivery(
        &self,
        provider_ref: String,
        report: DeliveryReport,
    ) -> Result<u64, StoreError>;
    /// Records a Messenger watermark: the messages to `recipient_ref` (keyed) handed over at or
    /// before `watermark` reached the recipient; returns how many changed.
    async fn record_watermark(
        &self,
        recipient_ref: String,
        watermark: i64,
        report: DeliveryReport,
    ) -> Result<u64, StoreError>;
    /// Open tips per district (`None` for the range's own): (district, open, late, escalated).
    async fn district_stats(
        &self,
        now: i64,
    ) -> Result<Vec<(Option<String>, i64, i64, i64)>, StoreError>;
    /// The daily digest's counts per district (scope empty: tips with no district) for
    /// `from..until`, with the tips overdue at `now`.
    async fn digest_counts(
        &self,
        from: i64,
        until: i64,
        now: i64,
    ) -> Result<Vec<DigestRow>, StoreError>;
    /// Whether the digest of `day` (`YYYY-MM-DD`) is stored.
    async fn digest_done(&self, day: &str) -> Result<bool, StoreError>;
    /// Stores a day's digest rows and emails once; false if another node did the day first.
    async fn store_digest(
        &self,
        rows: Vec<DigestRow>,
        mail: Vec<NewOutbox>,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Stored digests of these scopes (district ids, `range`), newest first.
    async fn digests(&self, scopes: Vec<String>, limit: i64) -> Result<Vec<DigestRow>, StoreError>;
    /// Adds a duty shift with its audit entry.
    async fn add_shift(&self, shift: NewShift) -> Result<(), StoreError>;
    /// Shifts running at some point between two times, with the officers' contacts.
    async fn shifts(&self, from: i64, until: i64) -> Result<Vec<ShiftRow>, StoreError>;
    /// Sets an officer's alert contacts, with the audit entry.
    async fn set_contacts(
        &self,
        officer_id: i64,
        phone: Option<String>,
        email: Option<String>,
        audit: AuditDraft,
    ) -> Result<(), StoreError>;
    /// Applies an officer's triage correction with its audit entry.
    async fn correct_triage(&self, correction: TriageCorrection) -> Result<(), StoreError>;
    /// Triage corrections of one tip, or of every tip (`None`), oldest first.
    async fn triage_corrections(
        &self,
        tip_id: Option<TipId>,
    ) -> Result<Vec<CorrectionRow>, StoreError>;
    /// Appends an audit entry on its own.
    async fn record_audit(&self, draft: AuditDraft) -> Result<(), StoreError>;
    /// The newest `limit` audit entries about a subject, oldest first.
    async fn audit_about(&self, subject: &str, limit: i64) -> Result<Vec<AuditEntry>, StoreError>;
    /// Audit entries matching a filter, newest first.
    async fn audit_search(&self, filter: AuditFilter) -> Result<Vec<AuditEntry>, StoreError>;
    /// How many times an actor did an action since a time.
    async fn count_actions(&self, actor: &str, action: &str, since: i64)
    -> Result<i64, StoreError>;
}

/// Opens the store named by `url` (`sqlite://PATH` or `postgres://...`), runs the migrations and
/// checks the durability settings. Any other scheme is refused.
pub async fn open(url: &str, keys: Arc<Keys>) -> Result<Arc<dyn Store>, StoreError> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(Arc::new(
            SqliteStore::open(std::path::Path::new(path), keys).await?,
        ))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url, keys).await?))
    } else {
        Err(StoreError::Config(
            "the database URL must start with sqlite:// or postgres://".into(),
        ))
    }
}

/// One entry chained onto the audit log: its position, the MAC before it and its own.
pub(crate) struct Chained<'a> {
    pub seq: i64,
    pub draft: &'a AuditDraft,
    pub prev_mac: Vec<u8>,
    pub entry_mac: Vec<u8>,
}

/// Chains drafts, in order, onto the head `(seq, mac)` of the audit log; the last entry is the
/// new head.
pub(crate) fn chain<'a>(
    keys: &Keys,
    (mut seq, mut mac): (i64, Vec<u8>),
    drafts: impl IntoIterator<Item = &'a AuditDraft>,
) -> Vec<Chained<'a>> {
    drafts
        .into_iter()
        .map(|draft| {
            seq += 1;
            let entry_mac = audit_mac(keys, &mac, seq, draft).to_vec();
            let prev_mac = std::mem::replace(&mut mac, entry_mac.clone());
            Chained {
                seq,
                draft,
                prev_mac,
                entry_mac,
            }
        })
        .collect()
}

/// Appends an audit entry: the MAC covers the previous MAC, the position and every field.
pub(crate) fn audit_mac(keys: &Keys, prev_mac: &[u8], seq: i64, draft: &AuditDraft) -> [u8; 32] {
    keys.audit_mac(&[
        prev_mac,
        &seq.to_be_bytes(),
        &draft.created_at.to_be_bytes(),
        draft.actor.as_bytes(),
        draft.action.as_bytes(),
        draft.subject.as_bytes(),
        draft.detail.as_bytes(),
    ])
}
