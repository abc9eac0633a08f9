//! Login: password, then a TOTP code (or, the first time, enrolment with a QR code), then a new
//! full session. One message for every failure, so a caller learns nothing about which part was
//! wrong or whether the login name exists.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::{AnySession, checked_form, internal, lang, session_cookie};
use crate::http::pages::render;
use crate::http::{AppState, Tr};
use crate::officers::{self, OfficerError, TOTP_ISSUER};

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    t: Tr,
    error: Option<String>,
    username: String,
}

#[derive(Template)]
#[template(path = "console/code.html")]
struct CodePage {
    t: Tr,
    error: Option<String>,
    csrf: String,
    /// Enrolment: the QR code (inline SVG), the otpauth URI and the secret typed by hand.
    enrol: Option<(String, String, String)>,
}

pub async fn login_form(headers: HeaderMap) -> Response {
    render(
        StatusCode::OK,
        &LoginPage {
            t: lang(&headers),
            error: None,
            username: String::new(),
        },
    )
}

pub async fn login(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let t = lang(&headers);
    let form = match checked_form(&headers, &body, None) {
        Ok(f) => f,
        Err(r) => return r.page(t),
    };
    let username = form.get("username").unwrap_or_default().trim().to_owned();
    let password = form.get("password").unwrap_or_default();
    match officers::login_password(&state.core, &username, password).await {
        Ok(token) => (
            [(header::SET_COOKIE, session_cookie(&state, &token))],
            Redirect::to("/console/code"),
        )
            .into_response(),
        Err(OfficerError::LoginFailed) => render(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                t,
                error: Some(t.get("con-login-failed")),
                username,
            },
        ),
        Err(e) => internal(t, &e),
    }
}

async fn code_page(
    state: &AppState,
    t: Tr,
    session: &officers::Session,
    error: Option<String>,
) -> Response {
    let enrol = if session.officer.totp_enrolled {
        None
    } else {
        match officers::totp_secret(&state.core, &session.officer).await {
            Ok(secret) => {
                let uri = secret.otpauth_uri(TOTP_ISSUER, &session.officer.username);
                Some((crate::totp::qr_svg(&uri), uri, secret.base32()))
            }
            Err(e) => return internal(t, &e),
        }
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    render(
        status,
        &CodePage {
            t,
            error,
            csrf: session.form_token(&state.core),
            enrol,
        },
    )
}

pub async fn code_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    AnySession(s): AnySession,
) -> Response {
    let t = lang(&headers);
    match s {
        Some(s) if s.full => Redirect::to("/console/").into_response(),
        Some(s) => code_page(&state, t, &s, None).await,
        None => Redirect::to("/console/login").into_response(),
    }
}

pub async fn code(
    State(state): State<AppState>,
    headers: HeaderMap,
    AnySession(s): AnySession,
    body: Bytes,
) -> Response {
    let t = lang(&headers);
    let Some(session) = s.filter(|s| !s.full) else {
        return Redirect::to("/console/login").into_response();
    };
    let form = match checked_form(&headers, &body, Some(&(session.clone(), &state.core))) {
        Ok(f) => f,
        Err(r) => return r.page(t),
    };
    let typed = form.get("code").unwrap_or_default();
    match officers::login_code(&state.core, &session, typed).await {
        Ok(token) => (
            [(header::SET_COOKIE, session_cookie(&state, &token))],
            Redirect::to("/console/"),
        )
            .into_response(),
        Err(OfficerError::LoginFailed) => {
            code_page(&state, t, &session, Some(t.get("con-code-failed"))).await
        }
        Err(e) => internal(t, &e),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    AnySession(s): AnySession,
    body: Bytes,
) -> Response {
    let t = lang(&headers);
    if let Some(session) = s {
        if let Err(r) = checked_form(&headers, &body, Some(&(session.clone(), &state.core))) {
            return r.page(t);
        }
        if let Err(e) = officers::logout(&state.core, &session).await {
            return internal(t, &e);
        }
    }
    (
        [(header::SET_COOKIE, session_cookie(&state, ""))],
        Redirect::to("/console/login"),
    )
        .into_response()
}
