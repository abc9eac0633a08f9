//! Photos a tipster sends: recognised by their bytes (never by the name or the type the sender
//! claims), bounded in size, hashed (SHA-256) on arrival, and copied for officers without the
//! metadata that can identify or locate the sender (EXIF with GPS and camera serials, XMP, IPTC,
//! comments, PNG text chunks). The original is kept too, sealed, for evidence.

use crate::crypto::{encode_hex, sha256};

/// Largest photo accepted.
pub const PHOTO_MAX_BYTES: usize = 4 * 1024 * 1024;
/// Most photos with one report.
pub const PHOTOS_MAX: usize = 3;

/// Why a file was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    /// Not a JPEG or PNG photo (whatever it claims to be).
    #[error("not a JPEG or PNG photo")]
    NotAPhoto,
    /// Larger than [`PHOTO_MAX_BYTES`].
    #[error("larger than 4 MB")]
    TooLarge,
    /// The photo's structure is broken.
    #[error("the photo is damaged")]
    Damaged,
    /// More than [`PHOTOS_MAX`].
    #[error("more than 3 photos")]
    TooMany,
}

/// A checked photo: the original bytes and the copy for officers.
#[derive(Clone, Debug)]
pub struct Photo {
    /// `image/jpeg` or `image/png`.
    pub kind: &'static str,
    /// As received.
    pub original: Vec<u8>,
    /// Without identifying metadata.
    pub clean: Vec<u8>,
    /// SHA-256 of the original, lower-case hex.
    pub sha256: String,
}

impl Photo {
    /// Checks and cleans a file.
    pub fn parse(bytes: &[u8]) -> Result<Self, AttachmentError> {
        if bytes.len() > PHOTO_MAX_BYTES {
            return Err(AttachmentError::TooLarge);
        }
        let (kind, clean) = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            ("image/jpeg", clean_jpeg(bytes)?)
        } else if bytes.starts_with(PNG_SIGNATURE) {
            ("image/png", clean_png(bytes)?)
        } else {
            return Err(AttachmentError::NotAPhoto);
        };
        Ok(Self {
            kind,
            original: bytes.to_vec(),
            clean,
            sha256: encode_hex(&sha256(bytes)),
        })
    }
}

/// JPEG without APP1 to APP15 (EXIF, XMP, IPTC, ...) and comments; the image data untouched.
fn clean_jpeg(bytes: &[u8]) -> Result<Vec<u8>, AttachmentError> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..2]);
    let mut i = 2;
    loop {
        // Fill bytes may precede a marker.
        while bytes.get(i) == Some(&0xFF) && bytes.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let (Some(0xFF), Some(&marker)) = (bytes.get(i), bytes.get(i + 1)) else {
            return Err(AttachmentError::Damaged);
        };
        match marker {
            // End of image, or markers without a length.
            0xD9 => {
                out.extend_from_slice(&bytes[i..i + 2]);
                return Ok(out);
            }
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&bytes[i..i + 2]);
                i += 2;
                continue;
            }
            _ => {}
        }
        let len = match (bytes.get(i + 2), bytes.get(i + 3)) {
            (Some(&hi), Some(&lo)) => usize::from(hi) << 8 | usize::from(lo),
            _ => return Err(AttachmentError::Damaged),
        };
        let end = i + 2 + len;
        if len < 2 || end > bytes.len() {
            return Err(AttachmentError::Damaged);
        }
        let identifying = matches!(marker, 0xE1..=0xEF | 0xFE);
        if !identifying {
            out.extend_from_slice(&bytes[i..end]);
        }
        i = end;
        if marker == 0xDA {
            // Start of scan: its entropy-coded data is copied up to the next marker (in it, 0xFF
            // is followed by 0x00, a stuffed byte, or by a restart marker). Markers between and
            // after scans go through this loop too: metadata hidden between the scans of a
            // progressive JPEG is dropped like metadata before them.
            let start = i;
            loop {
                match (bytes.get(i), bytes.get(i + 1)) {
                    (Some(0xFF), Some(0x00 | 0xD0..=0xD7)) => i += 2,
                    (Some(0xFF), Some(_)) => break,
                    (Some(_), _) => i += 1,
                    (None, _) => return Err(AttachmentError::Damaged),
                }
            }
            out.extend_from_slice(&bytes[start..i]);
        }
    }
}

const PNG_SIGNATURE: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// PNG without text, EXIF and time chunks.
fn clean_png(bytes: &[u8]) -> Result<Vec<u8>, AttachmentError> {
    let mut out = PNG_SIGNATURE.to_vec();
    let mut i = PNG_SIGNATURE.len();
    while i < bytes.len() {
        let header = bytes.get(i..i + 8).ok_or(AttachmentError::Damaged)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = &header[4..8];
        let end = i
            .checked_add(12)
            .and_then(|v| v.checked_add(len))
            .filter(|e| *e <= bytes.len())
            .ok_or(AttachmentError::Damaged)?;
        if !matches!(kind, b"tEXt" | b"zTXt" | b"iTXt" | b"eXIf" | b"tIME") {
            out.extend_from_slice(&bytes[i..end]);
        }
        i = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
    Err(AttachmentError::Damaged)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small JPEG-shaped file: JFIF, an EXIF segment holding `exif`, a comment, a quantisation
    /// table, the scan header and some scan data.
    pub(crate) fn jpeg_with_exif(exif: &[u8]) -> Vec<u8> {
        let segment = |marker: u8, body: &[u8]| {
            let len = body.len() + 2;
            let mut s = vec![0xFF, marker, (len >> 8) as u8, len as u8];
            s.extend_from_slice(body);
            s
        };
        let mut j = vec![0xFF, 0xD8];
        j.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(exif);
        j.extend(segment(0xE1, &app1));
        j.extend(segment(0xFE, b"taken by someone"));
        j.extend(segment(0xDB, &[0u8; 65]));
        j.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
        j.extend_from_slice(&[0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9]);
        j
    }

    #[test]
    fn jpeg_metadata_is_removed_and_the_image_kept() {
        let original = jpeg_with_exif(b"GPS 21.2514N 81.6296E serial CANARY-CAM-1");
        let photo = Photo::parse(&original).unwrap();
        assert_eq!(photo.kind, "image/jpeg");
        let text = String::from_utf8_lossy(&photo.clean);
        assert!(
            !text.contains("CANARY-CAM-1") && !text.contains("GPS") && !text.contains("taken by")
        );
        assert!(photo.clean.starts_with(&[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(
            photo
                .clean
                .ends_with(&[0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9])
        );
        assert_eq!(photo.original, original);
        assert_eq!(photo.sha256, encode_hex(&sha256(&original)));
    }

    #[test]
    fn metadata_between_and_after_scans_is_removed_too() {
        // A progressive JPEG's second scan, with an EXIF segment and a comment slipped in between
        // the scans, and bytes appended after the end of the image.
        let mut j = jpeg_with_exif(b"first");
        j.truncate(j.len() - 2);
        j.extend_from_slice(&[0xFF, 0xD0, 0x77]);
        j.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x17]);
        j.extend_from_slice(b"Exif\0\0CANARY-LATE-GPS");
        j.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x09]);
        j.extend_from_slice(b"by Ravi");
        j.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 63, 0, 0x9A, 0xFF, 0xD9]);
        j.extend_from_slice(b"CANARY-TRAILER");
        let photo = Photo::parse(&j).unwrap();
        let text = String::from_utf8_lossy(&photo.clean);
        assert!(!text.contains("CANARY") && !text.contains("Ravi"), "{text}");
        // Both scans, the restart marker and the end of the image are kept.
        assert!(photo.clean.ends_with(&[
            0x56, 0xFF, 0xD0, 0x77, 0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0, 0x9A, 0xFF, 0xD9
        ]));
        // Scan data cut off before the end of the image is damage.
        assert_eq!(
            Photo::parse(&j[..j.len() - 16]).unwrap_err(),
            AttachmentError::Damaged
        );
    }

    #[test]
    fn png_text_chunks_are_removed() {
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&[0, 0, 0, 0]);
            c
        };
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
        png.extend(chunk(b"tEXt", b"Author\0CANARY-AUTHOR"));
        png.extend(chunk(b"IDAT", &[1, 2, 3]));
        png.extend(chunk(b"IEND", &[]));
        let photo = Photo::parse(&png).unwrap();
        assert_eq!(photo.kind, "image/png");
        assert!(!String::from_utf8_lossy(&photo.clean).contains("CANARY-AUTHOR"));
        assert_eq!(photo.clean.len(), png.len() - (12 + 20));
    }

    #[test]
    fn other_files_and_damaged_photos_are_refused() {
        assert_eq!(
            Photo::parse(b"<script>alert(1)</script>").unwrap_err(),
            AttachmentError::NotAPhoto
        );
        assert_eq!(
            Photo::parse(b"%PDF-1.7 ...").unwrap_err(),
            AttachmentError::NotAPhoto
        );
        let mut truncated = jpeg_with_exif(b"x");
        truncated.truncate(30);
        assert_eq!(
            Photo::parse(&truncated).unwrap_err(),
            AttachmentError::Damaged
        );
        let mut big = jpeg_with_exif(b"x");
        big.resize(PHOTO_MAX_BYTES + 1, 0);
        assert_eq!(Photo::parse(&big).unwrap_err(), AttachmentError::TooLarge);
        assert_eq!(
            Photo::parse(PNG_SIGNATURE).unwrap_err(),
            AttachmentError::Damaged
        );
    }
}
