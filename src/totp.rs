//! The officer's second factor: time-based one-time passwords (RFC 6238 over RFC 4226 HOTP,
//! HMAC-SHA1, 6 digits, 30-second steps, what every authenticator app speaks), the secret's
//! base32 and `otpauth://` forms for enrolment, and the enrolment QR code as inline SVG.
//! Pure apart from drawing a new secret; storing the secret (sealed) and the last used step is
//! the store's job. The secret never prints, and is wiped from memory when dropped.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha1::Sha1;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::{self, CryptoError};
use crate::domain::fold_digits;

/// Seconds per step.
pub const STEP_SECS: u64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Bytes of a secret (160 bits, as RFC 4226 recommends for SHA-1).
pub const SECRET_LEN: usize = 20;

/// Everything but RFC 3986's unreserved characters is escaped in the URI.
const URI_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An officer's TOTP secret.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct TotpSecret([u8; SECRET_LEN]);

impl TotpSecret {
    /// A new random secret.
    ///
    /// # Panics
    /// If the operating system's random source fails (it does not, once the system has booted);
    /// use `try_generate` to handle that case.
    pub fn generate() -> Self {
        match Self::try_generate() {
            Ok(s) => s,
            Err(e) => panic!("cannot draw a TOTP secret: {e}"),
        }
    }

    /// A new random secret, or the random source's failure.
    pub fn try_generate() -> Result<Self, CryptoError> {
        let mut bytes = [0u8; SECRET_LEN];
        crypto::fill_random(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// A secret read back from the store: exactly 20 bytes.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        <[u8; SECRET_LEN]>::try_from(b).ok().map(Self)
    }

    /// The raw secret, only for sealing into the store.
    pub fn as_bytes(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }

    /// RFC 4648 base32, no padding (what authenticator apps take when typed by hand).
    pub fn base32(&self) -> String {
        base32(&self.0)
    }

    /// Reads a secret typed as base32 (what `base32` gives; spaces and case ignored): how an
    /// authenticator, or a test playing one, takes the key shown at enrolment.
    pub fn from_base32(text: &str) -> Option<Self> {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut bytes = Vec::with_capacity(SECRET_LEN);
        let (mut buffer, mut bits) = (0u64, 0u32);
        for c in text
            .bytes()
            .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        {
            let v = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())?;
            buffer = (buffer << 5) | v as u64;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes.push((buffer >> bits) as u8);
            }
        }
        Self::from_bytes(&bytes)
    }

    /// The `otpauth://totp/...` URI that authenticator apps read from the QR code.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let issuer = utf8_percent_encode(issuer, URI_ESCAPE).to_string();
        let account = utf8_percent_encode(account, URI_ESCAPE);
        format!(
            "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
            self.base32()
        )
    }

    /// The 6-digit code for the step that contains `unix_secs`.
    pub fn code_at(&self, unix_secs: u64) -> u32 {
        hotp(&self.0, unix_secs / STEP_SECS, DIGITS)
    }

    /// Checks a typed code against steps now-1..=now+1; returns the matched step so the caller
    /// can refuse its reuse (store last used step). The code is 6 digits after dropping spaces,
    /// Devanagari digits count; a step at or before `last_used_step` is refused.
    pub fn verify(&self, typed: &str, unix_secs: u64, last_used_step: Option<u64>) -> Option<u64> {
        let typed = parse_code(typed)?;
        let now = unix_secs / STEP_SECS;
        let mut matched = None;
        // All three steps are computed and compared, whatever matches, in constant time.
        for step in now.saturating_sub(1)..=now.saturating_add(1) {
            let fresh = last_used_step.is_none_or(|last| step > last);
            let equal = bool::from(hotp(&self.0, step, DIGITS).ct_eq(&typed));
            if equal && fresh && matched.is_none() {
                matched = Some(step);
            }
        }
        matched
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

/// A typed code: exactly 6 digits (ASCII or Devanagari) once spaces are dropped.
fn parse_code(typed: &str) -> Option<u32> {
    if typed.len() > 64 {
        return None;
    }
    let kept: Vec<char> = typed.chars().filter(|c| !c.is_whitespace()).collect();
    let all_digits = kept
        .iter()
        .all(|c| c.is_ascii_digit() || ('\u{0966}'..='\u{096F}').contains(c));
    if kept.len() != DIGITS as usize || !all_digits {
        return None;
    }
    fold_digits(&kept.iter().collect::<String>()).parse().ok()
}

/// RFC 4226 HOTP with HMAC-SHA1 and dynamic truncation to `digits` digits.
fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = match <Hmac<Sha1> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    binary % 10u32.pow(digits)
}

/// RFC 4648 base32 (upper-case alphabet), without padding.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 0x1f) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(
            ALPHABET[((buffer << (5 - bits)) & 0x1f) as usize],
        ));
    }
    out
}

/// The otpauth URI as an inline SVG QR code (for enrolment; no external origin, no JS).
///
/// The SVG holds only rectangles, never the data as text, so it is safe to place unescaped in a
/// page. Data too long for a QR code (about 2 KB; an otpauth URI is about 150 bytes) gives an
/// empty string.
pub fn qr_svg(data: &str) -> String {
    use qrcode::render::svg;
    let Ok(code) = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M) else {
        return String::new();
    };
    let svg = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline SVG in HTML takes no XML declaration.
    match svg.find("<svg") {
        Some(start) => svg[start..].to_owned(),
        None => svg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    #[test]
    fn rfc6238_sha1_vectors() {
        let s = rfc_secret();
        let vectors: [(u64, u32); 6] = [
            (59, 94287082),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ];
        for (t, want) in vectors {
            assert_eq!(hotp(s.as_bytes(), t / STEP_SECS, 8), want, "t={t}");
            assert_eq!(s.code_at(t), want % 1_000_000, "t={t}");
        }
    }

    #[test]
    fn rfc4226_hotp_vectors() {
        // Appendix D: counters 0..=9 with the same secret.
        let want = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, code) in want.into_iter().enumerate() {
            assert_eq!(hotp(rfc_secret().as_bytes(), counter as u64, 6), code);
        }
    }

    #[test]
    fn base32_reads_back_what_it_writes() {
        let secret = TotpSecret::generate();
        let back = TotpSecret::from_base32(&secret.base32().to_lowercase()).unwrap();
        assert_eq!(back.as_bytes(), secret.as_bytes());
        assert!(TotpSecret::from_base32("not base32!").is_none());
        assert!(
            TotpSecret::from_base32("MZXW6YTBOI").is_none(),
            "too short for a secret"
        );
    }

    #[test]
    fn base32_follows_rfc4648() {
        let cases = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base32(plain.as_bytes()), encoded);
        }
        assert_eq!(rfc_secret().base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn window_is_one_step_either_side() {
        let s = rfc_secret();
        let t = 1_111_111_111;
        let now = t / STEP_SECS;
        let code = |step: u64| format!("{:06}", s.code_at(step * STEP_SECS));
        assert_eq!(s.verify(&code(now), t, None), Some(now));
        assert_eq!(s.verify(&code(now - 1), t, None), Some(now - 1));
        assert_eq!(s.verify(&code(now + 1), t, None), Some(now + 1));
        assert_eq!(s.verify(&code(now - 2), t, None), None);
        assert_eq!(s.verify(&code(now + 2), t, None), None);
        // At the very start of time there is no earlier step.
        assert_eq!(s.verify(&code(0), 0, None), Some(0));
    }

    #[test]
    fn a_used_step_cannot_be_replayed() {
        let s = rfc_secret();
        let t = 1_234_567_890;
        let now = t / STEP_SECS;
        let typed = format!("{:06}", s.code_at(t));
        let used = s.verify(&typed, t, None).unwrap();
        assert_eq!(s.verify(&typed, t, Some(used)), None);
        assert_eq!(s.verify(&typed, t + STEP_SECS, Some(used)), None);
        // A code from the previous step is refused once the current one was used.
        let older = format!("{:06}", s.code_at(t - STEP_SECS));
        assert_eq!(s.verify(&older, t, Some(now)), None);
        // The next step is still fine.
        let next = format!("{:06}", s.code_at(t + STEP_SECS));
        assert_eq!(s.verify(&next, t + STEP_SECS, Some(now)), Some(now + 1));
    }

    #[test]
    fn typed_codes_forgive_spaces_and_devanagari_but_nothing_else() {
        let s = rfc_secret();
        let t = 59;
        let code = format!("{:06}", s.code_at(t));
        assert_eq!(code, "287082");
        assert_eq!(s.verify(" 287 082 ", t, None), Some(1));
        assert_eq!(s.verify("२८७०८२", t, None), Some(1));
        for bad in [
            "",
            "28708",
            "2870820",
            "287-082",
            "28708a",
            "287082\u{0}",
            "٢٨٧٠٨٢",
        ] {
            assert_eq!(s.verify(bad, t, None), None, "{bad:?}");
        }
        assert_eq!(s.verify(&" ".repeat(100), t, None), None);
        assert_eq!(s.verify("000000", t, None), None);
    }

    #[test]
    fn secrets_are_random_sized_and_quiet() {
        let a = TotpSecret::generate();
        let b = TotpSecret::try_generate().unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_eq!(a.base32().len(), 32);
        assert_eq!(format!("{a:?}"), "TotpSecret(..)");
        assert!(TotpSecret::from_bytes(&[0u8; 19]).is_none());
        assert!(TotpSecret::from_bytes(&[0u8; 21]).is_none());
        let back = TotpSecret::from_bytes(a.as_bytes()).unwrap();
        assert_eq!(back.code_at(1000), a.code_at(1000));
    }

    #[test]
    fn otpauth_uri_is_percent_encoded() {
        let uri = rfc_secret().otpauth_uri("Bilaspur Range Tipline", "asp.korba@x y");
        assert_eq!(
            uri,
            "otpauth://totp/Bilaspur%20Range%20Tipline:asp.korba%40x%20y?\
             secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Bilaspur%20Range%20Tipline\
             &algorithm=SHA1&digits=6&period=30"
        );
        let hindi = rfc_secret().otpauth_uri("टिपलाइन", "a&b=c");
        assert!(hindi.starts_with("otpauth://totp/%E0%A4%9F"));
        assert!(hindi.contains(":a%26b%3Dc?"));
    }

    #[test]
    fn qr_code_is_inline_svg_without_the_data_as_text() {
        let uri = rfc_secret().otpauth_uri("Tipline", "asp.korba");
        let svg = qr_svg(&uri);
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("GEZDGNBV"));
        assert!(!svg.contains("<script") && !svg.contains("href"));
        assert_eq!(qr_svg(&"x".repeat(10_000)), "");
    }
}
