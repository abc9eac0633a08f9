//! What the officer console stores and reads: accounts, sessions, the queue, dispatch and
//! action-taken reports. Briefs, reports and TOTP secrets arrive sealed; this module never sees
//! them in clear.

use super::{AuditDraft, NewMessage};
use crate::domain::TipId;

/// An officer account as stored (the password hash and sealed TOTP secret included).
#[derive(Clone, Debug)]
pub struct OfficerRow {
    /// Id.
    pub officer_id: i64,
    /// Login name.
    pub username: String,
    /// Name shown in the console and the audit log views.
    pub display_name: String,
    /// Role name (see `domain::Role`).
    pub role: String,
    /// District, for district-bound roles.
    pub district_id: Option<String>,
    /// Station or unit id, for station and unit officers.
    pub desk_id: Option<String>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// TOTP secret sealed under the range key, once generated.
    pub totp_sealed: Option<Vec<u8>>,
    /// The officer has proved the second factor once.
    pub totp_enrolled: bool,
    /// The last TOTP time step accepted (a code is never accepted twice).
    pub totp_last_step: i64,
    /// Disabled officers cannot log in and have no sessions.
    pub disabled: bool,
    /// Wrong passwords or codes since the last success.
    pub failed_logins: i64,
    /// No login before this time (Unix ms).
    pub locked_until: i64,
    /// When the account was made.
    pub created_at: i64,
    /// Work phone for SMS alerts.
    pub phone: Option<String>,
    /// Work email for alerts.
    pub email: Option<String>,
}

/// A new officer account.
#[derive(Clone, Debug)]
pub struct NewOfficer {
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role name.
    pub role: String,
    /// District, for district-bound roles.
    pub district_id: Option<String>,
    /// Station or unit.
    pub desk_id: Option<String>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// When.
    pub created_at: i64,
    /// Who made it (recorded in the audit log with the new id).
    pub actor: String,
}

/// A change to an account, with its audit entry. Every variant that weakens or replaces a
/// credential also ends the officer's sessions, in the same transaction.
#[derive(Clone, Debug)]
pub enum OfficerChange {
    /// A wrong password or code: the count, and a lock until this time when it is reached.
    LoginFailed {
        /// Wrong attempts so far.
        failed_logins: i64,
        /// Locked until (Unix ms), 0 for not locked.
        locked_until: i64,
    },
    /// A right password and code: the count is cleared and the TOTP step is used up.
    LoginSucceeded {
        /// The TOTP step just used.
        totp_step: i64,
    },
    /// A TOTP secret was generated (not yet proved).
    TotpGenerated {
        /// The sealed secret.
        totp_sealed: Vec<u8>,
    },
    /// The officer proved the new second factor.
    TotpEnrolled {
        /// The TOTP step just used.
        totp_step: i64,
    },
    /// A new password set by an administrator: sessions end, the second factor must be enrolled
    /// again.
    PasswordReset {
        /// The new argon2id hash.
        password_hash: String,
    },
    /// Disabled or enabled; disabling ends every session at once.
    Disabled(bool),
}

/// An officer session, looked up by the hash of its cookie value.
#[derive(Clone, Debug)]
pub struct SessionRow {
    /// The session's officer.
    pub officer_id: i64,
    /// `password` (second factor pending) or `full`.
    pub stage: String,
    /// When it was made (absolute timeout).
    pub created_at: i64,
    /// Last request (idle timeout).
    pub last_seen_at: i64,
}

/// What the queue page asks for.
#[derive(Clone, Debug, Default)]
pub struct QueueFilter {
    /// Only this district; `None` for every district (range supervisor).
    pub district_id: Option<String>,
    /// Only tips assigned to this station or unit.
    pub desk_id: Option<String>,
    /// Statuses to show; empty means the open ones.
    pub statuses: Vec<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Only this station (triage's or the assigned one).
    pub station_id: Option<String>,
    /// Only this channel.
    pub channel: Option<String>,
    /// Only urgent tips.
    pub urgent_only: bool,
    /// Only tips alleging police involvement.
    pub police_only: bool,
    /// Leave out tips alleging police involvement (operators never see them).
    pub exclude_police: bool,
    /// Only tips containing every one of these blind-index terms (a word search).
    pub terms: Vec<[u8; 16]>,
    /// Continue after this (priority rank, tip id).
    pub after: Option<(i64, i64)>,
    /// Page size.
    pub limit: i64,
}

/// One line of the queue.
#[derive(Clone, Debug)]
pub struct QueueRow {
    /// Tip id.
    pub tip_id: TipId,
    /// Tip number.
    pub tip_number: String,
    /// Status name.
    pub status: String,
    /// Priority name.
    pub priority: String,
    /// Priority rank (0 urgent .. 3 low), the first paging key.
    pub priority_rank: i64,
    /// District.
    pub district_id: Option<String>,
    /// Triage's station.
    pub station_id: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Channel.
    pub channel: String,
    /// Urgent flag.
    pub urgent: bool,
    /// Police involvement flag.
    pub police_involvement: bool,
    /// Arrival.
    pub created_at: i64,
    /// Deadlines set on arrival.
    pub deadlines: Option<crate::policy::TipDeadlines>,
    /// The escalation rung reached (0 none).
    pub escalation_level: i64,
}

/// A dispatch of a tip to a station or unit.
#[derive(Clone, Debug)]
pub struct NewAssignment {
    /// Station or unit id.
    pub desk_id: String,
    /// `station` or `unit`.
    pub desk_kind: String,
    /// The desk's district.
    pub district_id: String,
    /// The supervisor's brief, sealed (associated data: tip id and desk id).
    pub brief_sealed: Vec<u8>,
    /// The supervisor.
    pub assigned_by: i64,
}

/// A stored dispatch.
#[derive(Clone, Debug)]
pub struct AssignmentRow {
    /// Station or unit id.
    pub desk_id: String,
    /// `station` or `unit`.
    pub desk_kind: String,
    /// The desk's district.
    pub district_id: String,
    /// Sealed brief.
    pub brief_sealed: Vec<u8>,
    /// The supervisor.
    pub assigned_by: i64,
    /// When.
    pub created_at: i64,
}

/// An action-taken report as filed by a station or unit.
#[derive(Clone, Debug)]
pub struct NewActionReport {
    /// The desk that acted.
    pub desk_id: String,
    /// The officer who filed it.
    pub officer_id: i64,
    /// The report as JSON, sealed (associated data: tip id and report time).
    pub report_sealed: Vec<u8>,
}

/// A stored action-taken report.
#[derive(Clone, Debug)]
pub struct ActionReportRow {
    /// Id.
    pub action_report_id: i64,
    /// The desk.
    pub desk_id: String,
    /// The officer.
    pub officer_id: i64,
    /// Sealed JSON.
    pub report_sealed: Vec<u8>,
    /// When.
    pub created_at: i64,
}

/// One state change of a tip, applied in one transaction with its audit entry. The change only
/// applies if the tip is still in `from_status`: two officers acting at once cannot both win.
#[derive(Clone, Debug)]
pub struct TipChange {
    /// The tip.
    pub tip_id: TipId,
    /// The status the officer saw.
    pub from_status: String,
    /// The new status.
    pub to_status: String,
    /// Dispatches to add (Assign).
    pub assignments: Vec<NewAssignment>,
    /// The original (MarkDuplicate).
    pub duplicate_of: Option<TipId>,
    /// The report (ReportAction).
    pub report: Option<NewActionReport>,
    /// A message to the tipster or a sealed note (a reason) kept on the thread.
    pub message: Option<NewMessage>,
    /// When.
    pub now: i64,
    /// The audit entry.
    pub audit: AuditDraft,
}

/// What the audit view asks for: entries by an actor and/or about a subject, in a time range.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only this actor (`officer:7`).
    pub actor: Option<String>,
    /// Only this subject (`tip:42`).
    pub subject: Option<String>,
    /// From this time on (Unix ms).
    pub since: Option<i64>,
    /// Before this time (Unix ms).
    pub until: Option<i64>,
    /// At most this many, newest first.
    pub limit: i64,
}

/// A triage field an officer may correct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriageField {
    /// The main category.
    Category,
    /// The station of the incident.
    Station,
    /// Urgent (sets the priority and the deadlines with it).
    Urgent,
    /// Alleges police involvement.
    PoliceInvolvement,
}

impl TriageField {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Category => "category",
            Self::Station => "station",
            Self::Urgent => "urgent",
            Self::PoliceInvolvement => "police_involvement",
        }
    }
}

/// One corrected field: old and new values as text (ids, `true`/`false`), none for empty.
#[derive(Clone, Debug)]
pub struct TriageFix {
    /// The field.
    pub field: TriageField,
    /// Before.
    pub old_value: Option<String>,
    /// After.
    pub new_value: Option<String>,
}

/// An officer's correction of a tip's triage, applied in one transaction with its audit entry.
#[derive(Clone, Debug)]
pub struct TriageCorrection {
    /// The tip.
    pub tip_id: TipId,
    /// The changed fields.
    pub fixes: Vec<TriageFix>,
    /// The new priority and deadlines, when urgency changed.
    pub priority: Option<(String, crate::policy::TipDeadlines)>,
    /// The officer.
    pub officer_id: i64,
    /// The audit entry.
    pub audit: AuditDraft,
}

/// A stored correction.
#[derive(Clone, Debug)]
pub struct CorrectionRow {
    /// The tip.
    pub tip_id: TipId,
    /// Field name.
    pub field: String,
    /// Before.
    pub old_value: Option<String>,
    /// After.
    pub new_value: Option<String>,
    /// The officer.
    pub officer_id: i64,
    /// When.
    pub created_at: i64,
}

/// A tip whose escalation time has come.
#[derive(Clone, Debug)]
pub struct DueTip {
    /// The tip.
    pub tip_id: TipId,
    /// Its status.
    pub status: String,
    /// Its district.
    pub district_id: Option<String>,
    /// Alleges police involvement (starts higher on the ladder).
    pub police_involvement: bool,
    /// Arrival.
    pub created_at: i64,
    /// Its deadlines.
    pub deadlines: crate::policy::TipDeadlines,
    /// The step the current rung is for.
    pub escalation_step: Option<String>,
    /// The current rung (0 none).
    pub escalation_level: i64,
}

/// One climb of the ladder (or, with no audit entry, only a new time for the next look).
#[derive(Clone, Debug)]
pub struct Escalation {
    /// The tip.
    pub tip_id: TipId,
    /// The status the job saw.
    pub status: String,
    /// The step and rung the job saw.
    pub from_step: Option<String>,
    /// The rung the job saw.
    pub from_level: i64,
    /// The step now escalated.
    pub step: String,
    /// The new rung.
    pub level: i64,
    /// When to look again (the next rung), none at the top.
    pub next_due: Option<i64>,
    /// The audit entry, when a rung is climbed.
    pub audit: Option<AuditDraft>,
    /// The alerts to the rung's officers, stored in the same transaction.
    pub outbox: Vec<NewOutbox>,
}

/// A new duty shift.
#[derive(Clone, Debug)]
pub struct NewShift {
    /// `operator`, `asp`, `sp`, `station` or `range`.
    pub duty: String,
    /// The district (none for range duty).
    pub district_id: Option<String>,
    /// The station or unit (station duty).
    pub desk_id: Option<String>,
    /// Who.
    pub officer_id: i64,
    /// From (Unix ms).
    pub starts_at: i64,
    /// Until (Unix ms).
    pub ends_at: i64,
    /// The audit entry.
    pub audit: AuditDraft,
}

/// A stored shift, with the officer's contacts for alerts.
#[derive(Clone, Debug)]
pub struct ShiftRow {
    /// Id.
    pub shift_id: i64,
    /// Duty name.
    pub duty: String,
    /// District.
    pub district_id: Option<String>,
    /// Station or unit.
    pub desk_id: Option<String>,
    /// Who.
    pub officer_id: i64,
    /// Their name.
    pub display_name: String,
    /// Their work phone, for SMS alerts.
    pub phone: Option<String>,
    /// Their work email.
    pub email: Option<String>,
    /// From.
    pub starts_at: i64,
    /// Until.
    pub ends_at: i64,
}

/// A message to send, stored with the change that causes it.
#[derive(Clone, Debug)]
pub struct NewOutbox {
    /// Unique key: the same message is never stored twice (several nodes may try).
    pub outbox_key: String,
    /// `alert`, `escalation`, ...
    pub purpose: String,
    /// `sms`, `email` or `webhook`.
    pub channel: String,
    /// The tip it is about.
    pub tip_id: Option<TipId>,
    /// The officer it goes to.
    pub officer_id: Option<i64>,
    /// Destination and body, sealed under the range key (associated data: the key).
    pub payload_sealed: Vec<u8>,
    /// When (first attempt at once).
    pub created_at: i64,
}

/// A stored outbox message.
#[derive(Clone, Debug)]
pub struct OutboxRow {
    /// Id.
    pub outbox_id: i64,
    /// Unique key.
    pub outbox_key: String,
    /// Purpose.
    pub purpose: String,
    /// Channel.
    pub channel: String,
    /// Tip.
    pub tip_id: Option<TipId>,
    /// Officer.
    pub officer_id: Option<i64>,
    /// Sealed payload.
    pub payload_sealed: Vec<u8>,
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: String,
    /// Attempts so far (this one included, once claimed).
    pub attempts: i64,
    /// Last failure.
    pub last_error: Option<String>,
    /// When stored.
    pub created_at: i64,
    /// When handed to the gateway.
    pub sent_at: Option<i64>,
    /// What the provider last reported (`sent`, `failed`, `delivered`, `read`), if anything.
    pub delivery: Option<String>,
    /// The provider's error code with a reported failure.
    pub delivery_error: Option<String>,
}

/// How a delivery attempt ended.
#[derive(Clone, Debug)]
pub enum Delivery {
    /// Handed to the gateway.
    Sent,
    /// Handed to the gateway at `at`, which named the message: its status callbacks find the row
    /// by `provider_ref`, Messenger's watermarks by `recipient_ref` (both keyed hashes).
    SentAs {
        /// Keyed hash of the provider's message id.
        provider_ref: String,
        /// Keyed hash of a Messenger recipient.
        recipient_ref: Option<String>,
        /// When the request began (Unix ms): a watermark at or after it covers the message.
        at: i64,
    },
    /// Try again at this time.
    Retry {
        /// Why it failed.
        error: String,
        /// Next attempt (Unix ms).
        at: i64,
    },
    /// Given up (shown to the supervisor).
    Failed {
        /// Why.
        error: String,
    },
}

/// What a provider reported of a message it was handed (see `alerts::delivery`).
#[derive(Clone, Debug)]
pub struct DeliveryReport {
    /// `sent`, `failed`, `delivered` or `read`.
    pub status: &'static str,
    /// Its rank: a report only replaces one of a lower rank.
    pub rank: i64,
    /// The provider's error code (digits), with a failure.
    pub error: Option<String>,
    /// When it came (Unix ms).
    pub at: i64,
}

/// One scope's counts for one day of the digest (a district, or `range` for all of them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DigestRow {
    /// The day, `YYYY-MM-DD` in India Standard Time.
    pub day: String,
    /// A district id, or `range`.
    pub scope: String,
    /// Tips that arrived that day.
    pub received: i64,
    /// Acknowledgements that day that came after the tip's deadline.
    pub acknowledged_late: i64,
    /// Open tips past the deadline of their current step when the digest was made.
    pub overdue: i64,
    /// Climbs of the escalation ladder that day.
    pub escalated: i64,
}
