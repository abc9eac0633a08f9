//! The range dashboard (every district: open, late and escalated tips, who is on duty now, a red
//! warning where nobody is, messages that did not arrive (given up here, or reported failed by
//! their provider, with its error code), the latest messages and what their providers report of
//! them, officers flagged for bulk viewing) and the duty roster page (who is on duty now and in the next day; adding a shift).

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::queue::district_label;
use super::{Officer, checked_form, internal, message};
use crate::alerts::roster::{self, Duty, RawShift};
use crate::domain::{Action, Role, allows};
use crate::http::pages::render;
use crate::http::{AppState, Tr, ist};
use crate::store::OutboxRow;

/// One district on the dashboard.
pub struct DistrictLine {
    name: String,
    open: i64,
    late: i64,
    escalated: i64,
    /// (duty, names) of those on duty now.
    on_duty: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/range.html")]
struct RangePage {
    t: Tr,
    csrf: String,
    districts: Vec<DistrictLine>,
    range_on_duty: String,
    /// Messages that did not arrive.
    failed: Vec<OutboxLine>,
    /// The latest messages.
    deliveries: Vec<OutboxLine>,
    /// (when, tip number, district) of tips that repeat a place where action was taken.
    repeats: Vec<(String, String, String)>,
    /// (when, tip number, district) of tips in a burst naming one person.
    bursts: Vec<(String, String, String)>,
}

/// An outbox message as listed: never its destination or text.
pub struct OutboxLine {
    when: String,
    tip_number: String,
    channel: String,
    /// What became of it, in the officer's language (with a provider's error code).
    state: String,
    /// Why it was not sent, as the sender recorded it.
    error: String,
}

/// Where a message stands: waiting, given up here, or the provider's last report (a failure
/// with its error code).
pub(super) fn delivery_state(t: Tr, row: &OutboxRow) -> String {
    match (row.status.as_str(), row.delivery.as_deref()) {
        ("failed", _) => t.get("con-delivery-given-up"),
        (_, Some("failed")) => t.get_with(
            "con-delivery-failed",
            "code",
            row.delivery_error.as_deref().unwrap_or("-"),
        ),
        (_, Some("read")) => t.get("con-delivery-read"),
        (_, Some("delivered")) => t.get("con-delivery-delivered"),
        ("sent", _) => t.get("con-delivery-sent"),
        _ => t.get("con-delivery-pending"),
    }
}

/// The lines of outbox rows, with their tips' numbers.
async fn outbox_lines(state: &AppState, t: Tr, rows: &[OutboxRow]) -> Vec<OutboxLine> {
    let mut out = Vec::new();
    for row in rows {
        let tip_number = match row.tip_id {
            Some(id) => state
                .core
                .store
                .tip(id)
                .await
                .ok()
                .flatten()
                .map(|r| r.tip_number)
                .unwrap_or_default(),
            None => String::new(),
        };
        out.push(OutboxLine {
            when: ist(row.created_at),
            tip_number,
            channel: row.channel.clone(),
            state: delivery_state(t, row),
            error: match row.status.as_str() {
                "failed" => row.last_error.clone().unwrap_or_default(),
                _ => String::new(),
            },
        });
    }
    out
}

/// Messages listed among the latest.
const DELIVERIES_SHOWN: i64 = 50;

/// Repeat alarms of the last two weeks are listed.
const REPEATS_SHOWN_MS: i64 = 14 * 24 * 3_600_000;

pub async fn range_page(State(state): State<AppState>, officer: Officer) -> Response {
    let t = officer.t;
    if !allows(&officer.session.scope, Action::ViewRangeDashboard, None) {
        return message(t, StatusCode::FORBIDDEN, t.get("con-err-forbidden"));
    }
    let core = &state.core;
    let now = core.clock.now_ms();
    let (stats, shifts, failed, recent, repeats, bursts) = match tokio::try_join!(
        core.store.district_stats(now),
        core.store.shifts(now, now + 1),
        core.store.outbox_about(None, 50),
        core.store.outbox_recent(DELIVERIES_SHOWN),
        core.store
            .linked_alarms("repeat_after_action", now - REPEATS_SHOWN_MS, 50),
        core.store
            .linked_alarms("same_person_burst", now - REPEATS_SHOWN_MS, 50),
    ) {
        Ok(v) => v,
        Err(e) => return internal(t, &e),
    };
    let duty_label = |d: &str| t.get(&format!("con-duty-{d}"));
    let names = |district: Option<&str>, duties: &[Duty]| -> Vec<(String, String)> {
        duties
            .iter()
            .filter_map(|duty| {
                let who: Vec<&str> = shifts
                    .iter()
                    .filter(|s| s.duty == duty.as_str() && s.district_id.as_deref() == district)
                    .map(|s| s.display_name.as_str())
                    .collect();
                (!who.is_empty()).then(|| (duty_label(duty.as_str()), who.join(", ")))
            })
            .collect()
    };
    let districts = core
        .jurisdiction
        .districts
        .iter()
        .map(|d| {
            let id = d.id.as_str();
            let (open, late, escalated) = stats
                .iter()
                .find(|s| s.0.as_deref() == Some(id))
                .map_or((0, 0, 0), |s| (s.1, s.2, s.3));
            DistrictLine {
                name: district_label(core, t, Some(id)),
                open,
                late,
                escalated,
                on_duty: names(Some(id), &[Duty::Operator, Duty::Asp, Duty::Sp]),
            }
        })
        .collect();
    let alarm_lines = |rows: Vec<(String, Option<String>, i64)>| -> Vec<(String, String, String)> {
        rows.into_iter()
            .map(|(number, district, at)| {
                (
                    ist(at),
                    number,
                    district_label(core, t, district.as_deref()),
                )
            })
            .collect()
    };
    let page = RangePage {
        repeats: alarm_lines(repeats),
        bursts: alarm_lines(bursts),
        csrf: officer.session.form_token(core),
        districts,
        range_on_duty: names(None, &[Duty::Range])
            .into_iter()
            .map(|(_, n)| n)
            .collect::<Vec<_>>()
            .join(", "),
        failed: outbox_lines(&state, t, &failed).await,
        deliveries: outbox_lines(&state, t, &recent).await,
        t,
    };
    render(StatusCode::OK, &page)
}

/// May this officer manage the roster of `district` (`None`: the range duty)?
fn may_manage(officer: &Officer, district: Option<&str>) -> bool {
    let scope = &officer.session.scope;
    match scope.role {
        Role::Admin | Role::RangeSupervisor => true,
        Role::DistrictSupervisor => district.is_some() && district == scope.district_id.as_deref(),
        _ => false,
    }
}

/// A shift as shown.
pub struct ShiftLine {
    from: String,
    to: String,
    duty: String,
    place: String,
    officer: String,
}

#[derive(Template)]
#[template(path = "console/roster.html")]
struct RosterPage {
    t: Tr,
    csrf: String,
    shifts: Vec<ShiftLine>,
    duties: Vec<(String, String)>,
    error: Option<String>,
}

pub async fn roster_page(State(state): State<AppState>, officer: Officer) -> Response {
    roster_view(&state, &officer, None, StatusCode::OK).await
}

async fn roster_view(
    state: &AppState,
    officer: &Officer,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let t = officer.t;
    let scope = &officer.session.scope;
    if !matches!(
        scope.role,
        Role::Admin | Role::RangeSupervisor | Role::DistrictSupervisor
    ) {
        return message(t, StatusCode::FORBIDDEN, t.get("con-err-forbidden"));
    }
    let core = &state.core;
    let now = core.clock.now_ms();
    let shifts = match core.store.shifts(now, now + 24 * 3_600_000).await {
        Ok(s) => s,
        Err(e) => return internal(t, &e),
    };
    let own = scope.district_id.clone();
    let page = RosterPage {
        csrf: officer.session.form_token(core),
        shifts: shifts
            .into_iter()
            // A district supervisor sees their own district's roster and the range duty.
            .filter(|s| {
                scope.role != Role::DistrictSupervisor
                    || s.district_id.is_none()
                    || s.district_id == own
            })
            .map(|s| ShiftLine {
                from: ist(s.starts_at),
                to: ist(s.ends_at),
                duty: t.get(&format!("con-duty-{}", s.duty)),
                place: s
                    .desk_id
                    .as_deref()
                    .map(|d| super::queue::desk_label(core, t, Some(d)))
                    .unwrap_or_else(|| district_label(core, t, s.district_id.as_deref())),
                officer: s.display_name,
            })
            .collect(),
        duties: Duty::ALL
            .iter()
            .map(|d| {
                (
                    d.as_str().to_owned(),
                    t.get(&format!("con-duty-{}", d.as_str())),
                )
            })
            .collect(),
        error,
        t,
    };
    render(status, &page)
}

pub async fn add_shift(
    State(state): State<AppState>,
    officer: Officer,
    headers: HeaderMap,
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
    let get = |k: &str| {
        form.get(k)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let raw = RawShift {
        officer: get("officer").unwrap_or_default(),
        duty: get("duty").unwrap_or_default(),
        district: get("district"),
        desk: get("desk"),
        from: get("from").unwrap_or_default().replace('T', " "),
        to: get("to").unwrap_or_default().replace('T', " "),
    };
    let core = &state.core;
    let shift = match roster::check(core, 1, &raw, &officer.session.actor()).await {
        Ok(s) => s,
        Err(roster::RosterError::Invalid(m)) => {
            return roster_view(&state, &officer, Some(m), StatusCode::BAD_REQUEST).await;
        }
        Err(roster::RosterError::Store(e)) => return internal(t, &e),
    };
    if !may_manage(&officer, shift.district_id.as_deref()) {
        return message(t, StatusCode::FORBIDDEN, t.get("con-err-forbidden"));
    }
    match core.store.add_shift(shift).await {
        Ok(()) => Redirect::to("/console/roster").into_response(),
        Err(e) => internal(t, &e),
    }
}
