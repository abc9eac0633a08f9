//! Operator entry of a phone tip: one fast form (narrative, category chips, a station found by its
//! Hindi or English name or alias, urgency), then the tip number and secret to read out to the
//! caller. The caller's number is never asked for.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Officer, checked_form, internal, message};
use crate::app::Core;
use crate::domain::{Action, Channel, Role, allows};
use crate::http::pages::render;
use crate::http::submission::{self, RawSubmission};
use crate::http::{AppState, Tr, ist};
use crate::intake;

#[derive(Template)]
#[template(path = "console/entry.html")]
struct EntryPage {
    t: Tr,
    csrf: String,
    errors: Vec<String>,
    text: String,
    station: String,
    districts: Vec<(String, String, bool)>,
    categories: Vec<(String, String)>,
    stations: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/entry_done.html")]
struct DonePage {
    t: Tr,
    number: String,
    secret: String,
    /// The digits spaced for reading out.
    number_spoken: String,
    secret_spoken: String,
    received: String,
}

fn page(
    core: &Core,
    officer: &Officer,
    errors: Vec<String>,
    text: String,
    station: String,
) -> EntryPage {
    let t = officer.t;
    let own = officer.session.scope.district_id.as_deref();
    let hi = t.lang() == "hi";
    let pick = |h: &str, e: &str| {
        if hi && !h.is_empty() {
            h.to_owned()
        } else {
            e.to_owned()
        }
    };
    let districts = core
        .jurisdiction
        .districts
        .iter()
        .filter(|d| own.is_none() || own == Some(d.id.as_str()))
        .map(|d| {
            (
                d.id.as_str().to_owned(),
                pick(&d.name_hi, &d.name_en),
                own == Some(d.id.as_str()),
            )
        })
        .collect();
    let stations = core
        .jurisdiction
        .districts
        .iter()
        .filter(|d| own.is_none() || own == Some(d.id.as_str()))
        .flat_map(|d| d.stations.iter())
        .flat_map(|s| {
            [s.name_hi.clone(), s.name_en.clone()]
                .into_iter()
                .chain(s.aliases.iter().cloned())
        })
        .filter(|n| !n.is_empty())
        .collect();
    EntryPage {
        t,
        csrf: officer.session.form_token(core),
        errors,
        text,
        station,
        districts,
        categories: core
            .lexicon
            .categories
            .iter()
            .map(|c| (c.id.clone(), pick(&c.label_hi, &c.label_en)))
            .collect(),
        stations,
    }
}

pub async fn entry_form(State(state): State<AppState>, officer: Officer) -> Response {
    if !allows(&officer.session.scope, Action::EnterPhoneTip, None) {
        return message(
            officer.t,
            StatusCode::FORBIDDEN,
            officer.t.get("con-err-forbidden"),
        );
    }
    render(
        StatusCode::OK,
        &page(
            &state.core,
            &officer,
            Vec::new(),
            String::new(),
            String::new(),
        ),
    )
}

/// A station by id, English or Hindi name or alias (case and spacing ignored), within a district.
pub fn find_station(core: &Core, district: Option<&str>, typed: &str) -> Option<String> {
    let want = typed.trim().to_lowercase();
    if want.is_empty() {
        return None;
    }
    core.jurisdiction
        .districts
        .iter()
        .filter(|d| district.is_none_or(|id| id == d.id.as_str()))
        .flat_map(|d| d.stations.iter())
        .find(|s| {
            s.id.as_str() == want
                || s.name_en.to_lowercase() == want
                || s.name_hi == typed.trim()
                || s.aliases.iter().any(|a| a.to_lowercase() == want)
        })
        .map(|s| s.id.as_str().to_owned())
}

pub async fn submit(
    State(state): State<AppState>,
    officer: Officer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = officer.t;
    let core = &state.core;
    if !allows(&officer.session.scope, Action::EnterPhoneTip, None) {
        return message(t, StatusCode::FORBIDDEN, t.get("con-err-forbidden"));
    }
    let form = match checked_form(&headers, &body, Some(&(officer.session.clone(), core))) {
        Ok(f) => f,
        Err(r) => return r.page(t),
    };
    // A district-bound officer enters tips for their own district only, whatever the form says.
    let district = match officer.session.scope.role {
        Role::RangeSupervisor => form.get("district"),
        _ => officer.session.scope.district_id.as_deref(),
    };
    let raw = RawSubmission {
        text: form.get("text"),
        district,
        place: form.get("place"),
        when: None,
        now: form.non_empty("urgent").is_some(),
        category: form.non_empty("category"),
    };
    let typed_station = form.get("station").unwrap_or_default().to_owned();
    let station = find_station(core, district, &typed_station);
    let mut errors: Vec<String> = Vec::new();
    if !typed_station.trim().is_empty() && station.is_none() {
        errors.push(t.get("con-entry-no-station"));
    }
    let parsed = submission::parse(core, raw, t.language(), Channel::Phone);
    let mut submission = match parsed {
        Ok(s) if errors.is_empty() => s,
        Ok(_) => {
            return render(
                StatusCode::BAD_REQUEST,
                &page(
                    core,
                    &officer,
                    errors,
                    form.get("text").unwrap_or_default().to_owned(),
                    typed_station,
                ),
            );
        }
        Err(errs) => {
            errors.extend(errs.iter().map(|e| e.message(&t)));
            return render(
                StatusCode::BAD_REQUEST,
                &page(
                    core,
                    &officer,
                    errors,
                    form.get("text").unwrap_or_default().to_owned(),
                    typed_station,
                ),
            );
        }
    };
    submission.station = station;
    submission.entered_by = Some(officer.session.actor());
    match intake::submit_tip(core, submission).await {
        Ok(receipt) => {
            let spaced = |s: &str| s.chars().map(String::from).collect::<Vec<_>>().join(" ");
            let done = DonePage {
                t,
                number: receipt.tip_number.as_str().to_owned(),
                secret: receipt.secret.expose().to_owned(),
                number_spoken: spaced(receipt.tip_number.as_str()),
                secret_spoken: spaced(receipt.secret.expose()),
                received: ist(receipt.created_at),
            };
            render(StatusCode::CREATED, &done)
        }
        Err(e) => internal(t, &e),
    }
}
