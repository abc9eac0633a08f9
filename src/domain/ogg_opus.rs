//! Ogg Opus files (RFC 7845), as WhatsApp and Telegram deliver voice notes: the Ogg pages of the
//! first logical stream are joined into packets, the `OpusHead` packet gives the channel count
//! and the pre-skip, and the audio packets are decoded to 16 kHz mono by `opus-decoder` (a
//! pure-Rust port of the reference decoder). Every length read from the file is bounds-checked:
//! a damaged or truncated file is refused, never a panic.

use super::recording::RecordingError;

/// The rate voice notes are decoded at: enough for speech, a third of the work of 48 kHz.
const RATE: u32 = 16_000;

/// Whether the bytes start like an Ogg file.
pub fn is_ogg(b: &[u8]) -> bool {
    b.starts_with(b"OggS")
}

/// The sample rate and the mono samples of an Ogg Opus file; `max_samples` bounds the output.
pub fn decode(b: &[u8], max_samples: usize) -> Result<(u32, Vec<f32>), RecordingError> {
    let mut packets = packets(b)?.into_iter();
    let head = packets.next().ok_or(RecordingError::Damaged)?;
    let (channels, pre_skip) = opus_head(&head)?;
    // The comment header (`OpusTags`) comes next; it is not read.
    if !packets.next().is_some_and(|p| p.starts_with(b"OpusTags")) {
        return Err(RecordingError::Damaged);
    }
    let mut decoder = opus_decoder::OpusDecoder::new(RATE, channels)
        .map_err(|_| RecordingError::NotARecording)?;
    let mut frame = vec![0_i16; decoder.max_frame_size_per_channel() * channels];
    let mut mono = Vec::new();
    for packet in packets {
        let n = match decoder.decode(&packet, &mut frame, false) {
            Ok(n) => n,
            // A damaged packet is skipped, as players do.
            Err(_) => continue,
        };
        let samples = frame.get(..n * channels).ok_or(RecordingError::Damaged)?;
        mono.extend(
            samples.chunks_exact(channels).map(|f| {
                f.iter().map(|&s| f32::from(s)).sum::<f32>() / (32768.0 * channels as f32)
            }),
        );
        if mono.len() > max_samples {
            return Err(RecordingError::TooLarge);
        }
    }
    // The pre-skip is counted at 48 kHz: the encoder's start-up samples, not speech.
    let skip = (usize::from(pre_skip) / 3).min(mono.len());
    mono.drain(..skip);
    if mono.is_empty() {
        return Err(RecordingError::NotARecording);
    }
    Ok((RATE, mono))
}

/// The channel count (1 or 2) and pre-skip of an `OpusHead` packet (mapping family 0 only:
/// voice notes are mono or stereo).
fn opus_head(p: &[u8]) -> Result<(usize, u16), RecordingError> {
    if !p.starts_with(b"OpusHead") || p.len() < 19 {
        return Err(RecordingError::NotARecording);
    }
    let version = p[8];
    let channels = usize::from(p[9]);
    let pre_skip = u16::from_le_bytes([p[10], p[11]]);
    let family = p[18];
    if version >> 4 != 0 || family != 0 || !(1..=2).contains(&channels) {
        return Err(RecordingError::NotARecording);
    }
    Ok((channels, pre_skip))
}

/// The packets of the file's first logical stream, in order. A packet continues across segments
/// of 255 bytes, and across pages.
fn packets(b: &[u8]) -> Result<Vec<Vec<u8>>, RecordingError> {
    let mut out = Vec::new();
    let mut partial: Vec<u8> = Vec::new();
    let mut serial = None;
    let mut i = 0;
    while i < b.len() {
        let header = b.get(i..i + 27).ok_or(RecordingError::Damaged)?;
        if &header[..4] != b"OggS" || header[4] != 0 {
            return Err(RecordingError::Damaged);
        }
        let page_serial = u32::from_le_bytes([header[14], header[15], header[16], header[17]]);
        let segments = usize::from(header[26]);
        let table = b
            .get(i + 27..i + 27 + segments)
            .ok_or(RecordingError::Damaged)?;
        let body_len: usize = table.iter().map(|&l| usize::from(l)).sum();
        let body_start = i + 27 + segments;
        let body = b
            .get(body_start..body_start + body_len)
            .ok_or(RecordingError::Damaged)?;
        i = body_start + body_len;
        if *serial.get_or_insert(page_serial) != page_serial {
            continue;
        }
        let mut at = 0;
        for &len in table {
            let len = usize::from(len);
            partial.extend_from_slice(&body[at..at + len]);
            at += len;
            if len < 255 {
                out.push(std::mem::take(&mut partial));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One Ogg page of `serial` holding `packets` (each under 255 bytes).
    fn page(serial: u32, packets: &[&[u8]]) -> Vec<u8> {
        let mut p = b"OggS\0\0".to_vec();
        p.extend_from_slice(&[0; 8]);
        p.extend_from_slice(&serial.to_le_bytes());
        p.extend_from_slice(&[0; 8]);
        p.push(u8::try_from(packets.len()).unwrap());
        p.extend(packets.iter().map(|x| u8::try_from(x.len()).unwrap()));
        for x in packets {
            p.extend_from_slice(x);
        }
        p
    }

    #[test]
    fn packets_are_joined_per_stream_and_damage_is_refused() {
        let mut file = page(7, &[b"OpusHead", b"ab"]);
        file.extend(page(9, &[b"other stream"]));
        file.extend(page(7, &[b"cd"]));
        assert_eq!(
            packets(&file).unwrap(),
            vec![b"OpusHead".to_vec(), b"ab".to_vec(), b"cd".to_vec()]
        );
        // Cut inside the last page's body.
        assert_eq!(
            packets(&file[..file.len() - 1]),
            Err(RecordingError::Damaged)
        );
        assert_eq!(packets(b"OggS"), Err(RecordingError::Damaged));
    }

    #[test]
    fn only_mono_or_stereo_opus_heads_are_read() {
        let mut head = b"OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0".to_vec();
        assert_eq!(opus_head(&head), Ok((1, 312)));
        head[9] = 3;
        assert_eq!(opus_head(&head), Err(RecordingError::NotARecording));
        assert_eq!(opus_head(b"OpusHead"), Err(RecordingError::NotARecording));
        assert_eq!(
            decode(&page(1, &[b"not opus"]), 1000),
            Err(RecordingError::NotARecording)
        );
    }
}
