//! Administration and oversight: the administrator's officer list (add, disable, enable, reset a
//! password) and the range supervisor's audit view (by officer, by tip, since a time) with the
//! officers who opened more tip texts in the last hour than the configured rate.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Officer, checked_form, internal, message};
use crate::domain::{Action, NewPassword, OfficerScope, Role, Username, allows};
use crate::http::pages::render;
use crate::http::{AppState, Tr, ist};
use crate::officers::{self, OfficerError, OfficerInput};
use crate::store::AuditFilter;

/// Most audit entries on one page (newest first).
const AUDIT_ROWS: i64 = 500;

#[derive(Template)]
#[template(path = "console/officers.html")]
struct OfficersPage {
    t: Tr,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
    officers: Vec<(i64, String, String, String, String, bool)>,
    roles: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    t: Tr,
    flagged: Vec<(String, i64)>,
    entries: Vec<(i64, String, String, String, String)>,
    filter_officer: String,
    filter_tip: String,
    filter_from: String,
    filter_to: String,
}

fn forbidden(t: Tr) -> Response {
    message(t, StatusCode::FORBIDDEN, t.get("con-err-forbidden"))
}

async fn officers_view(
    state: &AppState,
    officer: &Officer,
    error: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let t = officer.t;
    let rows = match state.core.store.officers().await {
        Ok(r) => r,
        Err(e) => return internal(t, &e),
    };
    let page = OfficersPage {
        t,
        csrf: officer.session.form_token(&state.core),
        error,
        notice,
        officers: rows
            .into_iter()
            .map(|o| {
                let place = [
                    o.district_id.unwrap_or_default(),
                    o.desk_id.unwrap_or_default(),
                ]
                .join(" ");
                (
                    o.officer_id,
                    o.username,
                    o.display_name,
                    t.get(&format!("con-role-{}", o.role)),
                    place,
                    o.disabled,
                )
            })
            .collect(),
        roles: Role::ALL
            .iter()
            .map(|r| {
                (
                    r.as_str().to_owned(),
                    t.get(&format!("con-role-{}", r.as_str())),
                )
            })
            .collect(),
    };
    render(status, &page)
}

pub async fn officers_page(State(state): State<AppState>, officer: Officer) -> Response {
    if !allows(&officer.session.scope, Action::ManageOfficers, None) {
        return forbidden(officer.t);
    }
    officers_view(&state, &officer, None, None, StatusCode::OK).await
}

pub async fn add_officer(
    State(state): State<AppState>,
    officer: Officer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = officer.t;
    if !allows(&officer.session.scope, Action::ManageOfficers, None) {
        return forbidden(t);
    }
    let form = match checked_form(
        &headers,
        &body,
        Some(&(officer.session.clone(), &state.core)),
    ) {
        Ok(f) => f,
        Err(r) => return r.page(t),
    };
    let input = match officer_input(&form) {
        Ok(i) => i,
        Err(m) => {
            return officers_view(&state, &officer, Some(m), None, StatusCode::BAD_REQUEST).await;
        }
    };
    match officers::add_officer(&state.core, input, &officer.session.actor()).await {
        Ok(_) => {
            officers_view(
                &state,
                &officer,
                None,
                Some(t.get("con-officer-added")),
                StatusCode::CREATED,
            )
            .await
        }
        Err(OfficerError::Invalid(m)) => {
            officers_view(&state, &officer, Some(m), None, StatusCode::BAD_REQUEST).await
        }
        Err(e) => internal(t, &e),
    }
}

/// The fields of the add form, parsed.
fn officer_input(form: &crate::http::forms::FormFields) -> Result<OfficerInput, String> {
    let non_empty = |k: &str| form.non_empty(k).map(|v| v.trim().to_owned());
    let username =
        Username::parse(form.get("username").unwrap_or_default()).map_err(|e| e.to_string())?;
    let role = Role::parse(form.get("role").unwrap_or_default()).ok_or("choose a role")?;
    let scope = OfficerScope::new(role, non_empty("district"), non_empty("desk"))
        .map_err(|e| e.to_string())?;
    let password = NewPassword::parse(form.get("password").unwrap_or_default(), &username)
        .map_err(|e| e.to_string())?;
    Ok(OfficerInput {
        display_name: form.get("display_name").unwrap_or_default().to_owned(),
        username,
        scope,
        password,
    })
}

pub async fn change_officer(
    State(state): State<AppState>,
    officer: Officer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let t = officer.t;
    if !allows(&officer.session.scope, Action::ManageOfficers, None) {
        return forbidden(t);
    }
    let form = match checked_form(
        &headers,
        &body,
        Some(&(officer.session.clone(), &state.core)),
    ) {
        Ok(f) => f,
        Err(r) => return r.page(t),
    };
    let by = officer.session.actor();
    let core = &state.core;
    let result = match form.get("op") {
        Some("disable") if id == officer.session.officer.officer_id => {
            Err(OfficerError::Invalid(t.get("con-err-self")))
        }
        Some("disable") => officers::set_disabled(core, id, true, &by).await,
        Some("enable") => officers::set_disabled(core, id, false, &by).await,
        Some("reset") => match core.store.officer(id).await {
            Ok(Some(o)) => {
                let username =
                    Username::parse(&o.username).map_err(|e| OfficerError::Invalid(e.to_string()));
                match username.and_then(|u| {
                    NewPassword::parse(form.get("password").unwrap_or_default(), &u)
                        .map_err(|e| OfficerError::Invalid(e.to_string()))
                }) {
                    Ok(p) => officers::reset_password(core, id, &p, &by).await,
                    Err(e) => Err(e),
                }
            }
            Ok(None) => Err(OfficerError::NotFound),
            Err(e) => Err(e.into()),
        },
        _ => return message(t, StatusCode::BAD_REQUEST, t.get("err-form-type")),
    };
    match result {
        Ok(()) => Redirect::to("/console/officers").into_response(),
        Err(OfficerError::NotFound) => {
            message(t, StatusCode::NOT_FOUND, t.get("con-err-not-found"))
        }
        Err(OfficerError::Invalid(m)) => {
            officers_view(&state, &officer, Some(m), None, StatusCode::BAD_REQUEST).await
        }
        Err(e) => internal(t, &e),
    }
}

/// The audit view's filters.
#[derive(Deserialize, Default)]
pub struct AuditQuery {
    officer: Option<String>,
    tip: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// The start of a day given as `YYYY-MM-DD`, in India Standard Time, as Unix ms.
fn ist_day_start(day: &str) -> Option<i64> {
    crate::digest::parse_day(day).map(|d| crate::digest::bounds(d).0)
}

pub async fn audit_page(
    State(state): State<AppState>,
    officer: Officer,
    Query(q): Query<AuditQuery>,
) -> Response {
    let t = officer.t;
    if !allows(&officer.session.scope, Action::ReadAudit, None) {
        return forbidden(t);
    }
    let core = &state.core;
    let now = core.clock.now_ms();
    let officers = match core.store.officers().await {
        Ok(o) => o,
        Err(e) => return internal(t, &e),
    };
    let mut flagged = Vec::new();
    for o in &officers {
        match core
            .store
            .count_actions(&officers::actor(o.officer_id), "tip.view", now - 3_600_000)
            .await
        {
            Ok(n) if n > i64::from(core.policy.console.view_flag_per_hour) => {
                flagged.push((o.display_name.clone(), n))
            }
            Ok(_) => {}
            Err(e) => return internal(t, &e),
        }
    }
    let mut filter = AuditFilter {
        limit: AUDIT_ROWS,
        ..Default::default()
    };
    if let Some(name) = q
        .officer
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let Some(o) = officers.iter().find(|o| o.username == name) else {
            return message(t, StatusCode::NOT_FOUND, t.get("con-err-not-found"));
        };
        filter.actor = Some(officers::actor(o.officer_id));
    }
    if let Some(number) = q.tip.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        match core.store.tip_auth(number).await {
            Ok(Some(a)) => filter.subject = Some(format!("tip:{}", a.tip_id.get())),
            Ok(None) => return message(t, StatusCode::NOT_FOUND, t.get("con-err-not-found")),
            Err(e) => return internal(t, &e),
        }
    }
    for (field, value, next_day) in [
        (&mut filter.since, &q.from, false),
        (&mut filter.until, &q.to, true),
    ] {
        if let Some(day) = value.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let Some(ms) = ist_day_start(day) else {
                return message(t, StatusCode::BAD_REQUEST, t.get("con-err-date"));
            };
            // "to" includes the whole day it names.
            *field = Some(if next_day { ms + 24 * 3_600_000 } else { ms });
        }
    }
    let entries = core.store.audit_search(filter).await;
    let entries = match entries {
        Ok(e) => e,
        Err(e) => return internal(t, &e),
    };
    let name_of = |actor: &str| {
        actor
            .strip_prefix("officer:")
            .and_then(|id| id.parse::<i64>().ok())
            .and_then(|id| officers.iter().find(|o| o.officer_id == id))
            .map_or_else(
                || actor.to_owned(),
                |o| format!("{} ({})", o.display_name, o.username),
            )
    };
    let page = AuditPage {
        t,
        flagged,
        entries: entries
            .into_iter()
            .map(|e| {
                (
                    e.seq,
                    ist(e.created_at),
                    name_of(&e.actor),
                    e.action,
                    e.subject,
                )
            })
            .collect(),
        filter_officer: q.officer.unwrap_or_default(),
        filter_tip: q.tip.unwrap_or_default(),
        filter_from: q.from.unwrap_or_default(),
        filter_to: q.to.unwrap_or_default(),
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::ist_day_start;

    #[test]
    fn days_start_at_midnight_in_india() {
        // 2026-11-29 00:00 IST is 2026-11-28 18:30 UTC.
        assert_eq!(ist_day_start("2026-11-29"), Some(1_795_890_600_000));
        assert_eq!(ist_day_start("2026-02-30"), None);
        assert_eq!(ist_day_start("29-11-2026"), None);
        assert_eq!(ist_day_start("yesterday"), None);
    }
}
