//! The daily digest page: today so far, then the stored digests of the last two weeks, for the
//! officer's district (district supervisor) or for every district and the range (range
//! supervisor, who may also pick one district with `?district=`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Officer, internal, message};
use crate::digest::{self, RANGE};
use crate::domain::{Action, Role, allows};
use crate::http::pages::render;
use crate::http::{AppState, Tr};
use crate::store::DigestRow;

/// Stored days shown.
const DAYS: i64 = 14;

#[derive(Deserialize, Default)]
pub struct DigestQuery {
    district: Option<String>,
}

/// One line of the table.
pub struct Line {
    day: String,
    name: String,
    received: i64,
    acknowledged_late: i64,
    overdue: i64,
    escalated: i64,
    range: bool,
}

/// Today so far, or the stored days.
pub struct Section {
    heading: String,
    id: &'static str,
    lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "console/digest.html")]
struct DigestPage {
    t: Tr,
    csrf: String,
    sections: [Section; 2],
}

pub async fn digest_page(
    State(state): State<AppState>,
    officer: Officer,
    Query(q): Query<DigestQuery>,
) -> Response {
    let t = officer.t;
    let scope = &officer.session.scope;
    if !allows(scope, Action::ViewDigest, None) {
        return message(t, StatusCode::FORBIDDEN, t.get("con-err-forbidden"));
    }
    let core = &state.core;
    let asked = q.district.filter(|d| !d.is_empty());
    if let Some(d) = &asked
        && !core
            .jurisdiction
            .districts
            .iter()
            .any(|x| x.id.as_str() == d)
    {
        return message(t, StatusCode::NOT_FOUND, t.get("con-err-no-district"));
    }
    let scopes: Vec<String> = match (scope.role, asked) {
        (Role::RangeSupervisor, Some(d)) => vec![d],
        (Role::RangeSupervisor, None) => core
            .jurisdiction
            .districts
            .iter()
            .map(|d| d.id.as_str().to_owned())
            .chain([RANGE.to_owned()])
            .collect(),
        (_, asked) => match (&scope.district_id, asked) {
            (Some(own), None) => vec![own.clone()],
            (Some(own), Some(d)) if *own == d => vec![d],
            _ => return message(t, StatusCode::FORBIDDEN, t.get("con-err-forbidden")),
        },
    };
    let now = core.clock.now_ms();
    let today = match digest::compute(core, digest::day_of(now), now).await {
        Ok(rows) => rows,
        Err(e) => return internal(t, &e),
    };
    let past = match core
        .store
        .digests(scopes.clone(), DAYS * scopes.len() as i64)
        .await
    {
        Ok(rows) => rows,
        Err(e) => return internal(t, &e),
    };
    let line = |r: &DigestRow| Line {
        day: r.day.clone(),
        name: digest::scope_name(core, &r.scope),
        received: r.received,
        acknowledged_late: r.acknowledged_late,
        overdue: r.overdue,
        escalated: r.escalated,
        range: r.scope == RANGE,
    };
    let page = DigestPage {
        csrf: officer.session.form_token(core),
        sections: [
            Section {
                heading: t.get("con-digest-today"),
                id: "today",
                lines: today
                    .iter()
                    .filter(|r| scopes.contains(&r.scope))
                    .map(line)
                    .collect(),
            },
            Section {
                heading: t.get("con-digest-past"),
                id: "past",
                lines: past.iter().map(line).collect(),
            },
        ],
        t,
    };
    render(StatusCode::OK, &page)
}
