//! The tip page and its forms: what the officer may see of one tip (text or brief), its thread,
//! dispatches, reports, related tips and history, and one form per step the officer may take.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::queue::{age, category_label, deadline, desk_label, district_label, status_label};
use super::{Officer, checked_form, internal, message};
use crate::app::Core;
use crate::cases::{self, Case, CaseError, StepInput};
use crate::domain::{
    Action, ActionReport, Brief, NotActionableReason, RawActionReport, TipId, TipNumber, TipStatus,
    TipText, Transition, transitions_from,
};
use crate::http::forms::FormFields;
use crate::http::pages::render;
use crate::http::{AppState, Tr, ist};
use crate::intake;
use crate::officers::Session;

/// Most related tips shown on a tip page.
const MAX_RELATED: usize = 10;

/// A desk the tip may be dispatched to.
pub struct DeskChoice {
    id: String,
    name: String,
}

/// What triage read in the text, for an officer who may read the text: the words that decided the
/// category and the place, and why it is urgent. Computed again from the opened text (never
/// stored: the words are the tipster's own).
pub struct TriageView {
    category_words: String,
    place_words: String,
    urgent_reasons: Vec<String>,
    named_station: Option<String>,
}

/// One line of history.
pub struct HistoryLine {
    when: String,
    who: String,
    what: String,
}

#[derive(Template)]
#[template(path = "console/tip.html")]
struct TipPage {
    t: Tr,
    csrf: String,
    number: String,
    status: String,
    status_code: String,
    priority: String,
    urgent: bool,
    police: bool,
    flooded: bool,
    category: String,
    district: String,
    station: String,
    barred: Option<String>,
    channel: Option<String>,
    received: String,
    age: String,
    due: Option<(String, bool)>,
    text: Option<String>,
    /// (id, type, size, SHA-256 of the original, held) of each photo, recording, video or
    /// document.
    photos: Vec<(i64, String, String, String, bool)>,
    triage: Option<TriageView>,
    fixes: Corrections,
    briefs: Vec<(String, String)>,
    thread: Vec<(String, String, String)>,
    /// (when, channel, what became of it) of each message sent to the tipster on their channel.
    replies: Vec<(String, String, String)>,
    reports: Vec<(String, String, String)>,
    related: Vec<(String, String)>,
    history: Vec<HistoryLine>,
    steps: Vec<(String, String)>,
    desks: Vec<DeskChoice>,
    may_message: bool,
    /// May release a recording's original (the range supervisor).
    may_release: bool,
    error: Option<String>,
    notice: Option<String>,
}

async fn find(core: &Core, session: &Session, number: &str) -> Result<Case, CaseError> {
    let number = TipNumber::parse(number).ok_or(CaseError::NotFound)?;
    let id = core
        .store
        .tip_auth(number.as_str())
        .await
        .map_err(CaseError::from)?
        .ok_or(CaseError::NotFound)?
        .tip_id;
    cases::load(core, session, id).await
}

pub async fn tip_page(
    State(state): State<AppState>,
    officer: Officer,
    Path(number): Path<String>,
) -> Response {
    show(&state, &officer, &number, None, None, StatusCode::OK).await
}

async fn show(
    state: &AppState,
    officer: &Officer,
    number: &str,
    error: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let t = officer.t;
    let case = match find(&state.core, &officer.session, number).await {
        Ok(c) => c,
        Err(e) => return refused(t, &e),
    };
    match build(&state.core, &officer.session, t, &case, error, notice).await {
        Ok(page) => render(status, &page),
        Err(e) => refused(t, &e),
    }
}

/// Why input was refused, in the officer's language.
fn refusal(t: Tr, r: &cases::Refusal) -> String {
    match &r.value {
        Some(v) => t.get_with(r.key, "value", v),
        None => t.get(r.key),
    }
}

/// The page for a refused request: 404 for a tip out of scope, 403, 409, 400, or 500.
fn refused(t: Tr, e: &CaseError) -> Response {
    let (status, key) = match e {
        CaseError::NotFound => (StatusCode::NOT_FOUND, "con-err-not-found"),
        CaseError::Forbidden => (StatusCode::FORBIDDEN, "con-err-forbidden"),
        CaseError::Changed => (StatusCode::CONFLICT, "con-err-changed"),
        CaseError::InvalidTransition { .. } => (StatusCode::CONFLICT, "con-err-transition"),
        CaseError::Invalid(r) => return message(t, StatusCode::BAD_REQUEST, refusal(t, r)),
        CaseError::Intake(e) => return internal(t, e),
    };
    message(t, status, t.get(key))
}

/// The photos of a tip, as listed on its page (the facts are sealed with each).
async fn photos(
    core: &Core,
    case: &Case,
) -> Result<Vec<(i64, String, String, String, bool)>, CaseError> {
    let r = &case.record;
    let mut out = Vec::new();
    for (id, sealed) in core.store.attachments(r.tip_id).await? {
        let plain =
            core.keyring
                .open(&r.key_scope, &intake::attachment_aad("facts", id), &sealed)?;
        if let Ok(f) = serde_json::from_slice::<intake::AttachmentFacts>(&plain) {
            // A held file is listed by what it is (its original's type).
            let held = f.kind == intake::HELD_KIND;
            let kind = match (held, f.original_kind) {
                (true, Some(original)) => original,
                _ => f.kind,
            };
            out.push((
                id,
                kind,
                format!("{} KB", f.size.div_ceil(1024)),
                f.sha256,
                held,
            ));
        }
    }
    Ok(out)
}

/// `GET /console/tips/{number}/photos/{id}`: the photo without its metadata, for an officer who
/// may read the tip's text; each opening audited.
pub async fn photo(
    State(state): State<AppState>,
    officer: Officer,
    Path((number, id)): Path<(String, i64)>,
) -> Response {
    let t = officer.t;
    let core = &state.core;
    let case = match find(core, &officer.session, &number).await {
        Ok(c) => c,
        Err(e) => return refused(t, &e),
    };
    if !case.allows(&officer.session, Action::ViewTipText) {
        return refused(t, &CaseError::Forbidden);
    }
    match cases::open_photo(core, &officer.session, &case, id).await {
        Ok(Some((kind, bytes))) => (
            [
                (header::CONTENT_TYPE, kind),
                (header::CACHE_CONTROL, "no-store".to_owned()),
                (header::CONTENT_DISPOSITION, "inline".to_owned()),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => refused(t, &CaseError::NotFound),
        Err(e) => refused(t, &e),
    }
}

async fn build(
    core: &Core,
    session: &Session,
    t: Tr,
    case: &Case,
    error: Option<String>,
    notice: Option<String>,
) -> Result<TipPage, CaseError> {
    let r = &case.record;
    let full = case.allows(session, Action::ViewTipText);
    let text = if full {
        Some(cases::open_text(core, session, case).await?)
    } else {
        None
    };
    let briefs = cases::open_briefs(core, session, case)
        .await?
        .into_iter()
        .map(|(desk, brief)| (desk_label(core, t, Some(&desk)), brief))
        .collect();
    let steps = transitions_from(case.status)
        .into_iter()
        .filter(|s| case.allows(session, s.action()))
        .map(|s| {
            (
                s.as_str().to_owned(),
                t.get(&format!("con-step-{}", s.as_str())),
            )
        })
        .collect();
    let now = core.clock.now_ms();
    // One read of the officer list for the history and the corrections.
    let officers = if full {
        core.store.officers().await?
    } else {
        Vec::new()
    };
    Ok(TipPage {
        t,
        csrf: session.form_token(core),
        number: r.tip_number.clone(),
        status: status_label(t, &r.status),
        status_code: r.status.clone(),
        priority: t.get(&format!("con-priority-{}", r.priority)),
        urgent: r.urgent,
        police: r.police_involvement,
        flooded: r.flooded && full,
        category: category_label(core, t, r.category.as_deref()),
        district: district_label(core, t, r.district_id.as_deref()),
        station: desk_label(core, t, r.station_id.as_deref()),
        barred: r
            .barred_station_id
            .as_deref()
            .map(|b| desk_label(core, t, Some(b)))
            .filter(|_| full),
        channel: full.then(|| t.get(&format!("con-channel-{}", r.channel))),
        received: ist(r.created_at),
        age: age(t, now, r.created_at),
        due: deadline(t, now, &r.status, r.deadlines.as_ref()),
        thread: if full {
            thread(core, t, case).await?
        } else {
            Vec::new()
        },
        replies: if full && case.allows(session, Action::MessageTipster) {
            replies(core, t, r.tip_id).await?
        } else {
            Vec::new()
        },
        reports: reports(core, t, case).await?,
        related: if full {
            related(core, session, t, r.tip_id).await?
        } else {
            Vec::new()
        },
        history: if full {
            history(core, t, r.tip_id, &officers).await?
        } else {
            Vec::new()
        },
        desks: if full {
            desks(core, t, case)
        } else {
            Vec::new()
        },
        may_message: case.allows(session, Action::MessageTipster),
        triage: if full {
            triage_view(core, t, case)?
        } else {
            None
        },
        fixes: if full {
            corrections(core, session, t, case, &officers).await?
        } else {
            Corrections {
                may_correct: false,
                category: String::new(),
                station: String::new(),
                categories: Vec::new(),
                stations: Vec::new(),
                made: Vec::new(),
            }
        },
        photos: if full {
            photos(core, case).await?
        } else {
            Vec::new()
        },
        may_release: case.allows(session, Action::ReleaseOriginal),
        text,
        briefs,
        steps,
        error,
        notice,
    })
}

/// Triage's assessment as stored on arrival, for an officer who may read the text.
fn triage_view(core: &Core, t: Tr, case: &Case) -> Result<Option<TriageView>, CaseError> {
    let Some(a) = crate::intake::open_triage_of(core, &case.record)? else {
        return Ok(None);
    };
    let words = |key: &str| {
        a[key]
            .as_array()
            .map(|w| {
                w.iter()
                    .filter_map(serde_json::Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    Ok(Some(TriageView {
        category_words: words("evidence"),
        place_words: words("place_evidence"),
        urgent_reasons: a["urgent_reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
            .map(|r| t.get(&format!("con-urgent-{r}")))
            .collect(),
        named_station: a["named_station"]
            .as_str()
            .map(|s| desk_label(core, t, Some(s))),
    }))
}

async fn thread(
    core: &Core,
    t: Tr,
    case: &Case,
) -> Result<Vec<(String, String, String)>, CaseError> {
    let messages = crate::intake::thread_of(core, &case.record).await?;
    Ok(messages
        .into_iter()
        .map(|m| {
            (
                t.get(&format!("con-author-{}", m.author)),
                ist(m.created_at),
                m.text,
            )
        })
        .collect())
}

/// The tip's outbox rows looked at for its messages to the tipster (officers' alerts about it
/// are among them; a tip has far fewer than this).
const REPLIES_SCANNED: i64 = 1_000;

/// The tip's messages to its tipster on their own channel (answers and police messages; not the
/// officers' alerts), oldest first, with what the provider reported: never where they went.
async fn replies(
    core: &Core,
    t: Tr,
    tip_id: TipId,
) -> Result<Vec<(String, String, String)>, CaseError> {
    let rows = core
        .store
        .outbox_about(Some(tip_id), REPLIES_SCANNED)
        .await
        .map_err(CaseError::from)?;
    Ok(rows
        .iter()
        .rev()
        .filter(|row| row.officer_id.is_none() && row.channel.starts_with("tipster_"))
        .map(|row| {
            (
                ist(row.created_at),
                row.channel.trim_start_matches("tipster_").to_owned(),
                super::range::delivery_state(t, row),
            )
        })
        .collect())
}

async fn reports(
    core: &Core,
    t: Tr,
    case: &Case,
) -> Result<Vec<(String, String, String)>, CaseError> {
    Ok(cases::open_reports(core, case)
        .await?
        .into_iter()
        .map(|(row, json)| {
            (
                desk_label(core, t, Some(&row.desk_id)),
                ist(row.created_at),
                describe_report(t, &json),
            )
        })
        .collect())
}

/// An action-taken report in one line: raid, found, seizures, arrests, FIR, remarks.
fn describe_report(t: Tr, r: &serde_json::Value) -> String {
    let yes_no = |key: &str| {
        t.get(if r[key].as_bool() == Some(true) {
            "con-yes"
        } else {
            "con-no"
        })
    };
    let mut parts = vec![
        format!("{}: {}", t.get("con-report-raid"), yes_no("raid_done")),
        format!("{}: {}", t.get("con-report-found"), yes_no("found")),
    ];
    if let Some(seizures) = r["seizures"].as_array().filter(|s| !s.is_empty()) {
        let list: Vec<String> = seizures
            .iter()
            .map(|s| {
                format!(
                    "{} {} {}",
                    s["item"].as_str().unwrap_or("-"),
                    s["quantity"],
                    s["unit"].as_str().unwrap_or("")
                )
            })
            .collect();
        parts.push(format!(
            "{}: {}",
            t.get("con-report-seized"),
            list.join(", ")
        ));
    }
    parts.push(format!(
        "{}: {}",
        t.get("con-report-arrests"),
        r["arrests"].as_u64().unwrap_or(0)
    ));
    if let Some(fir) = r["fir_number"].as_str() {
        parts.push(format!("FIR {fir}"));
    }
    if let Some(remarks) = r["remarks"].as_str() {
        parts.push(remarks.to_owned());
    }
    parts.join(" · ")
}

async fn related(
    core: &Core,
    session: &Session,
    t: Tr,
    tip_id: TipId,
) -> Result<Vec<(String, String)>, CaseError> {
    let mut out = Vec::new();
    let links = core
        .store
        .tip_links(tip_id)
        .await
        .map_err(CaseError::from)?;
    for link in links.into_iter().take(MAX_RELATED) {
        // Only tips this officer may see are shown (a link must not reveal another district's tip).
        if let Ok(other) = cases::load(core, session, link.related_tip_id).await {
            let label = t.get(&format!("con-link-{}", link.kind));
            out.push((
                other.record.tip_number.clone(),
                if link.kind == "near_duplicate" {
                    format!("{label} {}%", link.score)
                } else {
                    label
                },
            ));
        }
    }
    Ok(out)
}

async fn history(
    core: &Core,
    t: Tr,
    tip_id: TipId,
    officers: &[crate::store::OfficerRow],
) -> Result<Vec<HistoryLine>, CaseError> {
    let entries = core
        .store
        .audit_about(&format!("tip:{}", tip_id.get()), 200)
        .await
        .map_err(CaseError::from)?;
    // One read of the officer list, not one per line of history.
    let mut out = Vec::new();
    for e in entries {
        let who = match e
            .actor
            .strip_prefix("officer:")
            .and_then(|id| id.parse::<i64>().ok())
        {
            Some(id) => officers
                .iter()
                .find(|o| o.officer_id == id)
                .map_or_else(|| e.actor.clone(), |o| o.display_name.clone()),
            None => t.get("con-author-tipster"),
        };
        out.push(HistoryLine {
            when: ist(e.created_at),
            who,
            what: e.action,
        });
    }
    Ok(out)
}

/// Stations and units of the tip's district (and the range units), without the accused station.
fn desks(core: &Core, t: Tr, case: &Case) -> Vec<DeskChoice> {
    let Some(d) = case
        .record
        .district_id
        .as_deref()
        .and_then(|d| core.jurisdiction.district(d))
    else {
        return Vec::new();
    };
    let barred = case.record.barred_station_id.as_deref();
    let stations = d.stations.iter().map(|s| s.id.as_str().to_owned());
    let units = d
        .units
        .iter()
        .chain(&core.jurisdiction.range_units)
        .map(|u| u.id.clone());
    stations
        .chain(units)
        .filter(|id| Some(id.as_str()) != barred)
        .map(|id| DeskChoice {
            name: desk_label(core, t, Some(&id)),
            id,
        })
        .collect()
}

pub async fn step(
    State(state): State<AppState>,
    officer: Officer,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Bytes,
) -> Response {
    let t = officer.t;
    let form = match checked_form(
        &headers,
        &body,
        Some(&(officer.session.clone(), &state.core)),
    ) {
        Ok(f) => f,
        Err(r) => return r.page(t),
    };
    let case = match find(&state.core, &officer.session, &number).await {
        Ok(c) => c,
        Err(e) => return refused(t, &e),
    };
    let (Some(transition), Some(seen)) = (
        form.get("step").and_then(Transition::parse),
        form.get("seen").and_then(TipStatus::parse),
    ) else {
        return message(t, StatusCode::BAD_REQUEST, t.get("err-form-type"));
    };
    let input = match step_input(t, &transition, &form) {
        Ok(i) => i,
        Err(msg) => {
            return show(
                &state,
                &officer,
                &number,
                Some(msg),
                None,
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    match cases::step(
        &state.core,
        &officer.session,
        case.record.tip_id,
        seen,
        transition,
        input,
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/console/tips/{number}")).into_response(),
        Err(CaseError::Invalid(m)) => {
            show(
                &state,
                &officer,
                &number,
                Some(refusal(t, &m)),
                None,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => refused(t, &e),
    }
}

/// The extra fields a step needs, parsed; a message for the officer when they are wrong.
fn step_input(t: Tr, transition: &Transition, form: &FormFields) -> Result<StepInput, String> {
    let mut input = StepInput::default();
    match transition {
        Transition::Assign => {
            input.desks = form.all("desk").map(str::to_owned).collect();
            let brief = form.get("brief").unwrap_or_default();
            input.brief = Some(
                Brief::parse(brief)
                    .map_err(|_| "the brief must be 10 to 2000 characters".to_owned())?,
            );
        }
        Transition::MarkDuplicate => {
            let n = form.get("original").unwrap_or_default();
            input.duplicate_of =
                Some(TipNumber::parse(n).ok_or("the original's tip number is not valid")?);
        }
        Transition::MarkNotActionable => {
            let r = form.get("reason").unwrap_or_default();
            input.reason = Some(
                NotActionableReason::parse(r)
                    .map_err(|_| "the reason must be 3 to 500 characters".to_owned())?,
            );
        }
        Transition::ReportAction => {
            let raw = RawActionReport {
                raid_done: form.get("raid_done").map(str::to_owned),
                found: form.get("found").map(str::to_owned),
                seizure_items: form.all("seizure_item").map(str::to_owned).collect(),
                seizure_quantities: form.all("seizure_quantity").map(str::to_owned).collect(),
                seizure_units: form.all("seizure_unit").map(str::to_owned).collect(),
                arrests: form.get("arrests").map(str::to_owned),
                fir_number: form.get("fir_number").map(str::to_owned),
                remarks: form.get("remarks").map(str::to_owned),
            };
            input.report = Some(ActionReport::parse(&raw).map_err(|errs| {
                errs.iter()
                    .map(|e| outcome_error(t, e))
                    .collect::<Vec<_>>()
                    .join("; ")
            })?);
        }
        _ => {}
    }
    Ok(input)
}

/// One problem with an action-taken report, in the officer's language.
fn outcome_error(t: Tr, e: &crate::domain::OutcomeError) -> String {
    let field = t.get(&format!("con-out-{}", e.field.code()));
    let reason = t.get(&format!("con-out-why-{}", e.reason.code()));
    match e.row {
        Some(row) => format!("{field} ({row}): {reason}"),
        None => format!("{field}: {reason}"),
    }
}

/// `POST /console/tips/{number}/photos/{id}/original`: the original of a voice recording or of
/// a held video or document, for the range supervisor, with a reason that goes into the audit
/// log.
pub async fn release_original(
    State(state): State<AppState>,
    officer: Officer,
    headers: HeaderMap,
    Path((number, id)): Path<(String, i64)>,
    body: Bytes,
) -> Response {
    let t = officer.t;
    let form = match checked_form(
        &headers,
        &body,
        Some(&(officer.session.clone(), &state.core)),
    ) {
        Ok(f) => f,
        Err(r) => return r.page(t),
    };
    let case = match find(&state.core, &officer.session, &number).await {
        Ok(c) => c,
        Err(e) => return refused(t, &e),
    };
    if !case.allows(&officer.session, Action::ReleaseOriginal) {
        return refused(t, &CaseError::Forbidden);
    }
    let Ok(reason) = TipText::parse(form.get("reason").unwrap_or_default()) else {
        return show(
            &state,
            &officer,
            &number,
            Some(t.get("con-release-reason-needed")),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    match cases::release_original(&state.core, &officer.session, &case, id, &reason).await {
        Ok(Some((kind, bytes))) => {
            let extension = crate::domain::held::extension(&kind);
            (
                [
                    (header::CONTENT_TYPE, kind),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!(
                            "attachment; filename=\"tip-{number}-file-{id}-original.{extension}\""
                        ),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => refused(t, &CaseError::NotFound),
        Err(e) => refused(t, &e),
    }
}

pub async fn message_tipster(
    State(state): State<AppState>,
    officer: Officer,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Bytes,
) -> Response {
    let t = officer.t;
    let form = match checked_form(
        &headers,
        &body,
        Some(&(officer.session.clone(), &state.core)),
    ) {
        Ok(f) => f,
        Err(r) => return r.page(t),
    };
    let case = match find(&state.core, &officer.session, &number).await {
        Ok(c) => c,
        Err(e) => return refused(t, &e),
    };
    let Ok(text) = TipText::parse(form.get("text").unwrap_or_default()) else {
        return show(
            &state,
            &officer,
            &number,
            Some(t.get("err-text-empty")),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    match cases::message_tipster(&state.core, &officer.session, case.record.tip_id, &text).await {
        Ok(()) => Redirect::to(&format!("/console/tips/{number}")).into_response(),
        Err(e) => refused(t, &e),
    }
}

pub async fn correct_triage(
    State(state): State<AppState>,
    officer: Officer,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Bytes,
) -> Response {
    let t = officer.t;
    let form = match checked_form(
        &headers,
        &body,
        Some(&(officer.session.clone(), &state.core)),
    ) {
        Ok(f) => f,
        Err(r) => return r.page(t),
    };
    let case = match find(&state.core, &officer.session, &number).await {
        Ok(c) => c,
        Err(e) => return refused(t, &e),
    };
    let Some(category) = form.get("category").filter(|c| !c.is_empty()) else {
        return message(t, StatusCode::BAD_REQUEST, t.get("err-form-type"));
    };
    let input = cases::TriageInput {
        category: category.to_owned(),
        station: form
            .get("station")
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        urgent: form.get("urgent") == Some("yes"),
        police_involvement: form.get("police") == Some("yes"),
    };
    match cases::correct_triage(&state.core, &officer.session, case.record.tip_id, input).await {
        Ok(_) => Redirect::to(&format!("/console/tips/{number}")).into_response(),
        Err(CaseError::Invalid(m)) => {
            show(
                &state,
                &officer,
                &number,
                Some(refusal(t, &m)),
                None,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => refused(t, &e),
    }
}

/// The correction form's choices and the corrections made so far.
pub struct Corrections {
    may_correct: bool,
    category: String,
    station: String,
    categories: Vec<(String, String)>,
    stations: Vec<(String, String)>,
    /// (when, who, field, old, new)
    made: Vec<(String, String, String, String, String)>,
}

async fn corrections(
    core: &Core,
    session: &Session,
    t: Tr,
    case: &Case,
    officers: &[crate::store::OfficerRow],
) -> Result<Corrections, CaseError> {
    let r = &case.record;
    let may_correct = case.allows(session, Action::CorrectTriage);
    let made = core
        .store
        .triage_corrections(Some(r.tip_id))
        .await?
        .into_iter()
        .map(|c| {
            let who = officers
                .iter()
                .find(|o| o.officer_id == c.officer_id)
                .map_or_else(|| "-".to_owned(), |o| o.display_name.clone());
            let value = |v: Option<String>| v.unwrap_or_else(|| "-".into());
            (
                ist(c.created_at),
                who,
                c.field,
                value(c.old_value),
                value(c.new_value),
            )
        })
        .collect();
    let mut categories: Vec<(String, String)> = core
        .lexicon
        .categories
        .iter()
        .map(|c| (c.id.clone(), category_label(core, t, Some(&c.id))))
        .collect();
    for extra in ["other", "not_a_tip"] {
        categories.push((extra.to_owned(), t.get(&format!("con-category-{extra}"))));
    }
    let stations = r
        .district_id
        .as_deref()
        .and_then(|d| core.jurisdiction.district(d))
        .map(|d| {
            d.stations
                .iter()
                .filter(|s| Some(s.id.as_str()) != r.barred_station_id.as_deref())
                .map(|s| {
                    (
                        s.id.as_str().to_owned(),
                        desk_label(core, t, Some(s.id.as_str())),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Corrections {
        may_correct,
        category: r.category.clone().unwrap_or_default(),
        station: r.station_id.clone().unwrap_or_default(),
        categories,
        stations,
        made,
    })
}
