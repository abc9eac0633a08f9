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

/// A file from a `multipart/form-data` body.
#[derive(Debug)]
pub struct FilePart {
    /// The field name.
    pub name: String,
    /// The bytes.
    pub data: Vec<u8>,
}

/// Parses `multipart/form-data` (RFC 7578): text fields into [`FormFields`] (strict UTF-8),
/// file fields (those with a `filename`) into [`FilePart`]s; empty file inputs are left out.
/// `content_type` is the request's header, which carries the boundary.
pub fn parse_multipart(
    content_type: &str,
    body: &[u8],
) -> Result<(FormFields, Vec<FilePart>), FormError> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or(FormError::Encoding)?;
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut fields = Vec::new();
    let mut files = Vec::new();
    let mut rest = body;
    // The preamble, then each part after a delimiter line, until the closing `--`.
    let start = find(rest, delimiter).ok_or(FormError::Encoding)?;
    rest = &rest[start + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Ok((FormFields(fields), files));
        }
        rest = rest.strip_prefix(b"\r\n").ok_or(FormError::Encoding)?;
        let head_end = find(rest, b"\r\n\r\n").ok_or(FormError::Encoding)?;
        let head = std::str::from_utf8(&rest[..head_end]).map_err(|_| FormError::Encoding)?;
        rest = &rest[head_end + 4..];
        let mut next = Vec::with_capacity(delimiter.len() + 2);
        next.extend_from_slice(b"\r\n");
        next.extend_from_slice(delimiter);
        let end = find(rest, &next).ok_or(FormError::Encoding)?;
        let data = &rest[..end];
        rest = &rest[end + next.len()..];
        let disposition = head
            .split("\r\n")
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .ok_or(FormError::Encoding)?;
        let param = |key: &str| {
            disposition.split(';').map(str::trim).find_map(|p| {
                p.strip_prefix(key)
                    .and_then(|v| v.strip_prefix('='))
                    .map(|v| v.trim_matches('"').to_owned())
            })
        };
        let name = param("name").ok_or(FormError::Encoding)?;
        match param("filename") {
            Some(filename) => {
                if !(filename.is_empty() && data.is_empty()) {
                    files.push(FilePart {
                        name,
                        data: data.to_vec(),
                    });
                }
            }
            None => fields.push((
                name,
                String::from_utf8(data.to_vec()).map_err(|_| FormError::Encoding)?,
            )),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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

    #[test]
    fn multipart_fields_and_files() {
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n\xe0\xa4\x97\xe0\xa4\xbe\xe0\xa4\x82\xe0\xa4\x9c\xe0\xa4\xbe bikta hai\r\n--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\r\n--\r\n\xff\xd9\r\n--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--XyZ--\r\n";
        let (fields, files) = parse_multipart("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(fields.get("text"), Some("गांजा bikta hai"));
        assert_eq!(files.len(), 1, "the empty file input is left out");
        assert_eq!(files[0].name, "photo");
        assert_eq!(files[0].data, b"\xff\xd8\r\n--\r\n\xff\xd9");
        for bad in [
            &b"--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nno end"[..],
            &b"--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n\xff\r\n--XyZ--"[..],
            &b"no delimiter at all"[..],
        ] {
            assert!(parse_multipart("multipart/form-data; boundary=XyZ", bad).is_err());
        }
        assert!(
            parse_multipart("multipart/form-data", body).is_err(),
            "no boundary"
        );
    }
}
