//! The blind index: words of a text, normalised the same way for storing and for searching, then
//! turned into keyed terms (see `crypto::Keys::search_term`). No plaintext word is stored.
//! Exact words only: no prefixes, so the index leaks as little as it can.

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use crate::crypto::Keys;

/// At most this many distinct words of one text are indexed.
pub const MAX_TERMS: usize = 256;

/// Normalises one word: NFC, lower case, Devanagari digits to ASCII, nukta dropped, chandrabindu
/// as anusvara, joiners dropped. `गाँजा`, `गांजा` and `ग़ांजा` give the same word.
pub fn normalize_word(word: &str) -> String {
    word.nfc()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            '\u{093C}' | '\u{200C}' | '\u{200D}' => None,
            '\u{0901}' => Some('\u{0902}'),
            '\u{0966}'..='\u{096F}' => char::from_u32(u32::from(c) - 0x0966 + u32::from('0')),
            _ => Some(c),
        })
        .collect::<String>()
        .nfc()
        .collect()
}

/// The distinct normalised words of a text (Unicode word boundaries keep Devanagari words whole).
pub fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Decompose nukta letters first so that dropping the nukta leaves the base letter.
    let decomposed: String = text.nfd().collect();
    for w in decomposed.unicode_words() {
        let n = normalize_word(w);
        if !n.is_empty() && !out.contains(&n) {
            out.push(n);
            if out.len() == MAX_TERMS {
                break;
            }
        }
    }
    out
}

/// The blind-index terms of a text.
pub fn terms(keys: &Keys, text: &str) -> Vec<[u8; 16]> {
    words(text).iter().map(|w| keys.search_term(w)).collect()
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
}
