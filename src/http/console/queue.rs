//! The queue: open tips of the officer's district (every district for the range supervisor, the
//! assigned ones for a station or unit), urgent first and then oldest first, with filters, search
//! through the blind index, and keyset paging that stays fast however many tips there are.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Officer, internal};
use crate::app::Core;
use crate::domain::{Action, Role, TipStatus, allows};
use crate::http::pages::render;
use crate::http::{AppState, Tr, ist};
use crate::store::{QueueFilter, QueueRow};

/// Rows per page.
const PAGE: i64 = 50;
/// Most tips a search considers.
const SEARCH_LIMIT: i64 = 1000;

/// The filters, as the query string carries them. Unknown values are ignored, not trusted.
#[derive(Deserialize, Default)]
pub struct QueueQuery {
    status: Option<String>,
    category: Option<String>,
    station: Option<String>,
    channel: Option<String>,
    flag: Option<String>,
    district: Option<String>,
    q: Option<String>,
    after: Option<String>,
}

/// One row as shown.
pub struct Row {
    number: String,
    status: String,
    priority: String,
    urgent: bool,
    police: bool,
    category: String,
    station: String,
    district: String,
    channel: String,
    received: String,
    age: String,
}

#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage {
    t: Tr,
    officer: String,
    role: String,
    csrf: String,
    may_enter: bool,
    may_audit: bool,
    rows: Vec<Row>,
    next: Option<String>,
    filter_q: String,
    filter_status: String,
    filter_flag: String,
    filter_category: String,
    categories: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    desk_view: bool,
}

pub async fn queue_page(
    State(state): State<AppState>,
    officer: Officer,
    Query(q): Query<QueueQuery>,
) -> Response {
    let Officer { session, t } = officer;
    let core = &state.core;
    if session.scope.role == Role::Admin {
        return Redirect::to("/console/officers").into_response();
    }
    if !allows(&session.scope, Action::ViewQueue, None) {
        return super::message(t, StatusCode::FORBIDDEN, t.get("con-err-forbidden"));
    }
    let mut filter = match build_filter(core, &session.scope, &q).await {
        Ok(f) => f,
        Err(e) => return internal(t, &e),
    };
    filter.limit = PAGE + 1;
    let mut found = match core.store.queue(filter).await {
        Ok(rows) => rows,
        Err(e) => return internal(t, &e),
    };
    let next = (found.len() as i64 > PAGE).then(|| {
        found.truncate(PAGE as usize);
        found
            .last()
            .map(|r| format!("{}-{}", r.priority_rank, r.tip_id.get()))
            .unwrap_or_default()
    });
    let now = core.clock.now_ms();
    let page = QueuePage {
        officer: session.officer.display_name.clone(),
        role: t.get(&format!("con-role-{}", session.scope.role.as_str())),
        csrf: session.form_token(core),
        may_enter: allows(&session.scope, Action::EnterPhoneTip, None),
        may_audit: allows(&session.scope, Action::ReadAudit, None),
        rows: found.iter().map(|r| row(core, t, r, now)).collect(),
        next,
        filter_q: q.q.clone().unwrap_or_default(),
        filter_status: q.status.clone().unwrap_or_default(),
        filter_flag: q.flag.clone().unwrap_or_default(),
        filter_category: q.category.clone().unwrap_or_default(),
        categories: core
            .lexicon
            .categories
            .iter()
            .map(|c| (c.id.clone(), label(t, &c.label_hi, &c.label_en)))
            .collect(),
        statuses: ALL_STATUSES
            .iter()
            .map(|s| (s.as_str().to_owned(), status_label(t, s.as_str())))
            .collect(),
        desk_view: session.scope.desk_id.is_some(),
        t,
    };
    render(StatusCode::OK, &page)
}

const ALL_STATUSES: [TipStatus; 8] = [
    TipStatus::New,
    TipStatus::Acknowledged,
    TipStatus::Assigned,
    TipStatus::InAction,
    TipStatus::ActionTaken,
    TipStatus::Closed,
    TipStatus::Duplicate,
    TipStatus::NotActionable,
];

/// The store filter for this officer: the scope comes from the session, never from the request.
async fn build_filter(
    core: &Core,
    scope: &crate::domain::OfficerScope,
    q: &QueueQuery,
) -> Result<QueueFilter, crate::store::StoreError> {
    let mut f = QueueFilter::default();
    match scope.role {
        Role::RangeSupervisor => {
            f.district_id = q
                .district
                .clone()
                .filter(|d| core.jurisdiction.district(d).is_some());
        }
        Role::StationOfficer | Role::UnitOfficer => {
            f.district_id = scope.district_id.clone();
            f.desk_id = scope.desk_id.clone();
        }
        Role::Operator => {
            f.district_id = scope.district_id.clone();
            f.exclude_police = true;
        }
        _ => f.district_id = scope.district_id.clone(),
    }
    if let Some(s) = q.status.as_deref().and_then(TipStatus::parse) {
        f.statuses = vec![s.as_str().to_owned()];
    }
    f.category = q
        .category
        .clone()
        .filter(|c| core.lexicon.categories.iter().any(|k| &k.id == c));
    f.station_id = q
        .station
        .clone()
        .filter(|s| core.jurisdiction.station(s).is_some());
    f.channel = q
        .channel
        .clone()
        .filter(|c| ["web", "api", "phone"].contains(&c.as_str()));
    f.urgent_only = q.flag.as_deref() == Some("urgent");
    f.police_only = q.flag.as_deref() == Some("police");
    f.after = q.after.as_deref().and_then(parse_after);
    if let Some(words) = q.q.as_deref().filter(|w| !w.trim().is_empty()) {
        f.tip_ids = Some(search(core, words).await?);
    }
    Ok(f)
}

fn parse_after(s: &str) -> Option<(i64, i64)> {
    let (rank, id) = s.split_once('-')?;
    Some((rank.parse().ok()?, id.parse().ok()?))
}

/// Tips containing every word (through the blind index: the words are never stored or logged).
async fn search(
    core: &Core,
    words: &str,
) -> Result<Vec<crate::domain::TipId>, crate::store::StoreError> {
    let terms = crate::search::terms(core.keyring.keys(), words);
    let mut result: Option<BTreeSet<i64>> = None;
    for term in terms.into_iter().take(8) {
        let ids: BTreeSet<i64> = core
            .store
            .tips_with_term(term, SEARCH_LIMIT)
            .await?
            .into_iter()
            .map(|id| id.get())
            .collect();
        result = Some(match result {
            Some(r) => r.intersection(&ids).copied().collect(),
            None => ids,
        });
    }
    Ok(result
        .unwrap_or_default()
        .into_iter()
        .map(crate::domain::TipId::from_db)
        .collect())
}

fn label(t: Tr, hi: &str, en: &str) -> String {
    if t.lang() == "hi" && !hi.is_empty() {
        hi.to_owned()
    } else {
        en.to_owned()
    }
}

/// A status in the officer's language.
pub fn status_label(t: Tr, status: &str) -> String {
    t.get(&format!("con-status-{status}"))
}

/// A category id in the officer's language.
pub fn category_label(core: &Core, t: Tr, id: Option<&str>) -> String {
    id.and_then(|id| core.lexicon.categories.iter().find(|c| c.id == id))
        .map(|c| label(t, &c.label_hi, &c.label_en))
        .unwrap_or_else(|| id.unwrap_or("-").to_owned())
}

/// A station or unit id by name in the officer's language.
pub fn desk_label(core: &Core, t: Tr, id: Option<&str>) -> String {
    let Some(id) = id else { return "-".into() };
    if let Some((_, s)) = core.jurisdiction.station(id) {
        return label(t, &s.name_hi, &s.name_en);
    }
    core.jurisdiction
        .districts
        .iter()
        .flat_map(|d| d.units.iter())
        .chain(core.jurisdiction.range_units.iter())
        .find(|u| u.id == id)
        .map(|u| label(t, &u.name_hi, &u.name_en))
        .unwrap_or_else(|| id.to_owned())
}

/// A district id by name.
pub fn district_label(core: &Core, t: Tr, id: Option<&str>) -> String {
    id.and_then(|id| core.jurisdiction.district(id))
        .map(|d| label(t, &d.name_hi, &d.name_en))
        .unwrap_or_else(|| t.get("con-range"))
}

/// Time since `ms` in minutes, hours or days.
pub fn age(t: Tr, now: i64, ms: i64) -> String {
    let minutes = ((now - ms).max(0) / 60_000) as usize;
    match minutes {
        m if m < 60 => t.get_n("con-age-minutes", "n", m),
        m if m < 48 * 60 => t.get_n("con-age-hours", "n", m / 60),
        m => t.get_n("con-age-days", "n", m / (24 * 60)),
    }
}

fn row(core: &Core, t: Tr, r: &QueueRow, now: i64) -> Row {
    Row {
        number: r.tip_number.clone(),
        status: status_label(t, &r.status),
        priority: t.get(&format!("con-priority-{}", r.priority)),
        urgent: r.urgent,
        police: r.police_involvement,
        category: category_label(core, t, r.category.as_deref()),
        station: desk_label(core, t, r.station_id.as_deref()),
        district: district_label(core, t, r.district_id.as_deref()),
        channel: t.get(&format!("con-channel-{}", r.channel)),
        received: ist(r.created_at),
        age: age(t, now, r.created_at),
    }
}
