//! Videos and documents a tipster sends on a messaging channel: recognised by their bytes (never
//! by the type the sender or the provider claims), bounded in size, hashed (SHA-256) on arrival,
//! and held. No copy is made for officers, because what identifies the sender inside them (a
//! video's recording place and phone model, a document's author and software) cannot be removed
//! reliably here; the original is kept sealed, and only the range supervisor may release it, with
//! a reason, audited.

use crate::crypto::{encode_hex, sha256};

/// Largest video or document accepted (WhatsApp's own limit for videos is 16 MB).
pub const HELD_MAX_BYTES: usize = 16 * 1024 * 1024;

/// Largest document accepted on the web form (the form's body limit counts it).
pub const DOCUMENT_MAX_BYTES: usize = 4 * 1024 * 1024;

/// Why a file was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeldError {
    /// Not a PDF, MP4, 3GP, QuickTime or WebM file (whatever it claims to be).
    #[error("not a PDF document or an MP4, 3GP, QuickTime or WebM video")]
    NotAccepted,
    /// Larger than [`HELD_MAX_BYTES`].
    #[error("larger than 16 MB")]
    TooLarge,
}

/// A checked video or document.
#[derive(Clone, Debug)]
pub struct HeldFile {
    /// What the bytes are: `application/pdf`, `video/mp4`, `video/3gpp`, `video/quicktime` or
    /// `video/webm`.
    pub kind: &'static str,
    /// As received.
    pub original: Vec<u8>,
    /// SHA-256 of the original, lower-case hex.
    pub sha256: String,
}

impl HeldFile {
    /// Checks a file.
    pub fn parse(bytes: &[u8]) -> Result<Self, HeldError> {
        if bytes.len() > HELD_MAX_BYTES {
            return Err(HeldError::TooLarge);
        }
        let kind = sniff(bytes).ok_or(HeldError::NotAccepted)?;
        Ok(Self {
            kind,
            original: bytes.to_vec(),
            sha256: encode_hex(&sha256(bytes)),
        })
    }
}

/// The type of a PDF, an ISO media file (by its `ftyp` brand) or a Matroska/WebM file.
fn sniff(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    if b.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some("video/webm");
    }
    if b.get(4..8) == Some(b"ftyp") {
        return match b.get(8..11)? {
            b"3gp" | b"3g2" => Some("video/3gpp"),
            b"qt " => Some("video/quicktime"),
            _ => Some("video/mp4"),
        };
    }
    None
}

/// The file name extension for a type this module (or a recording) gives.
pub fn extension(kind: &str) -> &'static str {
    match kind {
        "application/pdf" => "pdf",
        "video/mp4" => "mp4",
        "video/3gpp" => "3gp",
        "video/quicktime" => "mov",
        "video/webm" => "webm",
        "audio/mpeg" => "mp3",
        "audio/ogg" => "ogg",
        "audio/mp4" => "m4a",
        "audio/aac" => "aac",
        "audio/wav" => "wav",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_bytes_not_their_claims() {
        let pdf = HeldFile::parse(b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF").unwrap();
        assert_eq!(pdf.kind, "application/pdf");
        assert_eq!(pdf.sha256.len(), 64);
        let mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom";
        assert_eq!(HeldFile::parse(mp4).unwrap().kind, "video/mp4");
        assert_eq!(
            HeldFile::parse(b"\0\0\0\x14ftyp3gp4\0\0\0\0").unwrap().kind,
            "video/3gpp"
        );
        assert_eq!(
            HeldFile::parse(&[0x1A, 0x45, 0xDF, 0xA3, 1]).unwrap().kind,
            "video/webm"
        );
        // An executable or a web page named report.pdf is still refused.
        assert_eq!(
            HeldFile::parse(b"MZ\x90\0report.pdf").unwrap_err(),
            HeldError::NotAccepted
        );
        assert_eq!(
            HeldFile::parse(b"<html><script>").unwrap_err(),
            HeldError::NotAccepted
        );
        assert_eq!(HeldFile::parse(b"").unwrap_err(), HeldError::NotAccepted);
        let mut big = b"%PDF-".to_vec();
        big.resize(HELD_MAX_BYTES + 1, b' ');
        assert_eq!(HeldFile::parse(&big).unwrap_err(), HeldError::TooLarge);
        assert_eq!(extension("video/3gpp"), "3gp");
    }
}
