//! Text normalisation for matching: Unicode NFC, Devanagari digits, nukta and chandrabindu
//! folding, zero-width joiners, word segmentation, and one shared matching key for both scripts.
//!
//! Every word, Devanagari or Latin, becomes a *key*: Devanagari is romanised (with the usual
//! schwa deletion), then Latin spelling variation is folded the way lexicon.toml `[matching]`
//! describes (doubled letters, v/w, ph/f, z/j, sh/s, aspiration). So गांजा, "gaanja" and "ganja"
//! share the key `ganja`, and पामगढ़ and "Pamgarh" meet as well. This module owns only text
//! shaping; it knows nothing of categories or places and never allocates more than one pass needs.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick, is_nfd_quick};
use unicode_segmentation::UnicodeSegmentation;

/// The script a word was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Script {
    /// Devanagari.
    Deva,
    /// Latin letters.
    Latn,
    /// Digits, symbols or anything else.
    Other,
}

/// One word of a tip, with its matching key.
#[derive(Clone, Debug)]
pub struct Token {
    /// The word after NFC and Devanagari folding (for display as evidence).
    pub text: String,
    /// The shared matching key (see the module docs).
    pub key: String,
    /// The key without `h` and with doubled letters collapsed, for place names (see [`bare`]).
    pub bare: String,
    /// The key with aspiration kept (खाता `khata`, कट्टा `kata`; none for digits): Devanagari
    /// spells aspiration reliably, so a Devanagari word must agree on it with what it matches.
    pub fine: Option<String>,
    /// The script of the word.
    pub script: Script,
    /// Index of the sentence (split at `.`, `!`, `?`, `।`, newline) the word belongs to.
    pub sentence: u16,
}

/// `text` in NFC, borrowed when the quick check says it already is (ASCII and most Hindi).
pub fn nfc(text: &str) -> Cow<'_, str> {
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        _ => Cow::Owned(text.nfc().collect()),
    }
}

/// `text` in NFD, borrowed when the quick check says it already is.
pub fn nfd(text: &str) -> Cow<'_, str> {
    match is_nfd_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        _ => Cow::Owned(text.nfd().collect()),
    }
}

/// NFC, Devanagari digits to ASCII, nukta dropped, chandrabindu to anusvara, ZWJ/ZWNJ dropped.
pub fn normalize(text: &str) -> String {
    nfc(text)
        .chars()
        .filter_map(|c| match c {
            '\u{200C}' | '\u{200D}' | '\u{093C}' => None,
            '\u{0901}' => Some('\u{0902}'),
            '\u{0966}'..='\u{096F}' => char::from_u32(c as u32 - 0x0966 + u32::from(b'0')),
            // Precomposed nukta letters (क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़) fold to their base letter.
            '\u{0958}'..='\u{095F}' => Some(NUKTA_BASE[(c as u32 - 0x0958) as usize]),
            _ => Some(c),
        })
        .collect()
}

const NUKTA_BASE: [char; 8] = ['क', 'ख', 'ग', 'ज', 'ड', 'ढ', 'फ', 'य'];

/// Splits normalised text into words (UAX #29, which keeps Devanagari words whole) with keys.
pub fn tokenize(text: &str) -> Vec<Token> {
    let norm = normalize(text);
    let mut tokens = Vec::new();
    let mut sentence: u16 = 0;
    for (_, piece) in norm.split_word_bound_indices() {
        if piece
            .chars()
            .any(|c| matches!(c, '.' | '!' | '?' | '।' | '\n' | '|'))
        {
            sentence = sentence.saturating_add(1);
            continue;
        }
        if !piece.chars().any(char::is_alphanumeric) {
            continue;
        }
        let script = script_of(piece);
        // An English possessive keys as its noun ("the thana's staff", "Raigarh's").
        let word = ["'s", "’s", "'S", "’S"]
            .iter()
            .find_map(|s| piece.strip_suffix(s))
            .filter(|w| script == Script::Latn && !w.is_empty())
            .unwrap_or(piece);
        let (key, fine) = keys_of(word, script);
        if key.is_empty() {
            continue;
        }
        tokens.push(Token {
            text: piece.to_owned(),
            bare: bare(&key),
            fine,
            key,
            script,
            sentence,
        });
    }
    tokens
}

/// The matching key of a single (already normalised) word.
pub fn word_key(word: &str) -> String {
    keys_of(word, script_of(word)).0
}

/// A key without `h`, doubled letters collapsed: aspiration is the least stable letter in romanised
/// names (Tarbahar/Tarbhar), so place names are compared in this form.
pub fn bare(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for c in key.chars().filter(|&c| c != 'h') {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// Keys of every word in a phrase (a lexicon term or a place name).
pub fn phrase_keys(phrase: &str) -> Vec<String> {
    tokenize(phrase).into_iter().map(|t| t.key).collect()
}

fn script_of(word: &str) -> Script {
    if word.chars().any(|c| ('\u{0900}'..='\u{097F}').contains(&c)) {
        Script::Deva
    } else if word.chars().any(|c| c.is_ascii_alphabetic()) {
        Script::Latn
    } else {
        Script::Other
    }
}

/// A word's matching key and its aspiration-kept key ([`Token::fine`]; none for digits),
/// romanising a Devanagari word once for both.
fn keys_of(word: &str, script: Script) -> (String, Option<String>) {
    match script {
        Script::Deva => {
            let roman = romanize(word);
            (fold_latin(&roman), Some(fold(&roman, true)))
        }
        Script::Latn => (fold_latin(word), Some(fold(word, true))),
        Script::Other => (word.chars().filter(char::is_ascii_digit).collect(), None),
    }
}

/// Folds romanised Hindi spelling: lower case, ph→f, rh→d, au/ow→o before a consonant, sh→s, w→v, z→j, q→k, ck→k, aspiration `h`
/// after a consonant dropped, ee→i, oo→u, then every doubled letter collapsed.
pub fn fold_latin(word: &str) -> String {
    fold(word, false)
}

/// [`fold_latin`], optionally keeping aspiration (for [`Token::fine`]).
fn fold(word: &str, keep_aspiration: bool) -> String {
    let lower: Vec<char> = word
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let mut out: Vec<char> = Vec::with_capacity(lower.len());
    let mut i = 0;
    while i < lower.len() {
        let c = lower[i];
        let next = lower.get(i + 1).copied();
        let mapped = match (c, next) {
            ('p', Some('h')) => {
                i += 1;
                'f'
            }
            ('e', Some('e')) => {
                i += 1;
                'i'
            }
            ('o', Some('o')) => {
                i += 1;
                'u'
            }
            // au/o and ow/o are spelled either way (Pusaur/Pusore, chauki/chowki).
            ('a', Some('u')) | ('o', Some('w'))
                if lower
                    .get(i + 2)
                    .is_some_and(|c| c.is_ascii_alphabetic() && !"aeiou".contains(*c)) =>
            {
                i += 1;
                'o'
            }
            ('c', Some('k')) => {
                i += 1;
                'k'
            }
            ('r', Some('h')) => {
                // Romanised ढ़/ड़ ("garh", "gadh") meets the nukta-folded Devanagari `d`.
                i += 1;
                'd'
            }
            ('w', _) => 'v',
            ('z', _) => 'j',
            ('q', _) => 'k',
            // `sh` is श/स, not an aspirate: its `h` goes even when aspiration is kept.
            ('h', _)
                if out.last().is_some_and(|p| is_consonant(*p))
                    && (!keep_aspiration || out.last() == Some(&'s')) =>
            {
                i += 1;
                continue;
            }
            _ => c,
        };
        if out.last() != Some(&mapped) {
            out.push(mapped);
        }
        i += 1;
    }
    out.into_iter().collect()
}

fn is_consonant(c: char) -> bool {
    c.is_ascii_alphabetic() && !matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'h')
}

/// A Devanagari syllable while romanising: consonant cluster, vowel, and whether the vowel is the
/// inherent `a` (a candidate for schwa deletion).
struct Syllable {
    onset: Cow<'static, str>,
    vowel: &'static str,
    inherent: bool,
    coda: Cow<'static, str>,
}

/// Romanises a Devanagari word (Hunterian-like), deleting the final schwa and a medial schwa
/// between two full syllables (कमला → kamla, तारबाहर → tarbahar).
pub fn romanize(word: &str) -> String {
    let mut syl: Vec<Syllable> = Vec::new();
    let mut pending_virama = false;
    for c in word.chars() {
        if let Some(cons) = consonant(c) {
            if pending_virama && let Some(last) = syl.last_mut() {
                last.onset.to_mut().push_str(cons);
                pending_virama = false;
                continue;
            }
            syl.push(Syllable {
                onset: Cow::Borrowed(cons),
                vowel: "a",
                inherent: true,
                coda: Cow::Borrowed(""),
            });
        } else if let Some(v) = matra(c) {
            if let Some(last) = syl.last_mut() {
                last.vowel = v;
                last.inherent = false;
            }
        } else if let Some(v) = independent_vowel(c) {
            syl.push(Syllable {
                onset: Cow::Borrowed(""),
                vowel: v,
                inherent: false,
                coda: Cow::Borrowed(""),
            });
        } else if c == '\u{094D}' {
            if let Some(last) = syl.last_mut() {
                last.vowel = "";
                last.inherent = false;
            }
            pending_virama = true;
        } else if c == '\u{0902}' || c == '\u{0903}' {
            if let Some(last) = syl.last_mut() {
                last.coda
                    .to_mut()
                    .push(if c == '\u{0902}' { 'n' } else { 'h' });
                last.inherent = false;
            }
        } else if c.is_ascii_alphanumeric() {
            syl.push(Syllable {
                onset: Cow::Owned(c.to_string()),
                vowel: "",
                inherent: false,
                coda: Cow::Borrowed(""),
            });
        }
    }
    delete_schwas(&mut syl);
    let mut out = String::with_capacity(word.len());
    for s in &syl {
        out.push_str(&s.onset);
        out.push_str(s.vowel);
        out.push_str(&s.coda);
    }
    out
}

fn delete_schwas(syl: &mut [Syllable]) {
    let n = syl.len();
    if n > 1 && syl[n - 1].inherent {
        syl[n - 1].vowel = "";
    }
    for i in 1..n.saturating_sub(1) {
        let prev_full = !syl[i - 1].vowel.is_empty();
        let next_full = !syl[i + 1].vowel.is_empty() && !syl[i + 1].onset.is_empty();
        if syl[i].inherent && prev_full && next_full {
            syl[i].vowel = "";
        }
    }
}

fn consonant(c: char) -> Option<&'static str> {
    Some(match c {
        'क' => "k",
        'ख' => "kh",
        'ग' => "g",
        'घ' => "gh",
        'ङ' | 'ञ' | 'ण' | 'न' => "n",
        'च' => "ch",
        'छ' => "chh",
        'ज' => "j",
        'झ' => "jh",
        'ट' | 'त' => "t",
        'ठ' | 'थ' => "th",
        'ड' | 'द' => "d",
        'ढ' | 'ध' => "dh",
        'प' => "p",
        'फ' => "ph",
        'ब' => "b",
        'भ' => "bh",
        'म' => "m",
        'य' => "y",
        'र' => "r",
        'ल' | 'ळ' => "l",
        'व' => "v",
        'श' | 'ष' | 'स' => "s",
        'ह' => "h",
        _ => return None,
    })
}

fn matra(c: char) -> Option<&'static str> {
    Some(match c {
        'ा' => "aa",
        'ि' => "i",
        'ी' => "ii",
        'ु' => "u",
        'ू' => "uu",
        'ृ' => "ri",
        'े' | 'ॅ' => "e",
        'ै' => "ai",
        'ो' | 'ॉ' => "o",
        'ौ' => "au",
        _ => return None,
    })
}

fn independent_vowel(c: char) -> Option<&'static str> {
    Some(match c {
        'अ' => "a",
        'आ' => "aa",
        'इ' => "i",
        'ई' => "ii",
        'उ' => "u",
        'ऊ' => "uu",
        'ऋ' => "ri",
        'ए' | 'ऍ' => "e",
        'ऐ' => "ai",
        'ओ' | 'ऑ' => "o",
        'औ' => "au",
        _ => return None,
    })
}

/// Levenshtein distance if it is at most `max`, else `None`. Bounded: rows stop early once every
/// cell exceeds `max`, and words whose lengths differ by more than `max` are refused at once.
/// Works on bytes (keys are ASCII); words longer than 63 bytes are compared exactly.
pub fn bounded_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    if b.len() >= 64 || a.len() >= 64 {
        return (a == b).then_some(0);
    }
    let mut prev = [0usize; 64];
    let mut cur = [0usize; 64];
    for (j, p) in prev.iter_mut().enumerate().take(b.len() + 1) {
        *p = j;
    }
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

/// How many edits a place name of this key length tolerates: none up to 6 letters, one up to 10,
/// two beyond. Short names are too easy to hit by chance (करता/Karma, jagah/Jatga, shikari/Sakari).
pub fn place_tolerance(key_len: usize) -> usize {
    match key_len {
        0..=6 => 0,
        7..=10 => 1,
        _ => 2,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn folds_devanagari_marks_digits_and_joiners() {
        assert_eq!(normalize("गाँजा"), "गांजा");
        assert_eq!(normalize("ज़िला"), "जिला");
        assert_eq!(normalize("ड़"), "ड");
        assert_eq!(normalize("१२३ रु"), "123 रु");
        assert_eq!(normalize("क्\u{200D}ष"), "क्ष");
    }

    #[test]
    fn latin_spellings_share_a_key() {
        for w in ["gaanja", "ganja", "ganjaa", "GANJA"] {
            assert_eq!(word_key(w), "ganja", "{w}");
        }
        assert_eq!(word_key("kushmunda"), word_key("Kusmunda"));
        assert_eq!(word_key("daroo"), word_key("daru"));
        assert_eq!(word_key("mahuwa"), word_key("mahuva"));
        assert_eq!(word_key("phastarpur"), word_key("Fastarpur"));
        assert_eq!(word_key("पुसोर"), word_key("Pusaur"));
        assert_eq!(word_key("chowki"), word_key("chauki"));
        assert_ne!(word_key("satta"), word_key("sat"));
    }

    #[test]
    fn devanagari_meets_latin() {
        assert_eq!(word_key("गांजा"), word_key("ganja"));
        assert_eq!(word_key("तारबाहर"), word_key("Tarbahar"));
        assert_eq!(word_key("मस्तूरी"), word_key("Masturi"));
        assert_eq!(word_key("कुसमुंडा"), word_key("Kusmunda"));
        assert_eq!(word_key("बांकीमोंगरा"), word_key("Bankimongra"));
        assert_eq!(word_key("सट्टा"), word_key("satta"));
        assert_eq!(word_key("पामगढ़"), word_key("Pamgarh"));
        assert_eq!(word_key("रायगढ़"), word_key("Raygarh"));
        assert_ne!(word_key("गाय"), word_key("गई"));
    }

    #[test]
    fn segmentation_keeps_devanagari_words_whole() {
        let t = tokenize("पुलिस को गांजे की तस्करी, स्कूल क्षेत्र। ganja 2026");
        let words: Vec<_> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            words,
            [
                "पुलिस",
                "को",
                "गांजे",
                "की",
                "तस्करी",
                "स्कूल",
                "क्षेत्र",
                "ganja",
                "2026"
            ]
        );
        assert_eq!(t[0].sentence, t[6].sentence);
        assert!(t[7].sentence > t[6].sentence);
    }

    #[test]
    fn bounded_distance_refuses_far_words() {
        assert_eq!(bounded_distance("pathariya", "patharia", 1), Some(1));
        assert_eq!(bounded_distance("kusmunda", "kusmunda", 0), Some(0));
        assert_eq!(bounded_distance("pandariya", "patariya", 1), None);
        assert_eq!(bounded_distance("a", "abcdef", 2), None);
        assert_eq!(place_tolerance(6), 0);
        assert_eq!(place_tolerance(7), 1);
    }
}
