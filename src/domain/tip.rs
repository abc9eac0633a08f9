//! The tip's identity as the tipster knows it (tip number and secret) and as the program knows
//! it (a random internal id), its channel and its status.

use std::fmt;

use crate::crypto::{self, CryptoError};
use crate::domain::text::fold_digits;

/// Internal id of a tip (or message): never shown to the tipster, used as associated data when
/// sealing. The high bits are the creation time in milliseconds and the low 20 bits random, so new
/// rows append to the end of every index keyed by id instead of landing on random pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TipId(i64);

impl TipId {
    /// A new id for a row created at `now_ms`.
    pub fn generate(now_ms: i64) -> Result<Self, CryptoError> {
        let random = crypto::random_below(1 << 20)? as i64;
        Ok(Self((now_ms.max(0) << 20) | random))
    }

    /// The smallest id a row created at `ms` can have (for "since" queries on time-ordered ids).
    pub fn first_at(ms: i64) -> Self {
        Self(ms.max(0) << 20)
    }

    /// Wraps an id read from the store.
    pub fn from_db(v: i64) -> Self {
        Self(v)
    }

    /// The raw value for the store.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for TipId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The number a tipster reads out on a phone or types on a keypad: 10 digits, the first not 0,
/// the last a Verhoeff check digit (catches every single-digit error and adjacent swap). The
/// other 9 digits are random, so one number says nothing about another.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TipNumber(String);

/// Number of digits in a tip number.
pub const TIP_NUMBER_DIGITS: usize = 10;

impl TipNumber {
    /// A new random tip number.
    pub fn generate() -> Result<Self, CryptoError> {
        let first = char::from(b'1' + crypto::random_below(9)? as u8);
        let mut body = String::with_capacity(TIP_NUMBER_DIGITS);
        body.push(first);
        body.push_str(&crypto::random_digits(TIP_NUMBER_DIGITS - 2)?);
        body.push(verhoeff_check_digit(&body));
        Ok(Self(body))
    }

    /// Parses what a tipster typed: spaces, dashes and Devanagari digits are accepted.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.chars().count() > 40 {
            return None;
        }
        let digits = fold_digits(raw);
        let ok = digits.len() == TIP_NUMBER_DIGITS
            && !digits.starts_with('0')
            && raw.chars().all(|c| {
                c.is_ascii_digit() || ('\u{0966}'..='\u{096F}').contains(&c) || " -".contains(c)
            })
            && verhoeff_valid(&digits);
        ok.then_some(Self(digits))
    }

    /// The bare digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Grouped for reading out: `48210 93753`.
    pub fn display(&self) -> String {
        group(&self.0, 5)
    }
}

/// The tipster's secret: 15 random digits (about 49.8 bits), shown once, stored only as a keyed
/// hash. Never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct TipSecret(String);

/// Number of digits in a secret.
pub const SECRET_DIGITS: usize = 15;

impl TipSecret {
    /// A new random secret.
    pub fn generate() -> Result<Self, CryptoError> {
        crypto::random_digits(SECRET_DIGITS).map(Self)
    }

    /// Parses what a tipster typed: spaces, dashes and Devanagari digits are accepted.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.chars().count() > 60 {
            return None;
        }
        let digits = fold_digits(raw);
        let ok = digits.len() == SECRET_DIGITS
            && raw.chars().all(|c| {
                c.is_ascii_digit() || ('\u{0966}'..='\u{096F}').contains(&c) || " -".contains(c)
            });
        ok.then_some(Self(digits))
    }

    /// The bare digits (only for hashing and for the one receipt page).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Grouped for reading out: `48210 93755 12648`.
    pub fn display(&self) -> String {
        group(&self.0, 5)
    }
}

impl fmt::Debug for TipSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TipSecret(..)")
    }
}

fn group(digits: &str, size: usize) -> String {
    let chars: Vec<char> = digits.chars().collect();
    chars
        .chunks(size)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
const VERHOEFF_INV: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

fn verhoeff_checksum(digits: &str, offset: usize) -> u8 {
    digits.bytes().rev().enumerate().fold(0u8, |c, (i, b)| {
        VERHOEFF_D[usize::from(c)][usize::from(VERHOEFF_P[(i + offset) % 8][usize::from(b - b'0')])]
    })
}

fn verhoeff_check_digit(digits: &str) -> char {
    char::from(b'0' + VERHOEFF_INV[usize::from(verhoeff_checksum(digits, 1))])
}

fn verhoeff_valid(digits: &str) -> bool {
    verhoeff_checksum(digits, 0) == 0
}

/// The channel a tip came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// The web form.
    Web,
    /// The JSON API.
    Api,
    /// A phone call, entered by a control-room operator.
    Phone,
    /// SMS to a district's number.
    Sms,
    /// WhatsApp to a district's number.
    WhatsApp,
    /// A district's Telegram bot.
    Telegram,
    /// A district's Facebook page (Messenger).
    Messenger,
    /// A district's X account (direct messages).
    X,
    /// A message recorded on a district's voice line (IVR).
    Voice,
}

impl Channel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Api => "api",
            Self::Phone => "phone",
            Self::Sms => "sms",
            Self::WhatsApp => "whatsapp",
            Self::Telegram => "telegram",
            Self::Messenger => "messenger",
            Self::X => "x",
            Self::Voice => "voice",
        }
    }
}

/// Where a tip stands. The officer console (issue 3) drives the transitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TipStatus {
    /// Just arrived.
    New,
    /// Seen by the district supervisor.
    Acknowledged,
    /// Sent to a station or unit.
    Assigned,
    /// Police are acting on it.
    InAction,
    /// Action was taken.
    ActionTaken,
    /// Closed.
    Closed,
    /// The same as an earlier tip.
    Duplicate,
    /// Nothing the police can act on.
    NotActionable,
}

impl TipStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Acknowledged => "acknowledged",
            Self::Assigned => "assigned",
            Self::InAction => "in_action",
            Self::ActionTaken => "action_taken",
            Self::Closed => "closed",
            Self::Duplicate => "duplicate",
            Self::NotActionable => "not_actionable",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::New,
            Self::Acknowledged,
            Self::Assigned,
            Self::InAction,
            Self::ActionTaken,
            Self::Closed,
            Self::Duplicate,
            Self::NotActionable,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tip_numbers_check_and_catch_typos() {
        for _ in 0..200 {
            let n = TipNumber::generate().unwrap();
            assert_eq!(n.as_str().len(), 10);
            assert!(!n.as_str().starts_with('0'));
            assert_eq!(TipNumber::parse(&n.display()), Some(n.clone()));
            // Any single changed digit is caught.
            let mut d: Vec<u8> = n.as_str().bytes().collect();
            d[4] = b'0' + (d[4] - b'0' + 3) % 10;
            assert_eq!(TipNumber::parse(std::str::from_utf8(&d).unwrap()), None);
            // Any adjacent swap of different digits is caught.
            let mut s: Vec<u8> = n.as_str().bytes().collect();
            if s[6] != s[7] {
                s.swap(6, 7);
                assert_eq!(TipNumber::parse(std::str::from_utf8(&s).unwrap()), None);
            }
        }
        // Known Verhoeff vector: 236 has check digit 3.
        assert_eq!(verhoeff_check_digit("236"), '3');
        assert!(verhoeff_valid("2363"));
    }

    #[test]
    fn tip_numbers_accept_devanagari_digits_and_reject_junk() {
        let n = TipNumber::generate().unwrap();
        let deva: String = n
            .as_str()
            .chars()
            .map(|c| char::from_u32(0x0966 + c.to_digit(10).unwrap()).unwrap())
            .collect();
        assert_eq!(TipNumber::parse(&deva), Some(n));
        assert_eq!(TipNumber::parse("12345abc90"), None);
        assert_eq!(TipNumber::parse(""), None);
    }

    #[test]
    fn secrets_have_fifteen_digits_and_hide_in_debug() {
        let s = TipSecret::generate().unwrap();
        assert_eq!(s.expose().len(), 15);
        assert_eq!(format!("{s:?}"), "TipSecret(..)");
        assert_eq!(TipSecret::parse(&s.display()), Some(s));
        assert_eq!(TipSecret::parse("12345"), None);
        assert_eq!(TipSecret::parse("1234567890123x5"), None);
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            "new",
            "acknowledged",
            "assigned",
            "in_action",
            "action_taken",
            "closed",
            "duplicate",
            "not_actionable",
        ] {
            assert_eq!(TipStatus::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(TipStatus::parse("open"), None);
    }
}
