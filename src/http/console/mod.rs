//! The officer console under `/console`: login with a password and a TOTP code, the queue, the tip
//! page and its workflow, operator entry of phone tips, officer administration and oversight.
//! Server-rendered forms that work with JavaScript off, Hindi first with English.
//!
//! Every state-changing request must pass two checks before anything is read: the browser's own
//! origin signals (`Sec-Fetch-Site`, `Origin`) and a form token bound to the session. Every route
//! finds its officer through [`Officer`], which refuses a missing, expired or half-finished
//! session; what the officer may see and do is decided by `domain::permission` in `cases`, never
//! by what a page shows.

mod admin;
mod auth;
mod digest;
mod entry;
mod live;
mod queue;
mod range;
mod tip;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::forms::{FormError, FormFields};
use super::pages::render;
use super::{AppState, Tr};
use crate::crypto::ct_eq;
use crate::domain::Language;
use crate::officers::{self, Session};

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let host = ("host", "tips.example:8080");
        assert!(same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-origin"),
            ("origin", "null")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("sec-fetch-site", "cross-site"),
            ("origin", "null")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-site")
        ])));
        assert!(same_origin(&headers(&[
            host,
            ("origin", "http://tips.example:8080")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(
            same_origin(&headers(&[host])),
            "no signals: the form token decides"
        );
    }
}

/// The session cookie (scoped to `/console`, so tipster pages never receive it).
pub const SESSION_COOKIE: &str = "tipline_sid";
/// The officer's language choice.
pub const LANG_COOKIE: &str = "tipline_lang";

/// The console's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(queue::queue_page))
        .route("/console/lang/{lang}", get(set_language))
        .route("/console/events", get(live::events))
        .route("/console/login", get(auth::login_form).post(auth::login))
        .route("/console/code", get(auth::code_form).post(auth::code))
        .route("/console/logout", post(auth::logout))
        .route("/console/tips/{number}", get(tip::tip_page))
        .route("/console/tips/{number}/step", post(tip::step))
        .route("/console/tips/{number}/photos/{id}", get(tip::photo))
        .route(
            "/console/tips/{number}/photos/{id}/original",
            post(tip::release_original),
        )
        .route("/console/tips/{number}/message", post(tip::message_tipster))
        .route("/console/tips/{number}/triage", post(tip::correct_triage))
        .route("/console/entry", get(entry::entry_form).post(entry::submit))
        .route(
            "/console/officers",
            get(admin::officers_page).post(admin::add_officer),
        )
        .route("/console/officers/{id}", post(admin::change_officer))
        .route("/console/audit", get(admin::audit_page))
        .route("/console/range", get(range::range_page))
        .route("/console/digest", get(digest::digest_page))
        .route(
            "/console/roster",
            get(range::roster_page).post(range::add_shift),
        )
}

/// The officer's language: the cookie, else Hindi.
pub fn lang(headers: &HeaderMap) -> Tr {
    let code = cookie(headers, LANG_COOKIE).unwrap_or_default();
    Tr::new(Language::parse(&code).unwrap_or(Language::Hindi))
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

async fn set_language(Path(code): Path<String>) -> Response {
    let code = Language::parse(&code).unwrap_or(Language::Hindi).code();
    let cookie = format!("{LANG_COOKIE}={code}; Path=/console; Max-Age=31536000; SameSite=Strict");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/console/")).into_response()
}

/// The session cookie to set (or clear, with an empty value).
pub fn session_cookie(state: &AppState, token: &str) -> HeaderValue {
    let secure = if state.behind_tls { "; Secure" } else { "" };
    let age = if token.is_empty() { "; Max-Age=0" } else { "" };
    let value =
        format!("{SESSION_COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict{secure}{age}");
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static(""))
}

/// A fully logged-in officer (password and second factor), or a redirect to the login page.
pub struct Officer {
    /// The session.
    pub session: Session,
    /// The officer's language.
    pub t: Tr,
}

/// A session at either stage (the second-factor pages need the half one).
pub struct AnySession(pub Option<Session>);

async fn session_from(parts: &Parts, state: &AppState) -> Result<Option<Session>, Response> {
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    officers::session(&state.core, &token)
        .await
        .map_err(|e| internal(lang(&parts.headers), &e))
}

impl FromRequestParts<AppState> for Officer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match session_from(parts, state).await? {
            Some(session) if session.full => Ok(Self {
                session,
                t: lang(&parts.headers),
            }),
            Some(_) => Err(Redirect::to("/console/code").into_response()),
            None => Err(Redirect::to("/console/login").into_response()),
        }
    }
}

impl FromRequestParts<AppState> for AnySession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        Ok(Self(session_from(parts, state).await?))
    }
}

/// Refuses a cross-site request. A browser that sends `Sec-Fetch-Site` is believed; otherwise a
/// real `Origin` must name this host. Our pages send no referrer, so browsers post forms with
/// `Origin: null`; that, or no header at all (old phone browsers), leaves the decision to the
/// form token and the `SameSite=Strict` cookie.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match origin {
        None | Some("null") => true,
        Some(origin) => host.is_some() && origin.split_once("://").map(|(_, h)| h) == host,
    }
}

/// Parses a console form after the origin check and, for a logged-in officer, the form token.
pub fn checked_form(
    headers: &HeaderMap,
    body: &[u8],
    session: Option<&(Session, &crate::app::Core)>,
) -> Result<FormFields, Refusal> {
    if !same_origin(headers) {
        return Err(Refusal::Forged);
    }
    let form = FormFields::parse(body).map_err(|FormError::Encoding| Refusal::Encoding)?;
    if let Some((s, core)) = session {
        let expected = s.form_token(core);
        let given = form.get("csrf").unwrap_or_default();
        if !ct_eq(expected.as_bytes(), given.as_bytes()) {
            return Err(Refusal::Forged);
        }
    }
    Ok(form)
}

/// Why a console request was refused before it did anything.
#[derive(Debug)]
pub enum Refusal {
    /// Cross-site, or a missing or wrong form token.
    Forged,
    /// Not UTF-8 after decoding.
    Encoding,
}

impl Refusal {
    /// The page for it.
    pub fn page(&self, t: Tr) -> Response {
        match self {
            Self::Forged => message(t, StatusCode::FORBIDDEN, t.get("con-err-forged")),
            Self::Encoding => message(t, StatusCode::BAD_REQUEST, t.get("err-encoding")),
        }
    }
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage {
    t: Tr,
    body: String,
}

/// A page with one message.
pub fn message(t: Tr, status: StatusCode, body: String) -> Response {
    render(status, &MessagePage { t, body })
}

/// Logs an internal failure once and answers with a generic page.
pub fn internal(t: Tr, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console request failed");
    message(t, StatusCode::INTERNAL_SERVER_ERROR, t.get("err-internal"))
}
