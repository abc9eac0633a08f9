//! The blind index: words of a text, normalised the same way for storing and for searching, then
//! turned into keyed terms (see `crypto::Keys::search_term`). No plaintext word is stored.
//! Exact words only: no prefixes, so the index leaks as little as it can.

use unicode_segmentation::UnicodeSegmentation;

use crate::crypto::Keys;
use crate::triage::normalize::{nfc, nfd};

/// At most this many distinct words of one text are indexed.
pub const MAX_TERMS: usize = 256;

/// Normalises one word: NFC, lower case, Devanagari digits to ASCII, nukta dropped, chandrabindu
/// as anusvara, joiners dropped. `गाँजा`, `गांजा` and `ग़ांजा` give the same word.
pub fn normalize_word(word: &str) -> String {
    let folded: String = nfc(word)
        .chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            '\u{093C}' | '\u{200C}' | '\u{200D}' => None,
            '\u{0901}' => Some('\u{0902}'),
            '\u{0966}'..='\u{096F}' => char::from_u32(u32::from(c) - 0x0966 + u32::from('0')),
            _ => Some(c),
        })
        .collect();
    match nfc(&folded) {
        std::borrow::Cow::Borrowed(_) => folded,
        std::borrow::Cow::Owned(composed) => composed,
    }
}

/// Every normalised word of a text, in order (Unicode word boundaries keep Devanagari words
/// whole).
pub fn all_words(text: &str) -> Vec<String> {
    // Decompose nukta letters first so that dropping the nukta leaves the base letter.
    nfd(text).unicode_words().map(normalize_word).collect()
}

/// The distinct words among `all` (from [`all_words`]), at most [`MAX_TERMS`].
pub fn distinct(all: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for w in all {
        if !w.is_empty() && !out.contains(&w.as_str()) {
            out.push(w);
            if out.len() == MAX_TERMS {
                break;
            }
        }
    }
    out
}

/// The distinct normalised words of a text.
pub fn words(text: &str) -> Vec<String> {
    distinct(&all_words(text))
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// The blind-index terms of these words.
pub fn terms_of(keys: &Keys, words: &[&str]) -> Vec<[u8; 16]> {
    words.iter().map(|w| keys.search_term(w)).collect()
}

/// The blind-index terms of a text.
pub fn terms(keys: &Keys, text: &str) -> Vec<[u8; 16]> {
    terms_of(keys, &distinct(&all_words(text)))
}

/// Number of MinHash values in a fingerprint.
pub const FINGERPRINT_LEN: usize = 16;
/// Values per band: two texts sharing one whole band are candidates for a near-duplicate.
const BAND_LEN: usize = 4;

/// A MinHash fingerprint of a text's blind-index terms: two fingerprints agree in about the same
/// share of places as the two word sets overlap (Jaccard). Built from the keyed terms, so it says
/// no more about the words than the blind index already does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint([u64; FINGERPRINT_LEN]);

impl Fingerprint {
    /// The fingerprint of a set of terms, or `None` for an empty set.
    pub fn of(terms: &[[u8; 16]]) -> Option<Self> {
        if terms.is_empty() {
            return None;
        }
        let mut mins = [u64::MAX; FINGERPRINT_LEN];
        for term in terms {
            let x = u64::from_be_bytes([
                term[0], term[1], term[2], term[3], term[4], term[5], term[6], term[7],
            ]);
            for (i, m) in mins.iter_mut().enumerate() {
                *m = (*m).min(mix(x ^ SEEDS[i]));
            }
        }
        Some(Self(mins))
    }

    /// Estimated Jaccard similarity of the two word sets, 0.0 to 1.0.
    pub fn similarity(&self, other: &Self) -> f64 {
        let same = self.0.iter().zip(&other.0).filter(|(a, b)| a == b).count();
        same as f64 / FINGERPRINT_LEN as f64
    }

    /// The band keys to index: texts sharing any band are compared.
    pub fn bands(&self) -> Vec<Vec<u8>> {
        self.0
            .chunks(BAND_LEN)
            .enumerate()
            .map(|(i, chunk)| {
                let mut key = vec![i as u8];
                for v in chunk {
                    key.extend_from_slice(&v.to_be_bytes());
                }
                crate::crypto::sha256(&key)[..12].to_vec()
            })
            .collect()
    }

    /// Bytes for storage.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    /// Reads stored bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != FINGERPRINT_LEN * 8 {
            return None;
        }
        let mut mins = [0u64; FINGERPRINT_LEN];
        for (m, chunk) in mins.iter_mut().zip(bytes.chunks(8)) {
            *m = u64::from_be_bytes([
                chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
            ]);
        }
        Some(Self(mins))
    }
}

/// Fixed, public seeds: the terms themselves are already keyed.
const SEEDS: [u64; FINGERPRINT_LEN] = [
    0x9e37_79b9_7f4a_7c15,
    0xbf58_476d_1ce4_e5b9,
    0x94d0_49bb_1331_11eb,
    0x2545_f491_4f6c_dd1d,
    0x632b_e59b_d9b4_e019,
    0x8515_7af5_4f1f_cd3b,
    0xd6e8_feb8_6659_fd93,
    0xa076_1d64_78bd_642f,
    0xe703_7ed1_a0b4_28db,
    0x8ebc_6af0_9c88_c6e3,
    0x5899_65cc_7537_4cc3,
    0x1d8e_4e27_c47d_124f,
    0xc2b2_ae3d_27d4_eb4f,
    0x1656_67b1_9e37_79f9,
    0x27d4_eb2f_1656_67c5,
    0xff51_afd7_ed55_8ccd,
];

/// SplitMix64 finaliser: a fast, well-spread permutation of 64-bit values.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hindi_words_stay_whole_and_fold_spellings() {
        assert_eq!(
            words("पुलिस को गांजे की तस्करी, स्कूल क्षेत्र"),
            ["पुलिस", "को", "गांजे", "की", "तस्करी", "स्कूल", "क्षेत्र"]
        );
        assert_eq!(words("गाँजा"), words("गांजा"));
        assert_eq!(words("ज़िला"), words("जिला"));
        assert_eq!(words("Ganja GANJA ganja १२"), ["ganja", "12"]);
        assert!(!words("पुलिस").contains(&"पाल".to_owned()));
    }

    #[test]
    fn fingerprints_estimate_word_overlap() {
        let keys = crate::crypto::MasterKey::from_hex(&"33".repeat(32))
            .unwrap()
            .derive();
        let fp = |t: &str| Fingerprint::of(&terms(&keys, t)).unwrap();
        let a = fp("दीपका बाजार के पीछे रोज शाम गांजा बिकता है, दो लड़के बेचते हैं, पुलिस कुछ नहीं करती");
        let same = fp("दीपका बाजार के पीछे रोज शाम गांजा बिकता है, दो लड़के बेचते हैं, पुलिस कुछ नहीं करती!!");
        let near = fp("दीपका बाजार के पीछे रोज शाम गांजा बिकता है, तीन लड़के बेचते हैं, पुलिस कुछ नहीं करती");
        let other = fp("korba me online fraud hua, 20000 rupaye kat gaye, link pe click kiya tha");
        assert_eq!(a.similarity(&same), 1.0);
        assert!(a.similarity(&near) >= 0.6, "{}", a.similarity(&near));
        assert!(a.similarity(&other) <= 0.2, "{}", a.similarity(&other));
        assert!(a.bands().iter().any(|b| near.bands().contains(b)));
        assert_eq!(Fingerprint::from_bytes(&a.to_bytes()), Some(a));
        assert!(Fingerprint::of(&[]).is_none());
    }
}
