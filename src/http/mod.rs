//! HTTP: the tipster's pages, the JSON API, health checks, and the middleware every route shares
//! (security headers, compression, body limit, timeout, an access log without addresses).
//!
//! Must never: read or log a client's IP address, user agent, referrer or query string, or set a
//! cookie on a tipster.

mod api;
mod console;
mod forms;
mod hooks;
mod i18n;
mod pages;
mod submission;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

use crate::app::Core;

pub use i18n::{Tr, ist};

/// Largest request body accepted (a 5000-character Hindi tip, percent-encoded, fits well).
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// Largest web report: the text and up to three photos of 4 MB.
pub const REPORT_MAX_BYTES: usize = 3 * crate::domain::attachment::PHOTO_MAX_BYTES
    + crate::domain::held::DOCUMENT_MAX_BYTES
    + MAX_BODY_BYTES;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The app's services.
    pub core: Arc<Core>,
    /// Send HSTS (the public address is https).
    pub behind_tls: bool,
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::root))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/static/site.css", get(site_css))
        .route("/static/console.js", get(console_js))
        .route("/api/v1/tips", post(api::submit_tip))
        .route("/hooks/twilio/alerts", post(hooks::twilio_alert_reply))
        .route("/hooks/twilio/messages", post(hooks::twilio_message))
        .route("/hooks/twilio/status", post(hooks::twilio_status))
        .route("/hooks/twilio/voice", post(hooks::twilio_voice_start))
        .route("/hooks/twilio/voice/{step}", post(hooks::twilio_voice_step))
        .route(
            "/hooks/exotel/{token}/{applet}/{step}",
            get(hooks::exotel_step),
        )
        .route("/hooks/telegram/{bot}", post(hooks::telegram_update))
        .route(
            "/hooks/meta/messenger",
            get(hooks::messenger_handshake).post(hooks::messenger_notification),
        )
        .route("/hooks/x", get(hooks::x_crc).post(hooks::x_events))
        .route(
            "/hooks/meta/whatsapp",
            get(hooks::meta_handshake).post(hooks::meta_notification),
        )
        .route("/{lang}/", get(pages::report_form))
        .route("/{lang}", get(pages::report_form))
        .route("/{lang}/d/{district}", get(pages::district_report_form))
        .route(
            "/{lang}/report",
            post(pages::submit_report).layer(DefaultBodyLimit::max(REPORT_MAX_BYTES)),
        )
        .route(
            "/{lang}/followup",
            get(pages::followup_form).post(pages::followup_status),
        )
        .route("/{lang}/followup/add", post(pages::followup_add))
        .merge(console::routes())
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(middleware::from_fn(access_log))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::new())
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.core.store.ready().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database not ready").into_response()
        }
    }
}

async fn site_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../static/site.css"),
    )
        .into_response()
}

async fn console_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/console.js"),
    )
        .into_response()
}

/// One log line per request: a random request id, the method, the route *template* (never the
/// URI, which may carry a query string), the status and the time taken. Nothing about the client.
async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "-".to_owned(), |p| p.as_str().to_owned());
    let request_id = crate::crypto::encode_hex(&random_bytes());
    let span = tracing::info_span!("request", id = %request_id);
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(%method, %route, status, ms = started.elapsed().as_millis() as u64, "handled");
    });
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
    response
}

fn random_bytes() -> [u8; 6] {
    let mut b = [0u8; 6];
    // A failed random source only makes request ids less unique; it must not fail the request.
    let _ = crate::crypto::fill_random(&mut b);
    b
}

/// Headers on every response: no external origins, no referrer, no framing, no caching of pages
/// that may show a tip number or secret, HSTS when served over TLS.
async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let is_static = request.uri().path().starts_with("/static/");
    let is_console = request.uri().path().starts_with("/console");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        h.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    };
    // Tipster pages run no script at all; the console runs its one file (the live queue).
    let csp = if is_console {
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    } else {
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    };
    set(h, "content-security-policy", csp);
    set(h, "referrer-policy", "no-referrer");
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-resource-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    );
    if !is_static {
        set(h, "cache-control", "no-store");
    }
    if state.behind_tls {
        set(
            h,
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}
