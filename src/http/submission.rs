//! Turning a submitted form or JSON body into a [`Submission`]: the same rules for the web form
//! and the API, with one error per bad field, each with a stable code and a message in the
//! tipster's language.

use crate::app::Core;
use crate::domain::{Channel, Language, TextError, TipText, parse_bounded};
use crate::http::Tr;
use crate::intake::Submission;

/// Most characters in the place field.
pub const PLACE_MAX_CHARS: usize = 300;
/// Most characters in the time field.
pub const WHEN_MAX_CHARS: usize = 200;

/// The fields as received, before parsing.
#[derive(Debug, Default)]
pub struct RawSubmission<'a> {
    /// What happened.
    pub text: Option<&'a str>,
    /// District id.
    pub district: Option<&'a str>,
    /// Where.
    pub place: Option<&'a str>,
    /// When.
    pub when: Option<&'a str>,
    /// Happening now.
    pub now: bool,
    /// Category id.
    pub category: Option<&'a str>,
}

/// One bad field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldError {
    /// The text is missing or blank.
    TextEmpty,
    /// The text is too long.
    TextTooLong,
    /// The text has control characters.
    TextControl,
    /// The place is too long or has control characters.
    Place,
    /// The time is too long or has control characters.
    When,
    /// The district is not one of the range's.
    District,
    /// The category is not one of the lexicon's.
    Category,
}

impl FieldError {
    /// A stable code for API clients.
    pub fn code(self) -> &'static str {
        match self {
            Self::TextEmpty => "text_empty",
            Self::TextTooLong => "text_too_long",
            Self::TextControl => "text_invalid_characters",
            Self::Place => "place_invalid",
            Self::When => "when_invalid",
            Self::District => "district_unknown",
            Self::Category => "category_unknown",
        }
    }

    /// The field it is about.
    pub fn field(self) -> &'static str {
        match self {
            Self::TextEmpty | Self::TextTooLong | Self::TextControl => "text",
            Self::Place => "place",
            Self::When => "when",
            Self::District => "district",
            Self::Category => "category",
        }
    }

    /// The message in the tipster's language.
    pub fn message(self, t: &Tr) -> String {
        match self {
            Self::TextEmpty => t.get("err-text-empty"),
            Self::TextTooLong => t.get_n(
                "err-text-too-long",
                "max",
                crate::domain::TIP_TEXT_MAX_CHARS,
            ),
            Self::TextControl => t.get("err-text-control"),
            Self::Place => t.get_n("err-place", "max", PLACE_MAX_CHARS),
            Self::When => t.get_n("err-when", "max", WHEN_MAX_CHARS),
            Self::District => t.get("err-district"),
            Self::Category => t.get("err-category"),
        }
    }
}

impl From<TextError> for FieldError {
    fn from(e: TextError) -> Self {
        match e {
            TextError::Empty => Self::TextEmpty,
            TextError::TooLong => Self::TextTooLong,
            TextError::ControlCharacters => Self::TextControl,
        }
    }
}

fn optional(raw: Option<&str>, max: usize, err: FieldError) -> Result<Option<String>, FieldError> {
    match raw.map(|r| parse_bounded(r, max)) {
        None | Some(Err(TextError::Empty)) => Ok(None),
        Some(Ok(v)) => Ok(Some(v)),
        Some(Err(_)) => Err(err),
    }
}

/// Parses every field and reports every bad one at once.
pub fn parse(
    core: &Core,
    raw: RawSubmission<'_>,
    language: Language,
    channel: Channel,
) -> Result<Submission, Vec<FieldError>> {
    let mut errors = Vec::new();
    let text = TipText::parse(raw.text.unwrap_or(""))
        .map_err(|e| errors.push(e.into()))
        .ok();
    let district = match raw.district.map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => match core.jurisdiction.district(d) {
            Some(found) => Some(found.id.clone()),
            None => {
                errors.push(FieldError::District);
                None
            }
        },
    };
    let category = match raw.category.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) if core.lexicon.category(c).is_some() => Some(c.to_owned()),
        Some(_) => {
            errors.push(FieldError::Category);
            None
        }
    };
    let place = optional(raw.place, PLACE_MAX_CHARS, FieldError::Place)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let when = optional(raw.when, WHEN_MAX_CHARS, FieldError::When)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    match text {
        Some(text) if errors.is_empty() => Ok(Submission {
            text,
            district,
            place,
            when,
            happening_now: raw.now,
            category,
            language,
            channel,
            station: None,
            entered_by: None,
            photos: Vec::new(),
            documents: Vec::new(),
        }),
        _ => Err(errors),
    }
}
