//! Twilio's webhooks: the `X-Twilio-Signature` check (HMAC-SHA1 over the URL and the sorted
//! form parameters, as Twilio's SDKs compute it, with the default-port ambiguity handled) and the
//! form body as an ordered multimap that keeps empty values.

use super::{MediaKind, MediaRef};
use crate::crypto::{ct_eq, encode_base64, hmac_sha1};

/// A form-encoded body as Twilio sent it: every pair, in order, names repeated, empty values
/// kept (the signature covers all of them).
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Parses `application/x-www-form-urlencoded` bytes; `None` if a part is not UTF-8.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(body).ok()?;
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .ok()
                .map(|v| v.into_owned())
        };
        let mut pairs = Vec::new();
        for part in text.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(name)?, decode(value)?));
        }
        Some(Self(pairs))
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The files of a message (`MediaUrl0`.. with `MediaContentType0`.., up to `NumMedia`; Twilio
    /// sends at most 10), by their URLs, which need the account's credentials.
    pub fn media(&self) -> Vec<MediaRef> {
        let count: usize = self
            .get("NumMedia")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        (0..count.min(10))
            .filter_map(|i| {
                let url = self
                    .get(&format!("MediaUrl{i}"))
                    .filter(|u| !u.is_empty())?;
                let mime = self
                    .get(&format!("MediaContentType{i}"))
                    .unwrap_or_default();
                Some(MediaRef::new(MediaKind::of_mime(mime), url))
            })
            .collect()
    }

    /// What Twilio signs after the URL: names sorted byte-wise, each name's distinct values
    /// sorted, `name + value` for each, no separators.
    fn signed_suffix(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = self
            .0
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        pairs.into_iter().map(|(n, v)| format!("{n}{v}")).collect()
    }
}

/// Text for a TwiML document: the five XML special characters escaped.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `X-Twilio-Signature` of a request to `url` with `form`: base64(HMAC-SHA1(token, url + params)).
pub fn twilio_signature(token: &str, url: &str, form: &Form) -> String {
    let signed = format!("{url}{}", form.signed_suffix());
    encode_base64(&hmac_sha1(token.as_bytes(), signed.as_bytes()))
}

/// Whether `signature` is Twilio's for `url` and `form`, with the URL as given or with its
/// default port added or removed (Twilio signs either way). Constant-time per candidate.
pub fn twilio_verify(token: &str, url: &str, form: &Form, signature: &str) -> bool {
    port_variants(url).iter().any(|candidate| {
        ct_eq(
            twilio_signature(token, candidate, form).as_bytes(),
            signature.as_bytes(),
        )
    })
}

/// `url`, and the same URL with the scheme's default port toggled.
fn port_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    let (scheme, default) = if let Some(rest) = url.strip_prefix("https://") {
        ("https://", (rest, ":443"))
    } else if let Some(rest) = url.strip_prefix("http://") {
        ("http://", (rest, ":80"))
    } else {
        return out;
    };
    let (rest, port) = default;
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    if let Some(host) = authority.strip_suffix(port) {
        out.push(format!("{scheme}{host}{tail}"));
    } else if !authority.rsplit('@').next().unwrap_or("").contains(':') {
        out.push(format!("{scheme}{authority}{port}{tail}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parameters of Twilio's official vectors (twilio-python and twilio-node tests).
    fn official_params() -> Form {
        Form::parse(
            b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212",
        )
        .unwrap()
    }

    #[test]
    fn signature_matches_twilios_official_vectors() {
        let p = official_params();
        let cases = [
            (
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            ),
            (
                "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                "kvajT1Ptam85bY51eRf/AJRuM3w=",
            ),
            (
                "http://mycompany.com:80/myapp.php?foo=1&bar=2",
                "0ZXoZLH/DfblKGATFgpif+LLRf4=",
            ),
            (
                "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
                "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
            ),
            (
                "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2",
                "CukzLTc1tT5dXEDIHm/tKBanW10=",
            ),
            (
                "https://mycompany.com/myapp.php?foo=1&bar=2&Body=It%27s+amazing",
                "TfZzewPq8wqrGlMfyAud8+/IvJ0=",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(twilio_signature("12345", url, &p), expected, "{url}");
            assert!(twilio_verify("12345", url, &p, expected));
        }
        // Either port form verifies against the other's signature.
        assert!(twilio_verify(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            &p,
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
        assert!(twilio_verify(
            "12345",
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &p,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        // A wrong token, a changed parameter or a truncated signature fail.
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert!(!twilio_verify(
            "12346",
            url,
            &p,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        let changed = Form::parse(
            b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1235&From=%2B14158675309&To=%2B18005551212",
        )
        .unwrap();
        assert!(!twilio_verify(
            "12345",
            url,
            &changed,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!twilio_verify(
            "12345",
            url,
            &p,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8"
        ));
    }

    #[test]
    fn repeated_parameters_are_signed_sorted_and_once() {
        let p =
            Form::parse(b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234").unwrap();
        assert_eq!(
            twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &p),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
    }

    #[test]
    fn the_locally_computed_realistic_vector_verifies() {
        let p = Form::parse(
            b"AccountSid=AC00000000000000000000000000000001&ApiVersion=2010-04-01&CallSid=CA00000000000000000000000000000002&CallStatus=ringing&Direction=inbound&From=%2B919812345678&To=%2B18005550100",
        )
        .unwrap();
        assert_eq!(
            twilio_signature(
                "test_auth_token_123",
                "https://tips.example.in/hooks/twilio/voice",
                &p
            ),
            "XumXhq8b6avWovkSvytE3u0l6Dc="
        );
    }

    #[test]
    fn empty_values_are_kept() {
        let p = Form::parse(b"Body=&From=%2B91").unwrap();
        assert_eq!(p.get("Body"), Some(""));
        assert_eq!(p.signed_suffix(), "BodyFrom+91");
        assert!(Form::parse(b"Body=%FF").is_none(), "not UTF-8");
    }
}
