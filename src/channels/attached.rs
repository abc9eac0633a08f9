//! What comes with a message besides its words: files the provider holds (photos, voice notes,
//! videos, documents, call recordings; fetched later by `media`) and a shared location, parsed
//! into coordinates in range (a location that is not one is left out, never stored as given).

/// What kind of file a provider reference points at; it decides how the file is fetched, checked
/// and shown (a photo cleaned of metadata, a voice heard disguised, a video or document held).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// A JPEG or PNG photo.
    Photo,
    /// A voice note or audio file sent on a messaging channel (Ogg Opus, MP3 or WAVE).
    Voice,
    /// A video (held).
    Video,
    /// A document (held).
    Document,
    /// A recording of a call on the voice line (Twilio: the recording's sid; Exotel: its URL).
    Call,
}

impl MediaKind {
    /// The kind of a file by the MIME type the provider gives (a hint only: the bytes decide
    /// what is accepted).
    pub fn of_mime(mime: &str) -> Self {
        let mime = mime.trim().to_ascii_lowercase();
        if mime.starts_with("image/") {
            Self::Photo
        } else if mime.starts_with("audio/") {
            Self::Voice
        } else if mime.starts_with("video/") {
            Self::Video
        } else {
            Self::Document
        }
    }
}

/// A file held by the provider: its kind and the provider's reference (an id or a URL).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRef {
    /// What it is.
    pub kind: MediaKind,
    /// The provider's id or URL for it.
    pub reference: String,
}

impl MediaRef {
    /// A reference of `kind`.
    pub fn new(kind: MediaKind, reference: impl Into<String>) -> Self {
        Self {
            kind,
            reference: reference.into(),
        }
    }
}

/// Longest name or address kept with a location.
const LABEL_MAX_CHARS: usize = 200;

/// A location shared from a phone: latitude and longitude in range, and the place's name or
/// address where the app gave one.
#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    latitude: f64,
    longitude: f64,
    label: String,
}

impl Location {
    /// Parses coordinates; `None` unless both are finite numbers in range.
    pub fn parse(latitude: f64, longitude: f64, label: &str) -> Option<Self> {
        let in_range = latitude.is_finite()
            && longitude.is_finite()
            && (-90.0..=90.0).contains(&latitude)
            && (-180.0..=180.0).contains(&longitude);
        let label: String = label
            .chars()
            .filter(|c| !c.is_control())
            .take(LABEL_MAX_CHARS)
            .collect();
        in_range.then(|| Self {
            latitude,
            longitude,
            label: label.trim().to_owned(),
        })
    }

    /// Parses coordinates given as text (form fields).
    pub fn parse_text(latitude: &str, longitude: &str, label: &str) -> Option<Self> {
        Self::parse(
            latitude.trim().parse().ok()?,
            longitude.trim().parse().ok()?,
            label,
        )
    }

    /// The line stored with the message (sealed with its text), in the tipster's language:
    /// coordinates to five decimals (about a metre), then the name or address.
    pub fn line(&self, hindi: bool) -> String {
        let word = if hindi {
            "स्थान भेजा गया"
        } else {
            "location sent"
        };
        let at = format!("{:.5}, {:.5}", self.latitude, self.longitude);
        match self.label.is_empty() {
            true => format!("[{word}: {at}]"),
            false => format!("[{word}: {at} ({})]", self.label),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_in_range_are_kept_and_others_left_out() {
        let l = Location::parse(22.0797, 82.1409, "Near Metro\u{7}, Sarkanda").unwrap();
        assert_eq!(
            l.line(false),
            "[location sent: 22.07970, 82.14090 (Near Metro, Sarkanda)]"
        );
        assert_eq!(
            Location::parse_text("22.1", "82.2", "").unwrap().line(true),
            "[स्थान भेजा गया: 22.10000, 82.20000]"
        );
        assert!(Location::parse(91.0, 82.0, "").is_none());
        assert!(Location::parse(22.0, -180.5, "").is_none());
        assert!(Location::parse(f64::NAN, 82.0, "").is_none());
        assert!(Location::parse_text("22.0", "east", "").is_none());
        let long = "x".repeat(500);
        assert_eq!(
            Location::parse(1.0, 1.0, &long).unwrap().label.len(),
            LABEL_MAX_CHARS
        );
    }

    #[test]
    fn kinds_follow_the_providers_mime_type() {
        assert_eq!(MediaKind::of_mime("image/jpeg"), MediaKind::Photo);
        assert_eq!(
            MediaKind::of_mime("audio/ogg; codecs=opus"),
            MediaKind::Voice
        );
        assert_eq!(MediaKind::of_mime("Video/MP4"), MediaKind::Video);
        assert_eq!(MediaKind::of_mime("application/pdf"), MediaKind::Document);
    }
}
