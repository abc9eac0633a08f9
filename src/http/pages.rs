//! The tipster's pages: the report form, the receipt, and follow-up. Server-rendered, plain HTML
//! forms that work with JavaScript off, Hindi first. No cookies: follow-up carries the tip number
//! and secret in the form it posts back, and every page is sent with `Cache-Control: no-store`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::forms::{FilePart, FormError, FormFields, parse_multipart};
use super::submission::{self, RawSubmission};
use super::{AppState, Tr, ist};
use crate::domain::attachment::{AttachmentError, PHOTOS_MAX, Photo};
use crate::domain::held::{DOCUMENT_MAX_BYTES, HeldFile};
use crate::domain::{Channel, Language, TipId, TipNumber, TipSecret, TipText};
use crate::intake::{self, IntakeError, TipsterView};

/// A district or category choice in a `<select>`.
pub struct Choice {
    id: String,
    label: String,
    selected: bool,
}

/// The values the form shows back after an error.
#[derive(Default)]
pub struct FormValues {
    text: String,
    place: String,
    when: String,
    now: bool,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    t: Tr,
    other_lang_path: String,
    errors: Vec<String>,
    form: FormValues,
    districts: Vec<Choice>,
    categories: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    t: Tr,
    other_lang_path: String,
    tip_number: String,
    secret: String,
    district: Option<String>,
    received: String,
    photos: usize,
}

#[derive(Template)]
#[template(path = "followup_login.html")]
struct FollowupLoginPage {
    t: Tr,
    other_lang_path: String,
    errors: Vec<String>,
    number: String,
}

struct MessageRow {
    css: &'static str,
    author: String,
    when: String,
    text: String,
}

#[derive(Template)]
#[template(path = "followup.html")]
struct FollowupPage {
    t: Tr,
    other_lang_path: String,
    errors: Vec<String>,
    added: bool,
    tip_number: String,
    status: String,
    received: String,
    messages: Vec<MessageRow>,
    number_raw: String,
    secret_raw: String,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    t: Tr,
    other_lang_path: String,
    title: String,
    body: String,
}

pub(super) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

fn other_lang(t: Tr, path_after_lang: &str) -> String {
    let other = match t.language() {
        Language::Hindi => "en",
        Language::English => "hi",
    };
    format!("/{other}/{path_after_lang}")
}

fn message_page(t: Tr, status: StatusCode, title_key: &str, body: String) -> Response {
    let page = MessagePage {
        t,
        other_lang_path: other_lang(t, ""),
        title: t.get(title_key),
        body,
    };
    render(status, &page)
}

fn internal(t: Tr, e: &IntakeError) -> Response {
    tracing::error!(error = %e, "request failed");
    message_page(
        t,
        StatusCode::INTERNAL_SERVER_ERROR,
        "site-name",
        t.get("err-internal"),
    )
}

fn language(code: &str) -> Option<Tr> {
    Language::parse(code).map(Tr::new)
}

/// `/`: Hindi first.
pub async fn root() -> Redirect {
    Redirect::to("/hi/")
}

/// Anything else: a 404 page in Hindi (with the English link).
pub async fn not_found() -> Response {
    let t = Tr::new(Language::Hindi);
    message_page(
        t,
        StatusCode::NOT_FOUND,
        "notfound-title",
        t.get("notfound-body"),
    )
}

fn report_page(
    state: &AppState,
    t: Tr,
    district: Option<&str>,
    category: Option<&str>,
    form: FormValues,
    errors: Vec<String>,
    path: &str,
) -> ReportPage {
    let hindi = t.language() == Language::Hindi;
    let districts = state
        .core
        .jurisdiction
        .districts
        .iter()
        .map(|d| Choice {
            id: d.id.to_string(),
            label: if hindi && !d.name_hi.is_empty() {
                d.name_hi.clone()
            } else {
                d.name_en.clone()
            },
            selected: district == Some(d.id.as_str()),
        })
        .collect();
    let categories = state
        .core
        .lexicon
        .categories
        .iter()
        .map(|c| Choice {
            id: c.id.clone(),
            label: if hindi {
                c.label_hi.clone()
            } else {
                c.label_en.clone()
            },
            selected: category == Some(c.id.as_str()),
        })
        .collect();
    ReportPage {
        t,
        other_lang_path: other_lang(t, path),
        errors,
        form,
        districts,
        categories,
    }
}

/// `GET /{lang}/`: the report form.
pub async fn report_form(State(state): State<AppState>, Path(lang): Path<String>) -> Response {
    let Some(t) = language(&lang) else {
        return not_found().await;
    };
    render(
        StatusCode::OK,
        &report_page(&state, t, None, None, FormValues::default(), Vec::new(), ""),
    )
}

/// `GET /{lang}/d/{district}`: the report form with the district chosen (a district's own link).
pub async fn district_report_form(
    State(state): State<AppState>,
    Path((lang, district)): Path<(String, String)>,
) -> Response {
    let Some(t) = language(&lang) else {
        return not_found().await;
    };
    if state.core.jurisdiction.district(&district).is_none() {
        return message_page(
            t,
            StatusCode::NOT_FOUND,
            "notfound-title",
            t.get("err-district"),
        );
    }
    let path = format!("d/{district}");
    render(
        StatusCode::OK,
        &report_page(
            &state,
            t,
            Some(&district),
            None,
            FormValues::default(),
            Vec::new(),
            &path,
        ),
    )
}

/// Reads a form body, turning a body that is too large, of the wrong type or not UTF-8 into the
/// message the tipster should see.
fn read_form(
    t: Tr,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<FormFields, (StatusCode, String)> {
    let (fields, files) = read_form_with_files(t, headers, body)?;
    if !files.is_empty() {
        return Err((StatusCode::BAD_REQUEST, t.get("err-form-type")));
    }
    Ok(fields)
}

/// A form sent urlencoded, or as `multipart/form-data` with files.
fn read_form_with_files(
    t: Tr,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(FormFields, Vec<FilePart>), (StatusCode, String)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let body = match body {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err((StatusCode::PAYLOAD_TOO_LARGE, t.get("err-too-large")));
        }
        Err(_) => return Err((StatusCode::BAD_REQUEST, t.get("err-form-type"))),
    };
    let encoding = |FormError::Encoding| (StatusCode::BAD_REQUEST, t.get("err-encoding"));
    if content_type.starts_with("application/x-www-form-urlencoded") {
        // Only a form with files may be larger.
        if body.len() > super::MAX_BODY_BYTES {
            return Err((StatusCode::PAYLOAD_TOO_LARGE, t.get("err-too-large")));
        }
        Ok((FormFields::parse(&body).map_err(encoding)?, Vec::new()))
    } else if content_type.starts_with("multipart/form-data") {
        parse_multipart(content_type, &body).map_err(encoding)
    } else {
        Err((StatusCode::UNSUPPORTED_MEDIA_TYPE, t.get("err-form-type")))
    }
}

/// The photos of a report, checked and cleaned; the message to show if one is refused.
fn photos(t: Tr, files: Vec<FilePart>) -> Result<Vec<Photo>, String> {
    let files: Vec<FilePart> = files.into_iter().filter(|f| f.name == "photo").collect();
    if files.len() > PHOTOS_MAX {
        return Err(t.get("err-photo-count"));
    }
    files
        .iter()
        .map(|f| {
            Photo::parse(&f.data).map_err(|e| {
                t.get(match e {
                    AttachmentError::NotAPhoto => "err-photo-type",
                    AttachmentError::TooLarge => "err-photo-size",
                    AttachmentError::Damaged => "err-photo-damaged",
                    AttachmentError::TooMany => "err-photo-count",
                })
            })
        })
        .collect()
}

/// The document of a report (one PDF at most, held for the range supervisor: its author and
/// software details cannot be removed here); the message to show if it is refused.
fn documents(t: Tr, files: &[FilePart]) -> Result<Vec<HeldFile>, String> {
    let files: Vec<&FilePart> = files.iter().filter(|f| f.name == "document").collect();
    if files.len() > 1 {
        return Err(t.get("err-document-count"));
    }
    files
        .iter()
        .map(|f| {
            if f.data.len() > DOCUMENT_MAX_BYTES {
                return Err(t.get("err-document-size"));
            }
            match HeldFile::parse(&f.data) {
                Ok(file) if file.kind == "application/pdf" => Ok(file),
                _ => Err(t.get("err-document-type")),
            }
        })
        .collect()
}

/// `POST /{lang}/report`: stores the tip and shows the receipt, or shows the form again with
/// what to fix (and stores nothing).
pub async fn submit_report(
    State(state): State<AppState>,
    Path(lang): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(t) = language(&lang) else {
        return not_found().await;
    };
    let (fields, files) = match read_form_with_files(t, &headers, body) {
        Ok(f) => f,
        Err((status, msg)) => {
            let page = report_page(&state, t, None, None, FormValues::default(), vec![msg], "");
            return render(status, &page);
        }
    };
    let documents = documents(t, &files);
    let photos = photos(t, files);
    let raw = RawSubmission {
        text: fields.get("text"),
        district: fields.get("district"),
        place: fields.get("place"),
        when: fields.get("when"),
        now: fields.non_empty("now").is_some(),
        category: fields.get("category"),
    };
    let parsed = submission::parse(&state.core, raw, t.language(), Channel::Web);
    let submission = match (parsed, photos, documents) {
        (Ok(mut s), Ok(photos), Ok(documents)) => {
            s.photos = photos;
            s.documents = documents;
            s
        }
        (parsed, photos, documents) => {
            let errors = parsed.err().unwrap_or_default();
            let form = FormValues {
                text: fields.get("text").unwrap_or("").to_owned(),
                place: fields.get("place").unwrap_or("").to_owned(),
                when: fields.get("when").unwrap_or("").to_owned(),
                now: fields.non_empty("now").is_some(),
            };
            let mut messages: Vec<String> = errors.iter().map(|e| e.message(&t)).collect();
            messages.extend(photos.err());
            messages.extend(documents.err());
            let page = report_page(
                &state,
                t,
                fields.get("district"),
                fields.get("category"),
                form,
                messages,
                "",
            );
            return render(StatusCode::BAD_REQUEST, &page);
        }
    };
    let photo_count = submission.photos.len();
    match intake::submit_tip(&state.core, submission).await {
        Ok(receipt) => {
            let district = receipt
                .district
                .as_ref()
                .and_then(|d| state.core.jurisdiction.district(d.as_str()))
                .map(|d| {
                    if t.language() == Language::Hindi {
                        d.name_hi.clone()
                    } else {
                        d.name_en.clone()
                    }
                });
            let page = ReceiptPage {
                t,
                other_lang_path: other_lang(t, ""),
                tip_number: receipt.tip_number.display(),
                secret: receipt.secret.display(),
                district,
                received: ist(receipt.created_at),
                photos: photo_count,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => internal(t, &e),
    }
}

/// `GET /{lang}/followup`: asks for the tip number and secret.
pub async fn followup_form(Path(lang): Path<String>) -> Response {
    let Some(t) = language(&lang) else {
        return not_found().await;
    };
    let page = FollowupLoginPage {
        t,
        other_lang_path: other_lang(t, "followup"),
        errors: Vec::new(),
        number: String::new(),
    };
    render(StatusCode::OK, &page)
}

fn login_again(t: Tr, status: StatusCode, number: &str, message: String) -> Response {
    let page = FollowupLoginPage {
        t,
        other_lang_path: other_lang(t, "followup"),
        errors: vec![message],
        number: number.to_owned(),
    };
    render(status, &page)
}

/// Parses and checks the tip number and secret in a follow-up form; on failure, the page to show.
async fn authenticate(
    state: &AppState,
    t: Tr,
    fields: &FormFields,
) -> Result<(TipId, String, String), Response> {
    let number_raw = fields.get("number").unwrap_or("").trim().to_owned();
    let secret_raw = fields.get("secret").unwrap_or("").trim().to_owned();
    let Some(number) = TipNumber::parse(&number_raw) else {
        return Err(login_again(
            t,
            StatusCode::BAD_REQUEST,
            &number_raw,
            t.get("err-number-format"),
        ));
    };
    let Some(secret) = TipSecret::parse(&secret_raw) else {
        return Err(login_again(
            t,
            StatusCode::BAD_REQUEST,
            &number_raw,
            t.get("err-secret-format"),
        ));
    };
    match intake::authenticate(&state.core, &number, &secret).await {
        Ok(id) => Ok((id, number.as_str().to_owned(), secret.expose().to_owned())),
        Err(IntakeError::NoMatch) => Err(login_again(
            t,
            StatusCode::FORBIDDEN,
            &number_raw,
            t.get("err-nomatch"),
        )),
        Err(IntakeError::Locked) => Err(login_again(
            t,
            StatusCode::TOO_MANY_REQUESTS,
            &number_raw,
            t.get("err-locked"),
        )),
        Err(IntakeError::Busy) => Err(login_again(
            t,
            StatusCode::TOO_MANY_REQUESTS,
            &number_raw,
            t.get("err-busy"),
        )),
        Err(e) => Err(internal(t, &e)),
    }
}

fn followup_page(
    t: Tr,
    view: TipsterView,
    number_raw: String,
    secret_raw: String,
    added: bool,
    errors: Vec<String>,
) -> FollowupPage {
    let messages = view
        .messages
        .into_iter()
        .map(|m| {
            let police = m.author == "police";
            MessageRow {
                css: if police { "police" } else { "tipster" },
                author: t.get(if police {
                    "author-police"
                } else {
                    "author-tipster"
                }),
                when: ist(m.created_at),
                text: m.text,
            }
        })
        .collect();
    FollowupPage {
        t,
        other_lang_path: other_lang(t, "followup"),
        errors,
        added,
        tip_number: view.tip_number.display(),
        status: t.get(&format!("status-{}", view.status.as_str())),
        received: ist(view.created_at),
        messages,
        number_raw,
        secret_raw,
    }
}

/// A follow-up request that has passed the tip number and secret check.
struct Opened {
    t: Tr,
    fields: FormFields,
    tip_id: TipId,
    number: String,
    secret: String,
}

/// Reads a follow-up form and checks its tip number and secret; on failure, the page to show.
async fn open_followup(
    state: &AppState,
    lang: &str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Opened, Response> {
    let Some(t) = language(lang) else {
        return Err(not_found().await);
    };
    let fields =
        read_form(t, headers, body).map_err(|(status, msg)| login_again(t, status, "", msg))?;
    let (tip_id, number, secret) = authenticate(state, t, &fields).await?;
    Ok(Opened {
        t,
        fields,
        tip_id,
        number,
        secret,
    })
}

/// `POST /{lang}/followup`: the status and messages of a tip.
pub async fn followup_status(
    State(state): State<AppState>,
    Path(lang): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let o = match open_followup(&state, &lang, &headers, body).await {
        Ok(o) => o,
        Err(page) => return page,
    };
    match intake::tipster_view(&state.core, o.tip_id).await {
        Ok(view) => render(
            StatusCode::OK,
            &followup_page(o.t, view, o.number, o.secret, false, Vec::new()),
        ),
        Err(e) => internal(o.t, &e),
    }
}

/// `POST /{lang}/followup/add`: adds the tipster's answer or new information to the thread.
pub async fn followup_add(
    State(state): State<AppState>,
    Path(lang): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Opened {
        t,
        fields,
        tip_id,
        number,
        secret,
    } = match open_followup(&state, &lang, &headers, body).await {
        Ok(o) => o,
        Err(page) => return page,
    };
    let parsed = TipText::parse(fields.get("text").unwrap_or(""));
    let (status, added, errors) = match &parsed {
        Ok(text) => {
            match intake::add_message(&state.core, tip_id, "tipster", "tipster:web", text).await {
                Ok(()) => (StatusCode::OK, true, Vec::new()),
                Err(e) => return internal(t, &e),
            }
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            false,
            vec![submission::FieldError::from(*e).message(&t)],
        ),
    };
    match intake::tipster_view(&state.core, tip_id).await {
        Ok(view) => render(
            status,
            &followup_page(t, view, number, secret, added, errors),
        ),
        Err(e) => internal(t, &e),
    }
}
