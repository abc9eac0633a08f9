//! Free text from tipsters: normalised (NFC, Devanagari digits kept as written), bounded, and
//! free of control characters that could hide content or break logs and pages.

use unicode_normalization::UnicodeNormalization;

/// Why a piece of text was refused. The variants map to messages in the tipster's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Nothing but white space.
    #[error("empty")]
    Empty,
    /// Longer than allowed.
    #[error("too long")]
    TooLong,
    /// Contains control characters other than new lines and tabs.
    #[error("contains control characters")]
    ControlCharacters,
}

/// The most characters a tip's main text may have.
pub const TIP_TEXT_MAX_CHARS: usize = 5000;

/// Normalises and bounds free text: NFC, trimmed, CR LF to LF, no other control characters.
pub fn parse_bounded(raw: &str, max_chars: usize) -> Result<String, TextError> {
    let text: String = raw.replace("\r\n", "\n").nfc().collect();
    let text = text.trim();
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
        || text.contains(['\u{202e}', '\u{202d}'])
    {
        return Err(TextError::ControlCharacters);
    }
    if text.chars().count() > max_chars {
        return Err(TextError::TooLong);
    }
    Ok(text.to_owned())
}

/// Maps Devanagari digits (०-९) to ASCII and drops everything that is not a digit.
pub fn fold_digits(raw: &str) -> String {
    raw.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            '\u{0966}'..='\u{096F}' => char::from_u32(u32::from(c) - 0x0966 + u32::from('0')),
            _ => None,
        })
        .collect()
}

/// What a tipster wrote as the tip itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TipText(String);

impl TipText {
    /// Parses the tip text: 1 to 5000 characters after normalisation.
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        parse_bounded(raw, TIP_TEXT_MAX_CHARS).map(Self)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The language of the tipster's pages and replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Language {
    /// Hindi, the default.
    #[default]
    Hindi,
    /// English.
    English,
}

impl Language {
    /// Parses a language code (`hi` or `en`).
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "hi" => Some(Self::Hindi),
            "en" => Some(Self::English),
            _ => None,
        }
    }

    /// The code used in URLs and storage.
    pub fn code(self) -> &'static str {
        match self {
            Self::Hindi => "hi",
            Self::English => "en",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tip_text_is_normalised_and_bounded() {
        // "क़" as क + nukta becomes the same NFC form whichever way it was typed.
        assert_eq!(
            TipText::parse(" \u{0915}\u{093C}ानून \r\n")
                .unwrap()
                .as_str(),
            "\u{0915}\u{093C}ानून"
        );
        assert_eq!(TipText::parse("  \n\t ").unwrap_err(), TextError::Empty);
        assert_eq!(
            TipText::parse(&"a".repeat(5001)).unwrap_err(),
            TextError::TooLong
        );
        assert!(TipText::parse(&"गा".repeat(2500)).is_ok());
        assert_eq!(
            TipText::parse("a\u{0007}b").unwrap_err(),
            TextError::ControlCharacters
        );
        assert_eq!(
            TipText::parse("a\u{202e}b").unwrap_err(),
            TextError::ControlCharacters
        );
        assert_eq!(
            TipText::parse("line1\r\nline2").unwrap().as_str(),
            "line1\nline2"
        );
    }

    #[test]
    fn digits_fold_from_devanagari() {
        assert_eq!(fold_digits("१२३ 45-6"), "123456");
    }
}
