//! Voice recordings left on the tip line: recognised by their bytes (a RIFF/WAVE file with 16-bit
//! linear PCM or 8-bit mu-law, as Twilio delivers; MPEG audio, as Exotel does, decoded by
//! `symphonia`'s pure-Rust MP3 decoder; or an Ogg Opus voice note, as WhatsApp and Telegram send,
//! see `ogg_opus`), bounded in size, hashed (SHA-256) on arrival, and copied for officers with the voice disguised: pitch and formants shifted down
//! together by a granular resampler that keeps the timing, so the words stay clear and the
//! speaker is harder to recognise. The original is kept sealed, for evidence; only the range
//! supervisor may release it.

use crate::crypto::{encode_hex, sha256};

/// Largest recording accepted (about 10 minutes of 16-bit mono at 8 kHz).
pub const RECORDING_MAX_BYTES: usize = 10 * 1024 * 1024;

/// How far the disguised copy's pitch and formants are lowered (0.82: about 3.4 semitones).
const DISGUISE_FACTOR: f32 = 0.82;

/// Why a file was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordingError {
    /// Not a WAVE file with 16-bit PCM or mu-law samples, an MP3 or an Ogg Opus file.
    #[error(
        "not an MP3, an Ogg Opus voice note or a WAVE recording with 16-bit PCM or mu-law samples"
    )]
    NotARecording,
    /// Larger than [`RECORDING_MAX_BYTES`].
    #[error("larger than 10 MB")]
    TooLarge,
    /// The file's structure is broken.
    #[error("the recording is damaged")]
    Damaged,
}

/// A checked recording: the original bytes and the disguised copy for officers.
#[derive(Clone, Debug)]
pub struct Recording {
    /// What officers hear: always `audio/wav`.
    pub kind: &'static str,
    /// What was received: `audio/wav`, `audio/mpeg`, `audio/ogg` or `audio/aac` (AAC in ADTS).
    pub original_kind: &'static str,
    /// As received.
    pub original: Vec<u8>,
    /// Mono 16-bit PCM with the voice disguised.
    pub clean: Vec<u8>,
    /// SHA-256 of the original, lower-case hex.
    pub sha256: String,
    /// Length in whole seconds.
    pub seconds: u32,
}

impl Recording {
    /// Checks a file and makes the disguised copy.
    pub fn parse(bytes: &[u8]) -> Result<Self, RecordingError> {
        if bytes.len() > RECORDING_MAX_BYTES {
            return Err(RecordingError::TooLarge);
        }
        // A decoder's panic on a crafted file must not take the fetch job down with it.
        let decoded =
            std::panic::catch_unwind(|| decode(bytes)).map_err(|_| RecordingError::Damaged)?;
        let (original_kind, (rate, samples)) = decoded?;
        let seconds = u32::try_from(samples.len() / rate.max(1) as usize).unwrap_or(u32::MAX);
        let clean = encode_wav(rate, &disguise(&samples, rate, DISGUISE_FACTOR));
        Ok(Self {
            kind: "audio/wav",
            original_kind,
            original: bytes.to_vec(),
            clean,
            sha256: encode_hex(&sha256(bytes)),
            seconds,
        })
    }
}

/// The type of a recording's bytes and its sample rate and mono samples.
fn decode(bytes: &[u8]) -> Result<(&'static str, (u32, Vec<f32>)), RecordingError> {
    Ok(if bytes.starts_with(b"RIFF") {
        ("audio/wav", decode_wav(bytes)?)
    } else if is_mpeg_audio(bytes) {
        ("audio/mpeg", decode_mp3(bytes)?)
    } else if super::ogg_opus::is_ogg(bytes) {
        (
            "audio/ogg",
            super::ogg_opus::decode(bytes, RECORDING_MAX_BYTES)?,
        )
    } else if matches!(bytes, [0xFF, second, ..] if second & 0xF6 == 0xF0) {
        ("audio/aac", decode_adts(bytes)?)
    } else {
        return Err(RecordingError::NotARecording);
    })
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

/// The sample rate and the samples (channels mixed to mono) of a WAVE file.
fn decode_wav(b: &[u8]) -> Result<(u32, Vec<f32>), RecordingError> {
    if b.get(0..4) != Some(b"RIFF") || b.get(8..12) != Some(b"WAVE") {
        return Err(RecordingError::NotARecording);
    }
    let mut format = None;
    let mut data = None;
    let mut i = 12;
    while i + 8 <= b.len() {
        let id = &b[i..i + 4];
        let len = u32_at(b, i + 4).ok_or(RecordingError::Damaged)? as usize;
        let body = b
            .get(i + 8..(i + 8).saturating_add(len).min(b.len()))
            .ok_or(RecordingError::Damaged)?;
        match id {
            b"fmt " => {
                let tag = u16_at(body, 0).ok_or(RecordingError::Damaged)?;
                let channels = u16_at(body, 2).ok_or(RecordingError::Damaged)?;
                let rate = u32_at(body, 4).ok_or(RecordingError::Damaged)?;
                let bits = u16_at(body, 14).ok_or(RecordingError::Damaged)?;
                format = Some((tag, channels, rate, bits));
            }
            b"data" => data = Some(body),
            _ => {}
        }
        // Chunks are padded to an even length.
        i = i + 8 + len + (len & 1);
    }
    let (Some((tag, channels, rate, bits)), Some(data)) = (format, data) else {
        return Err(RecordingError::Damaged);
    };
    if channels == 0 || !(4_000..=48_000).contains(&rate) {
        return Err(RecordingError::NotARecording);
    }
    let frames: Vec<f32> = match (tag, bits) {
        (1, 16) => data
            .chunks_exact(2)
            .map(|s| f32::from(i16::from_le_bytes([s[0], s[1]])) / 32768.0)
            .collect(),
        (7, 8) => data
            .iter()
            .map(|&u| f32::from(mulaw(u)) / 32768.0)
            .collect(),
        _ => return Err(RecordingError::NotARecording),
    };
    let channels = usize::from(channels);
    let mono = frames
        .chunks_exact(channels)
        .map(|f| f.iter().sum::<f32>() / channels as f32)
        .collect();
    Ok((rate, mono))
}

/// An ID3 tag or an MPEG audio frame header (eleven sync bits, layer III, II or I).
fn is_mpeg_audio(b: &[u8]) -> bool {
    b.starts_with(b"ID3")
        || matches!(b, [0xFF, second, ..] if second & 0xE0 == 0xE0 && second & 0x06 != 0)
}

/// The sample rate and the samples (channels mixed to mono) of an MP3 file. A damaged frame is
/// skipped, as players do; a file with no frame at all is refused.
fn decode_mp3(b: &[u8]) -> Result<(u32, Vec<f32>), RecordingError> {
    use symphonia::core::formats::FormatReader;
    use symphonia::default::{codecs::MpaDecoder, formats::MpaReader};
    let reader = MpaReader::try_new(source(b), &Default::default())
        .map_err(|_| RecordingError::NotARecording)?;
    decode_track::<MpaDecoder>(Box::new(reader))
}

/// The sample rate and mono samples of a bare AAC stream (ADTS, AAC-LC). Each frame's length is
/// in its 13-bit header, so nothing a file claims can make the reader allocate much. AAC in MP4
/// (M4A) is not taken: symphonia 0.5's MP4 reader sizes its tables from the counts a file writes
/// (a crafted sample count asks for gigabytes, and a failed allocation aborts the process, which
/// no `catch_unwind` stops); such a voice note is dropped like any file not of its kind.
fn decode_adts(b: &[u8]) -> Result<(u32, Vec<f32>), RecordingError> {
    use symphonia::core::formats::FormatReader;
    use symphonia::default::codecs::AacDecoder;
    use symphonia::default::formats::AdtsReader;
    let reader = AdtsReader::try_new(source(b), &Default::default())
        .map_err(|_| RecordingError::NotARecording)?;
    decode_track::<AacDecoder>(Box::new(reader))
}

fn source(b: &[u8]) -> symphonia::core::io::MediaSourceStream {
    symphonia::core::io::MediaSourceStream::new(
        Box::new(std::io::Cursor::new(b.to_vec())),
        Default::default(),
    )
}

/// Decodes the first track `D` can decode, mixed to mono. A damaged packet is skipped, as
/// players do; a file with no audio at all, or at an unlikely rate, is refused.
fn decode_track<D: symphonia::core::codecs::Decoder>(
    mut reader: Box<dyn symphonia::core::formats::FormatReader>,
) -> Result<(u32, Vec<f32>), RecordingError> {
    use symphonia::core::audio::SampleBuffer;
    use symphonia::core::codecs::DecoderOptions;
    use symphonia::core::errors::Error;

    let (track_id, mut decoder) = reader
        .tracks()
        .iter()
        .find_map(|t| {
            D::try_new(&t.codec_params, &DecoderOptions::default())
                .ok()
                .map(|d| (t.id, d))
        })
        .ok_or(RecordingError::NotARecording)?;
    let (mut rate, mut mono) = (0, Vec::new());
    loop {
        let packet = match reader.next_packet() {
            Ok(p) => p,
            Err(Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(_) => return Err(RecordingError::Damaged),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            Err(Error::DecodeError(_)) => continue,
            Err(_) => return Err(RecordingError::Damaged),
        };
        let spec = *decoded.spec();
        let channels = spec.channels.count().max(1);
        let mut buffer = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
        buffer.copy_interleaved_ref(decoded);
        rate = spec.rate;
        mono.extend(
            buffer
                .samples()
                .chunks_exact(channels)
                .map(|f| f.iter().sum::<f32>() / channels as f32),
        );
        if mono.len() > RECORDING_MAX_BYTES {
            return Err(RecordingError::TooLarge);
        }
    }
    if mono.is_empty() || !(4_000..=48_000).contains(&rate) {
        return Err(RecordingError::NotARecording);
    }
    Ok((rate, mono))
}

/// One G.711 mu-law byte as a 16-bit sample.
fn mulaw(u: u8) -> i16 {
    let u = !u;
    let sign = u & 0x80;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i32::from(u & 0x0F);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    let v = if sign != 0 { -magnitude } else { magnitude };
    i16::try_from(v).unwrap_or(if v < 0 { i16::MIN } else { i16::MAX })
}

/// A mono 16-bit PCM WAVE file.
fn encode_wav(rate: u32, samples: &[f32]) -> Vec<u8> {
    let data_len = u32::try_from(samples.len() * 2).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        // Saturating float-to-int conversion is the intent here.
        #[allow(clippy::cast_possible_truncation)]
        let v = (s.clamp(-1.0, 1.0) * 32767.0) as i16;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Shifts pitch and formants by `factor` and keeps the length: the signal is cut into grains of
/// 40 ms that overlap by half, each grain is read `factor` times as fast from where it starts
/// (resampled, which moves every frequency), and the grains are added back under a Hann window,
/// whose halves sum to one.
pub fn disguise(x: &[f32], rate: u32, factor: f32) -> Vec<f32> {
    let grain = (rate as usize / 25).max(16);
    let hop = grain / 2;
    let window: Vec<f32> = (0..grain)
        .map(|i| {
            let phase = std::f32::consts::PI * 2.0 * i as f32 / grain as f32;
            0.5 - 0.5 * phase.cos()
        })
        .collect();
    let at = |p: f32| {
        // Linear interpolation between neighbouring samples; silence past the end.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let i = p as usize;
        let frac = p - i as f32;
        let a = x.get(i).copied().unwrap_or(0.0);
        let b = x.get(i + 1).copied().unwrap_or(0.0);
        a + (b - a) * frac
    };
    let mut out = vec![0.0f32; x.len()];
    let mut start = 0;
    while start < x.len() {
        for (i, w) in window.iter().enumerate() {
            let Some(o) = out.get_mut(start + i) else {
                break;
            };
            *o += w * at(start as f32 + i as f32 * factor);
        }
        start += hop;
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The loudness (RMS, full scale 1.0) of a recording's disguised 16-bit WAVE copy.
    fn clean_rms(r: &Recording) -> f32 {
        let samples: Vec<f32> = r.clean[44..]
            .chunks_exact(2)
            .map(|s| f32::from(i16::from_le_bytes([s[0], s[1]])) / 32768.0)
            .collect();
        (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt()
    }

    /// The 4-second spoken-Hindi fixture decoded from `original_kind` into a 16 kHz WAV that
    /// still holds speech (its loudness well above silence).
    fn decoded_speech(bytes: &[u8], original_kind: &str) {
        let r = Recording::parse(bytes).unwrap();
        assert_eq!((r.kind, r.original_kind), ("audio/wav", original_kind));
        assert_eq!(r.seconds, 4);
        assert_eq!(u32_at(&r.clean, 24), Some(16_000));
        let rms = clean_rms(&r);
        assert!(rms > 0.01, "speech, not silence: {rms}");
    }

    /// The same spoken Hindi as the Opus note, re-encoded as AAC-LC (16 kHz mono, 24 kb/s) by
    /// FFmpeg's encoder (through PyAV) as a bare ADTS stream, and in an M4A file.
    #[test]
    fn an_aac_voice_note_is_decoded_and_disguised_but_not_from_mp4() {
        decoded_speech(
            include_bytes!("../../tests/data/voice-note.aac"),
            "audio/aac",
        );
        // The same sound in MP4 is refused (see `decode_adts`).
        let m4a = include_bytes!("../../tests/data/voice-note.m4a");
        assert!(matches!(
            Recording::parse(m4a),
            Err(RecordingError::NotARecording)
        ));
    }

    #[test]
    fn an_opus_voice_note_is_decoded_and_disguised() {
        // espeak-ng speaking Hindi, encoded by opusenc at 12 kb/s mono (4.35 s).
        let note = include_bytes!("../../tests/data/voice-note.ogg");
        decoded_speech(note, "audio/ogg");
        // Cut short, it is refused as damaged, not decoded in part.
        assert_eq!(
            Recording::parse(&note[..note.len() - 10]).unwrap_err(),
            RecordingError::Damaged
        );
    }

    fn tone(rate: u32, hz: f32, seconds: f32) -> Vec<f32> {
        (0..(rate as f32 * seconds) as usize)
            .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    /// The strongest frequency by a plain DFT over a range (coarse, enough for a test).
    fn peak_hz(x: &[f32], rate: u32) -> f32 {
        let n = x.len().min(4000);
        let x = &x[x.len() / 2 - n / 2..x.len() / 2 + n / 2];
        (100..1500)
            .step_by(5)
            .map(|hz| {
                let (mut re, mut im) = (0.0f32, 0.0f32);
                for (i, s) in x.iter().enumerate() {
                    let ph = 2.0 * std::f32::consts::PI * hz as f32 * i as f32 / rate as f32;
                    re += s * ph.cos();
                    im += s * ph.sin();
                }
                (hz, re * re + im * im)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap()
            .0 as f32
    }

    #[test]
    fn disguise_lowers_the_pitch_and_keeps_the_length() {
        let rate = 8000;
        let x = tone(rate, 500.0, 2.0);
        let y = disguise(&x, rate, DISGUISE_FACTOR);
        assert_eq!(y.len(), x.len());
        let before = peak_hz(&x, rate);
        let after = peak_hz(&y, rate);
        assert!((before - 500.0).abs() <= 5.0, "{before}");
        assert!(
            (after - 500.0 * DISGUISE_FACTOR).abs() <= 15.0,
            "expected about {} Hz, got {after}",
            500.0 * DISGUISE_FACTOR
        );
    }

    #[test]
    fn parses_pcm_and_mulaw_and_refuses_other_files() {
        let rate = 8000;
        let pcm = encode_wav(rate, &tone(rate, 300.0, 1.5));
        let r = Recording::parse(&pcm).unwrap();
        assert_eq!(r.seconds, 1);
        assert_eq!(r.kind, "audio/wav");
        assert_eq!(r.sha256, encode_hex(&sha256(&pcm)));
        assert_ne!(r.clean, r.original);
        assert_eq!(r.clean.len(), pcm.len());
        // mu-law: the same header with format 7 and one byte a sample.
        let mut mu = pcm[..44].to_vec();
        mu[20] = 7;
        mu[34] = 8;
        mu.truncate(40);
        mu.extend_from_slice(&8000u32.to_le_bytes());
        mu.extend(std::iter::repeat_n(0xFFu8, 8000));
        assert_eq!(Recording::parse(&mu).unwrap().seconds, 1);
        assert_eq!(mulaw(0xFF), 0);
        assert_eq!(mulaw(0x00), -32124);
        assert_eq!(
            Recording::parse(b"ID3\x03mp3 data").unwrap_err(),
            RecordingError::NotARecording
        );
        assert_eq!(
            Recording::parse(&pcm[..30]).unwrap_err(),
            RecordingError::Damaged
        );
        assert_eq!(
            Recording::parse(b"%PDF-1.4 not audio").unwrap_err(),
            RecordingError::NotARecording
        );
        let big = vec![0u8; RECORDING_MAX_BYTES + 1];
        assert_eq!(
            Recording::parse(&big).unwrap_err(),
            RecordingError::TooLarge
        );
    }

    #[test]
    fn an_mp3_is_decoded_and_its_voice_disguised() {
        // Two seconds of a 500 Hz tone, 8 kHz mono, encoded by lame as Exotel's recordings are.
        let mp3 = include_bytes!("../../tests/data/exotel-recording.mp3");
        let r = Recording::parse(mp3).unwrap();
        assert_eq!((r.kind, r.original_kind), ("audio/wav", "audio/mpeg"));
        assert_eq!(r.original, mp3.to_vec());
        assert_eq!(r.sha256, encode_hex(&sha256(mp3)));
        assert_eq!(r.seconds, 2);
        let (rate, heard) = decode_wav(&r.clean).unwrap();
        assert_eq!(rate, 8000);
        let peak = peak_hz(&heard, rate);
        assert!(
            (peak - 500.0 * DISGUISE_FACTOR).abs() <= 15.0,
            "expected about {} Hz, got {peak}",
            500.0 * DISGUISE_FACTOR
        );
        // A truncated file still decodes what it holds; a header alone is refused.
        assert!(Recording::parse(&mp3[..mp3.len() / 2]).is_ok());
        assert!(Recording::parse(&mp3[..4]).is_err());
    }
}
