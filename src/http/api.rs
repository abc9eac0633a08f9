//! The JSON API for integrations and apps: `POST /api/v1/tips`. Same rules as the web form;
//! errors are JSON with a stable `code` per problem and a message.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::submission::{self, RawSubmission};
use super::{AppState, Tr};
use crate::domain::{Channel, Language};
use crate::intake;

/// The request body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TipRequest {
    text: Option<String>,
    district: Option<String>,
    place: Option<String>,
    when: Option<String>,
    #[serde(default)]
    happening_now: bool,
    category: Option<String>,
    language: Option<String>,
}

/// An API error: status, stable code, message; for bad fields, one entry per field.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: Vec<serde_json::Value>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message, "fields": self.fields } });
        (self.status, Json(body)).into_response()
    }
}

/// `POST /api/v1/tips`: 201 with the tip number and secret.
pub async fn submit_tip(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the body is larger than {} bytes", super::MAX_BODY_BYTES),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "body_unreadable",
                "the body could not be read",
            )
        }
    })?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json",
        ));
    }
    // serde_json refuses invalid UTF-8, so mangled text is never stored.
    let req: TipRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not a valid tip request: {e}"),
        )
    })?;
    let language = match req.language.as_deref() {
        None => Language::Hindi,
        Some(code) => Language::parse(code).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "language_unknown",
                "language must be \"hi\" or \"en\"",
            )
        })?,
    };
    let raw = RawSubmission {
        text: req.text.as_deref(),
        district: req.district.as_deref(),
        place: req.place.as_deref(),
        when: req.when.as_deref(),
        now: req.happening_now,
        category: req.category.as_deref(),
    };
    let t = Tr::new(language);
    let submission =
        submission::parse(&state.core, raw, language, Channel::Api).map_err(|errors| {
            let mut err = ApiError::new(
                StatusCode::BAD_REQUEST,
                errors[0].code(),
                errors[0].message(&t),
            );
            err.fields = errors
                .iter()
                .map(|e| json!({ "field": e.field(), "code": e.code(), "message": e.message(&t) }))
                .collect();
            err
        })?;
    let receipt = intake::submit_tip(&state.core, submission)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "api intake failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the tip could not be stored; nothing was recorded, try again",
            )
        })?;
    let body = json!({
        "tip_number": receipt.tip_number.as_str(),
        "tip_number_display": receipt.tip_number.display(),
        "secret": receipt.secret.expose(),
        "secret_display": receipt.secret.display(),
        "district": receipt.district.as_ref().map(|d| d.as_str()),
        "created_at_ms": receipt.created_at,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
