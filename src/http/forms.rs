//! A strict reader of `application/x-www-form-urlencoded` bodies. Unlike the lenient decoders it
//! refuses invalid UTF-8 (instead of replacing it), so a tip is never stored with silently
//! mangled text.

/// Why a form body was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum FormError {
    /// A value is not valid UTF-8 after percent-decoding.
    Encoding,
}

/// The fields of a form, in order.
#[derive(Debug, Default)]
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Result<Self, FormError> {
        let mut fields = Vec::new();
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            fields.push((decode(name)?, decode(value)?));
        }
        Ok(Self(fields))
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, or `None` when missing or only white space.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }

    /// Every value of a field that may repeat (check boxes, table rows), in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn decode(raw: &[u8]) -> Result<String, FormError> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| FormError::Encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_hindi_and_refuses_bad_utf8() {
        let f = FormFields::parse(
            "text=%E0%A4%97%E0%A4%BE%E0%A4%82%E0%A4%9C%E0%A4%BE+x&now=1&empty=".as_bytes(),
        )
        .unwrap();
        assert_eq!(f.get("text"), Some("गांजा x"));
        assert_eq!(f.get("now"), Some("1"));
        assert_eq!(f.non_empty("empty"), None);
        assert_eq!(f.get("missing"), None);
        assert_eq!(
            FormFields::parse(b"text=%FF%FE").unwrap_err(),
            FormError::Encoding
        );
        assert_eq!(
            FormFields::parse(b"text=\xff").unwrap_err(),
            FormError::Encoding
        );
    }
}
