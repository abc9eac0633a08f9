//! Casework: what officers do to tips. Every operation checks the role table
//! (`domain::permission`) against the tip's district, flags and dispatches before it reads or
//! changes anything, and every change is one transaction with its audit entry.
//!
//! Must never: show a station or unit the tip's text, channel or anything about the sender (only
//! the supervisor's brief); dispatch a tip to the station it accuses; tell an officer outside a
//! tip's scope that the tip exists (such a tip is simply "not found").

use serde_json::json;

use crate::app::Core;
use crate::domain::{
    Action, ActionReport, Brief, NotActionableReason, TipId, TipNumber, TipScope, TipStatus,
    TipText, Transition, allows, next_status,
};
use crate::intake::{self, IntakeError, aad};
use crate::officers::Session;
use crate::store::{
    AttachmentCopy, AuditDraft, NewActionReport, NewAssignment, NewMessage, StoreError, TipChange,
    TipRecord, TriageCorrection, TriageField, TriageFix,
};

/// Why a case operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// No such tip, or not one this officer may know of.
    #[error("no such tip")]
    NotFound,
    /// The officer may see the tip but not do this.
    #[error("your role may not do this")]
    Forbidden,
    /// The tip's status does not allow this step.
    #[error("cannot {transition} a tip that is {from}")]
    InvalidTransition {
        /// The current status.
        from: &'static str,
        /// The step asked for.
        transition: &'static str,
    },
    /// Someone else changed the tip first; reload and look again.
    #[error("the tip was changed by someone else; reload it")]
    Changed,
    /// Input was wrong: what to tell the officer.
    #[error("{0}")]
    Invalid(Refusal),
    /// Storage or sealing failed.
    #[error(transparent)]
    Intake(#[from] IntakeError),
}

/// Why an officer's input was refused: a message key (`con-bad-*` in locales/) and the value it
/// names, if any, so the page can say it in the officer's language.
#[derive(Debug)]
pub struct Refusal {
    /// Message key.
    pub key: &'static str,
    /// The value the message names (`$value`).
    pub value: Option<String>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{} ({v})", self.key),
            None => f.write_str(self.key),
        }
    }
}

fn refused(key: &'static str) -> CaseError {
    CaseError::Invalid(Refusal { key, value: None })
}

fn refused_value(key: &'static str, value: &str) -> CaseError {
    CaseError::Invalid(Refusal {
        key,
        value: Some(value.to_owned()),
    })
}

impl From<StoreError> for CaseError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict("tip status") => Self::Changed,
            e => Self::Intake(e.into()),
        }
    }
}

impl From<crate::crypto::CryptoError> for CaseError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        Self::Intake(e.into())
    }
}

/// A tip as loaded for an officer, with what the permission check needs.
pub struct Case {
    /// The stored tip (content sealed).
    pub record: TipRecord,
    /// Its current status.
    pub status: TipStatus,
    /// Desks it is dispatched to.
    pub assignments: Vec<crate::store::AssignmentRow>,
}

impl Case {
    fn desks(&self) -> Vec<String> {
        self.assignments.iter().map(|a| a.desk_id.clone()).collect()
    }

    /// May `session` do `action` to this tip?
    pub fn allows(&self, session: &Session, action: Action) -> bool {
        let desks = self.desks();
        let scope = TipScope {
            district_id: self.record.district_id.as_deref(),
            police_involvement: self.record.police_involvement,
            barred_station_id: self.record.barred_station_id.as_deref(),
            assigned_desks: &desks,
        };
        allows(&session.scope, action, Some(&scope))
    }
}

/// Loads a tip if the officer may see it at all (its text or its brief); else `NotFound`.
pub async fn load(core: &Core, session: &Session, tip_id: TipId) -> Result<Case, CaseError> {
    let record = core.store.tip(tip_id).await?.ok_or(CaseError::NotFound)?;
    let assignments = core.store.assignments(tip_id).await?;
    let status = TipStatus::parse(&record.status).unwrap_or(TipStatus::New);
    let case = Case {
        record,
        status,
        assignments,
    };
    if case.allows(session, Action::ViewTipText) || case.allows(session, Action::ViewBrief) {
        Ok(case)
    } else {
        Err(CaseError::NotFound)
    }
}

fn subject(tip_id: TipId) -> String {
    format!("tip:{}", tip_id.get())
}

fn audit(
    core: &Core,
    session: &Session,
    action: &str,
    tip_id: TipId,
    detail: serde_json::Value,
) -> AuditDraft {
    AuditDraft {
        actor: session.actor(),
        action: action.to_owned(),
        subject: subject(tip_id),
        detail: detail.to_string(),
        created_at: core.clock.now_ms(),
    }
}

/// Opens the tip's text for an officer allowed to read it, recording the view in the audit log
/// first (no record, no text).
pub async fn open_text(core: &Core, session: &Session, case: &Case) -> Result<String, CaseError> {
    if !case.allows(session, Action::ViewTipText) {
        return Err(CaseError::Forbidden);
    }
    let tip_id = case.record.tip_id;
    core.store
        .record_audit(audit(core, session, "tip.view", tip_id, json!({})))
        .await?;
    Ok(intake::open_text_of(core, &case.record)?)
}

/// Opens the briefs this officer may read: all of them for a supervisor, only their own desk's
/// for a station or unit officer. Each read is recorded.
pub async fn open_briefs(
    core: &Core,
    session: &Session,
    case: &Case,
) -> Result<Vec<(String, String)>, CaseError> {
    let own_desk = session.scope.desk_id.as_deref();
    let sees_all = case.allows(session, Action::ViewTipText);
    let mut out = Vec::new();
    for a in &case.assignments {
        if !sees_all && own_desk != Some(a.desk_id.as_str()) {
            continue;
        }
        let plain = core.keyring.open(
            &case.record.key_scope,
            &brief_aad(case.record.tip_id, &a.desk_id),
            &a.brief_sealed,
        )?;
        out.push((
            a.desk_id.clone(),
            String::from_utf8_lossy(&plain).into_owned(),
        ));
    }
    if !sees_all && !out.is_empty() {
        core.store
            .record_audit(audit(
                core,
                session,
                "tip.view_brief",
                case.record.tip_id,
                json!({}),
            ))
            .await?;
    }
    Ok(out)
}

fn brief_aad(tip_id: TipId, desk_id: &str) -> Vec<u8> {
    format!("tip_assignment.brief|{}|{desk_id}", tip_id.get()).into_bytes()
}

fn report_aad(tip_id: TipId, at: i64) -> Vec<u8> {
    format!("action_report|{}|{at}", tip_id.get()).into_bytes()
}

/// The action-taken reports, opened, for anyone who may see the case.
pub async fn open_reports(
    core: &Core,
    case: &Case,
) -> Result<Vec<(crate::store::ActionReportRow, serde_json::Value)>, CaseError> {
    let mut out = Vec::new();
    for r in core.store.action_reports(case.record.tip_id).await? {
        let plain = core.keyring.open(
            &case.record.key_scope,
            &report_aad(case.record.tip_id, r.created_at),
            &r.report_sealed,
        )?;
        let value = serde_json::from_slice(&plain).unwrap_or(serde_json::Value::Null);
        out.push((r, value));
    }
    Ok(out)
}

/// What a step needs besides the transition itself.
#[derive(Default)]
pub struct StepInput {
    /// Assign: the desks (station or unit ids).
    pub desks: Vec<String>,
    /// Assign: the brief.
    pub brief: Option<Brief>,
    /// MarkDuplicate: the original's tip number.
    pub duplicate_of: Option<TipNumber>,
    /// MarkNotActionable: the reason.
    pub reason: Option<NotActionableReason>,
    /// ReportAction: the report.
    pub report: Option<ActionReport>,
    /// How the step came, when not from the console (`reply`: an answer to an alert).
    pub via: Option<&'static str>,
}

/// Applies a step of the workflow to a tip the officer saw in `seen` status.
pub async fn step(
    core: &Core,
    session: &Session,
    tip_id: TipId,
    seen: TipStatus,
    transition: Transition,
    input: StepInput,
) -> Result<TipStatus, CaseError> {
    let case = load(core, session, tip_id).await?;
    if case.status != seen {
        return Err(CaseError::Changed);
    }
    if !case.allows(session, transition.action()) {
        return Err(CaseError::Forbidden);
    }
    let to = next_status(case.status, &transition).map_err(|_| CaseError::InvalidTransition {
        from: case.status.as_str(),
        transition: transition.as_str(),
    })?;
    let now = core.clock.now_ms();
    let input_via = input.via;
    let mut change = TipChange {
        tip_id,
        from_status: case.status.as_str().to_owned(),
        to_status: to.as_str().to_owned(),
        assignments: Vec::new(),
        duplicate_of: None,
        report: None,
        message: None,
        now,
        audit: audit(
            core,
            session,
            &format!("tip.{}", transition.as_str()),
            tip_id,
            json!({
                "from": case.status.as_str(), "to": to.as_str(),
            }),
        ),
    };
    match transition {
        Transition::Assign => assign(core, session, &case, &input, &mut change)?,
        Transition::MarkDuplicate => duplicate(core, session, &case, &input, &mut change).await?,
        Transition::MarkNotActionable => not_actionable(core, &case, &input, &mut change)?,
        Transition::ReportAction => report(core, session, &case, input, &mut change)?,
        _ => {}
    }
    if let Some(via) = input_via {
        set_detail(&mut change, json!({ "via": via }));
    }
    core.store.change_tip(change).await?;
    Ok(to)
}

fn set_detail(change: &mut TipChange, extra: serde_json::Value) {
    let mut detail: serde_json::Value =
        serde_json::from_str(&change.audit.detail).unwrap_or(json!({}));
    if let (Some(d), Some(e)) = (detail.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            d.insert(k.clone(), v.clone());
        }
    }
    change.audit.detail = detail.to_string();
}

/// Dispatch: every desk must be a station or unit of the tip's district (or a range unit), and
/// never the accused station. The exclusion is recorded.
fn assign(
    core: &Core,
    session: &Session,
    case: &Case,
    input: &StepInput,
    change: &mut TipChange,
) -> Result<(), CaseError> {
    let brief = input
        .brief
        .as_ref()
        .ok_or_else(|| refused("con-bad-brief"))?;
    if input.desks.is_empty() {
        return Err(refused("con-bad-no-desk"));
    }
    let district_id = case
        .record
        .district_id
        .clone()
        .ok_or_else(|| refused("con-bad-no-district"))?;
    let barred = case.record.barred_station_id.as_deref();
    let (_, key) = core.keyring.current(&case.record.key_scope)?;
    for desk in &input.desks {
        if Some(desk.as_str()) == barred {
            return Err(refused_value("con-bad-barred-desk", desk));
        }
        let kind = desk_kind(core, &district_id, desk)
            .ok_or_else(|| refused_value("con-bad-desk", desk))?;
        change.assignments.push(NewAssignment {
            desk_id: desk.clone(),
            desk_kind: kind.to_owned(),
            district_id: district_id.clone(),
            brief_sealed: key.seal(
                &brief_aad(case.record.tip_id, desk),
                brief.as_str().as_bytes(),
            )?,
            assigned_by: session.officer.officer_id,
        });
    }
    set_detail(
        change,
        json!({ "desks": input.desks, "barred_station": barred }),
    );
    Ok(())
}

/// `station` or `unit` when `desk` belongs to the district (range units serve every district).
pub fn desk_kind(core: &Core, district_id: &str, desk: &str) -> Option<&'static str> {
    let j = &core.jurisdiction;
    let d = j.district(district_id)?;
    if d.stations.iter().any(|s| s.id.as_str() == desk) {
        Some("station")
    } else if d.units.iter().chain(&j.range_units).any(|u| u.id == desk) {
        Some("unit")
    } else {
        None
    }
}

async fn duplicate(
    core: &Core,
    session: &Session,
    case: &Case,
    input: &StepInput,
    change: &mut TipChange,
) -> Result<(), CaseError> {
    let number = input
        .duplicate_of
        .as_ref()
        .ok_or_else(|| refused("con-bad-original"))?;
    let original = core
        .store
        .tip_auth(number.as_str())
        .await?
        .map(|a| a.tip_id)
        .filter(|id| *id != case.record.tip_id)
        .ok_or_else(|| refused("con-bad-original-unknown"))?;
    // The original must be a tip this officer may see, or the link would reveal it.
    load(core, session, original)
        .await
        .map_err(|_| refused("con-bad-original-unknown"))?;
    change.duplicate_of = Some(original);
    set_detail(change, json!({ "original": original.get() }));
    Ok(())
}

fn not_actionable(
    core: &Core,
    case: &Case,
    input: &StepInput,
    change: &mut TipChange,
) -> Result<(), CaseError> {
    let reason = input
        .reason
        .as_ref()
        .ok_or_else(|| refused("con-bad-reason"))?;
    change.message = Some(sealed_message(core, case, "note", reason.as_str(), change)?);
    Ok(())
}

fn sealed_message(
    core: &Core,
    case: &Case,
    author: &str,
    text: &str,
    change: &TipChange,
) -> Result<NewMessage, CaseError> {
    let message_id = TipId::generate(change.now)
        .map_err(IntakeError::from)?
        .get();
    let (_, key) = core.keyring.current(&case.record.key_scope)?;
    Ok(NewMessage {
        message_id,
        tip_id: case.record.tip_id,
        author: author.to_owned(),
        body_sealed: key.seal(&aad("tip_message.body", message_id), text.as_bytes())?,
        terms: Vec::new(),
        created_at: change.now,
        inbound: None,
        outbox: Vec::new(),
        audit: change.audit.clone(),
    })
}

fn report(
    core: &Core,
    session: &Session,
    case: &Case,
    input: StepInput,
    change: &mut TipChange,
) -> Result<(), CaseError> {
    let report = input.report.ok_or_else(|| refused("con-bad-report"))?;
    let desk_id = session.scope.desk_id.clone().ok_or(CaseError::Forbidden)?;
    let (_, key) = core.keyring.current(&case.record.key_scope)?;
    let json = report.to_json().to_string();
    change.report = Some(NewActionReport {
        desk_id: desk_id.clone(),
        officer_id: session.officer.officer_id,
        report_sealed: key.seal(&report_aad(case.record.tip_id, change.now), json.as_bytes())?,
    });
    set_detail(change, json!({ "desk": desk_id }));
    Ok(())
}

/// A supervisor's question or note to the tipster, shown on follow-up.
pub async fn message_tipster(
    core: &Core,
    session: &Session,
    tip_id: TipId,
    text: &TipText,
) -> Result<(), CaseError> {
    let case = load(core, session, tip_id).await?;
    if !case.allows(session, Action::MessageTipster) {
        return Err(CaseError::Forbidden);
    }
    let relays = crate::channels::relays(core, tip_id, text.as_str()).await?;
    let relays_empty = relays.is_empty();
    intake::add_message_with(core, tip_id, "police", &session.actor(), text, None, relays).await?;
    if !relays_empty {
        core.outbox_wake.notify_one();
    }
    Ok(())
}

/// Opens a photo's cleaned copy for an officer who may read the tip's text, after writing the
/// `attachment.view` audit entry: (content type, bytes), or `None` if the tip has no such photo.
pub async fn open_photo(
    core: &Core,
    session: &Session,
    case: &Case,
    attachment_id: i64,
) -> Result<Option<(String, Vec<u8>)>, CaseError> {
    if !case.allows(session, Action::ViewTipText) {
        return Err(CaseError::Forbidden);
    }
    open_attachment(
        core,
        session,
        case,
        attachment_id,
        AttachmentCopy::Clean,
        json!({ "attachment": attachment_id }),
    )
    .await
}

/// The original of a voice recording or of a held video or document, released by the range
/// supervisor with a reason (audited with the reason); a photo's original is not released here.
pub async fn release_original(
    core: &Core,
    session: &Session,
    case: &Case,
    attachment_id: i64,
    reason: &TipText,
) -> Result<Option<(String, Vec<u8>)>, CaseError> {
    if !case.allows(session, Action::ReleaseOriginal) {
        return Err(CaseError::Forbidden);
    }
    let detail =
        json!({ "attachment": attachment_id, "copy": "original", "reason": reason.as_str() });
    open_attachment(
        core,
        session,
        case,
        attachment_id,
        AttachmentCopy::Original,
        detail,
    )
    .await
}

async fn open_attachment(
    core: &Core,
    session: &Session,
    case: &Case,
    attachment_id: i64,
    copy: AttachmentCopy,
    detail: serde_json::Value,
) -> Result<Option<(String, Vec<u8>)>, CaseError> {
    let r = &case.record;
    let Some((sealed, facts)) = core
        .store
        .attachment_copy(r.tip_id, attachment_id, copy)
        .await?
    else {
        return Ok(None);
    };
    let facts = core.keyring.open(
        &r.key_scope,
        &intake::attachment_aad("facts", attachment_id),
        &facts,
    )?;
    let (kind, original_kind) = serde_json::from_slice::<intake::AttachmentFacts>(&facts)
        .map(|f| (f.kind, f.original_kind))
        .unwrap_or_else(|_| ("application/octet-stream".into(), None));
    // A photo's original is not released (its clean copy is the evidence officers need); a held
    // file has nothing but its original.
    let held = kind == intake::HELD_KIND;
    match copy {
        AttachmentCopy::Original if !kind.starts_with("audio/") && !held => return Ok(None),
        AttachmentCopy::Clean if held => return Ok(None),
        _ => {}
    }
    // The original of an MP3 recording is MP3; officers hear it as WAV.
    let kind = match (copy, original_kind) {
        (AttachmentCopy::Original, Some(original)) => original,
        _ => kind,
    };
    let action = match copy {
        AttachmentCopy::Clean => "attachment.view",
        AttachmentCopy::Original => "attachment.release_original",
    };
    core.store
        .record_audit(audit(core, session, action, r.tip_id, detail))
        .await?;
    let label = match copy {
        AttachmentCopy::Clean => "clean",
        AttachmentCopy::Original => "original",
    };
    let bytes = core.keyring.open(
        &r.key_scope,
        &intake::attachment_aad(label, attachment_id),
        &sealed,
    )?;
    Ok(Some((kind, bytes)))
}

/// What an officer says triage should have found (the whole correction form).
pub struct TriageInput {
    /// Main category id (a lexicon id, `other` or `not_a_tip`).
    pub category: String,
    /// Station of the incident, or none.
    pub station: Option<String>,
    /// Urgent.
    pub urgent: bool,
    /// Alleges police involvement.
    pub police_involvement: bool,
}

/// Corrects a tip's triage. Only changed fields are recorded (who, when, old, new), with the
/// audit entry, in one transaction; returns how many changed. Urgency sets the priority and the
/// deadlines (from the tip's arrival, under the policy now in force).
pub async fn correct_triage(
    core: &Core,
    session: &Session,
    tip_id: TipId,
    input: TriageInput,
) -> Result<usize, CaseError> {
    let case = load(core, session, tip_id).await?;
    if !case.allows(session, Action::CorrectTriage) {
        return Err(CaseError::Forbidden);
    }
    let r = &case.record;
    let known = |c: &str| {
        c == "other" || c == "not_a_tip" || core.lexicon.categories.iter().any(|k| k.id == c)
    };
    if !known(&input.category) {
        return Err(refused_value("con-bad-category", &input.category));
    }
    if let Some(st) = &input.station {
        let in_district = core
            .jurisdiction
            .station(st)
            .is_some_and(|(d, _)| Some(d.id.as_str()) == r.district_id.as_deref());
        if !in_district {
            return Err(refused_value("con-bad-station", st));
        }
        if Some(st.as_str()) == r.barred_station_id.as_deref() {
            return Err(refused("con-bad-accused-station"));
        }
    }
    let flag = |b: bool| Some(b.to_string());
    let mut fixes = Vec::new();
    let mut fix = |field, old: Option<String>, new: Option<String>| {
        if old != new {
            fixes.push(TriageFix {
                field,
                old_value: old,
                new_value: new,
            });
        }
    };
    fix(
        TriageField::Category,
        r.category.clone(),
        Some(input.category.clone()),
    );
    fix(TriageField::Station, r.station_id.clone(), input.station);
    fix(TriageField::Urgent, flag(r.urgent), flag(input.urgent));
    fix(
        TriageField::PoliceInvolvement,
        flag(r.police_involvement),
        flag(input.police_involvement),
    );
    if fixes.is_empty() {
        return Ok(0);
    }
    let priority = (input.urgent != r.urgent).then(|| {
        let p = if input.urgent { "urgent" } else { "normal" };
        let category = Some(input.category.as_str());
        (
            p.to_owned(),
            core.policy.deadlines.for_tip_in(p, category, r.created_at),
        )
    });
    let detail: serde_json::Map<String, serde_json::Value> = fixes
        .iter()
        .map(|f| {
            (
                f.field.as_str().to_owned(),
                json!([f.old_value, f.new_value]),
            )
        })
        .collect();
    let changed = fixes.len();
    core.store
        .correct_triage(TriageCorrection {
            tip_id,
            fixes,
            priority,
            officer_id: session.officer.officer_id,
            audit: audit(
                core,
                session,
                "tip.correct_triage",
                tip_id,
                serde_json::Value::Object(detail),
            ),
        })
        .await?;
    Ok(changed)
}
