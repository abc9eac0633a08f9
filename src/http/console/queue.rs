//! The queue: open tips of the officer's district (every district for the range supervisor, the
//! assigned ones for a station or unit), urgent first and then oldest first, with filters, search
//! through the blind index, and keyset paging that stays fast however many tips there are.

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
use crate::policy::{Step, TipDeadlines};
use crate::store::{QueueFilter, QueueRow};

/// Rows per page.
const PAGE: i64 = 50;
/// Most words a search uses.
const MAX_TERMS: usize = 8;

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
    /// The running deadline and whether it has passed.
    due: Option<(String, bool)>,
    /// Escalated to whom, if it was.
    escalated: Option<String>,
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
    may_roster: bool,
    may_digest: bool,
    rows: Vec<Row>,
    next: Option<String>,
    filter_q: String,
    filter_status: String,
    filter_flag: String,
    filter_category: String,
    filter_station: String,
    filter_channel: String,
    filter_district: String,
    categories: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    stations: Vec<(String, String)>,
    channels: Vec<(String, String)>,
    districts: Vec<(String, String)>,
    desk_view: bool,
}

/// Channels a tip can come in on (the filter's choices).
const CHANNELS: [&str; 9] = [
    "web",
    "api",
    "phone",
    "sms",
    "whatsapp",
    "telegram",
    "messenger",
    "x",
    "voice",
];

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
    let mut filter = build_filter(core, &session.scope, &q);
    filter.limit = PAGE + 1;
    let mut found = match core.store.queue(filter.clone()).await {
        Ok(rows) => rows,
        Err(e) => return internal(t, &e),
    };
    let next = (found.len() as i64 > PAGE).then(|| {
        found.truncate(PAGE as usize);
        let after = found
            .last()
            .map(|r| format!("{}-{}", r.priority_rank, r.tip_id.get()))
            .unwrap_or_default();
        next_href(&q, &after)
    });
    let desk_view = session.scope.desk_id.is_some();
    let range_view = session.scope.role == Role::RangeSupervisor;
    // Station choices: the officer's district, or the chosen one, or every district's.
    let station_district = if range_view {
        filter.district_id.clone()
    } else {
        session.scope.district_id.clone()
    };
    let now = core.clock.now_ms();
    let page = QueuePage {
        officer: session.officer.display_name.clone(),
        role: t.get(&format!("con-role-{}", session.scope.role.as_str())),
        csrf: session.form_token(core),
        may_enter: allows(&session.scope, Action::EnterPhoneTip, None),
        may_audit: allows(&session.scope, Action::ReadAudit, None),
        may_roster: matches!(
            session.scope.role,
            Role::RangeSupervisor | Role::DistrictSupervisor
        ),
        may_digest: allows(&session.scope, Action::ViewDigest, None),
        rows: found.iter().map(|r| row(core, t, r, now)).collect(),
        next,
        filter_q: q.q.clone().unwrap_or_default(),
        filter_status: q.status.clone().unwrap_or_default(),
        filter_flag: q.flag.clone().unwrap_or_default(),
        filter_category: q.category.clone().unwrap_or_default(),
        filter_station: q.station.clone().unwrap_or_default(),
        filter_channel: q.channel.clone().unwrap_or_default(),
        filter_district: q.district.clone().unwrap_or_default(),
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
        stations: if desk_view {
            Vec::new()
        } else {
            core.jurisdiction
                .districts
                .iter()
                .filter(|d| {
                    station_district
                        .as_deref()
                        .is_none_or(|id| d.id.as_str() == id)
                })
                .flat_map(|d| d.stations.iter())
                .map(|s| (s.id.as_str().to_owned(), label(t, &s.name_hi, &s.name_en)))
                .collect()
        },
        channels: if desk_view {
            Vec::new()
        } else {
            CHANNELS
                .iter()
                .map(|c| ((*c).to_owned(), t.get(&format!("con-channel-{c}"))))
                .collect()
        },
        districts: if range_view {
            core.jurisdiction
                .districts
                .iter()
                .map(|d| (d.id.as_str().to_owned(), label(t, &d.name_hi, &d.name_en)))
                .collect()
        } else {
            Vec::new()
        },
        desk_view,
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
fn build_filter(core: &Core, scope: &crate::domain::OfficerScope, q: &QueueQuery) -> QueueFilter {
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
    f.channel = q.channel.clone().filter(|c| CHANNELS.contains(&c.as_str()));
    f.urgent_only = q.flag.as_deref() == Some("urgent");
    f.police_only = q.flag.as_deref() == Some("police");
    f.after = q.after.as_deref().and_then(parse_after);
    if let Some(words) = q.q.as_deref() {
        // Through the blind index: the words themselves are never stored or logged.
        f.terms = crate::search::terms(core.keyring.keys(), words);
        f.terms.truncate(MAX_TERMS);
    }
    f
}

/// The link to the next page: the same filters, continued after `after`.
fn next_href(q: &QueueQuery, after: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let mut href = format!("/console/?after={after}");
    let filters = [
        ("q", &q.q),
        ("status", &q.status),
        ("category", &q.category),
        ("station", &q.station),
        ("channel", &q.channel),
        ("flag", &q.flag),
        ("district", &q.district),
    ];
    for (key, value) in filters {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            href.push_str(&format!(
                "&{key}={}",
                utf8_percent_encode(v, NON_ALPHANUMERIC)
            ));
        }
    }
    href
}

fn parse_after(s: &str) -> Option<(i64, i64)> {
    let (rank, id) = s.split_once('-')?;
    Some((rank.parse().ok()?, id.parse().ok()?))
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
    span(t, now - ms)
}

/// A length of time in minutes, hours or days (negative counts as 0).
fn span(t: Tr, ms: i64) -> String {
    let minutes = (ms.max(0) / 60_000) as usize;
    match minutes {
        m if m < 60 => t.get_n("con-age-minutes", "n", m),
        m if m < 48 * 60 => t.get_n("con-age-hours", "n", m / 60),
        m => t.get_n("con-age-days", "n", m / (24 * 60)),
    }
}

/// The deadline a tip in `status` works towards, as "Acknowledge: 4 min left" or
/// "Acknowledge: 2 h late" (the flag says late); `None` when no deadline is running.
pub fn deadline(
    t: Tr,
    now: i64,
    status: &str,
    deadlines: Option<&TipDeadlines>,
) -> Option<(String, bool)> {
    let step = Step::next_for(TipStatus::parse(status)?)?;
    let due = step.due(deadlines?);
    let late = now > due;
    let text = format!(
        "{}: {} {}",
        t.get(&format!("con-due-{}", step.as_str())),
        span(t, (due - now).abs()),
        t.get(if late { "con-due-late" } else { "con-due-left" })
    );
    Some((text, late))
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
        due: deadline(t, now, &r.status, r.deadlines.as_ref()),
        escalated: crate::escalation::Rung::from_level(r.escalation_level)
            .map(|rung| t.get(&format!("con-rung-{}", rung.as_str()))),
    }
}
