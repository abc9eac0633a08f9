//! Phrase lookup over tokenised text: lexicon terms, cue words and place names, each compiled once
//! into a table keyed by its first word. Owns how tolerant a match is (exact, stem, fuzzy); knows
//! nothing about what a match means.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::normalize::{Script, Token, bare, bounded_distance, place_tolerance, tokenize};

/// How loosely the words of a phrase may match the words of a tip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tolerance {
    /// Same key, or a `*` entry matching as a prefix.
    Cue,
    /// Same key, the key plus a Hindi/Chhattisgarhi inflection ending, or one edit for long words.
    Term,
    /// Same key, or a few edits by name length (misspelled place names).
    Place,
}

/// One word of a compiled phrase.
#[derive(Clone, Debug)]
enum Pat {
    Exact(String),
    Prefix(String),
}

/// A match of one phrase in a tip.
#[derive(Clone, Copy, Debug)]
pub struct Hit<'a, T> {
    /// Index of the first token.
    pub start: usize,
    /// Number of tokens.
    pub len: usize,
    /// What the phrase stands for.
    pub value: &'a T,
    /// Every word matched its key exactly (no inflection, prefix or edit).
    pub exact: bool,
}

/// One phrase: its words, its value, whether it must match exactly, and each word's
/// [`Token::fine`] (for the aspiration check).
#[derive(Clone, Debug)]
struct Entry<T> {
    pats: Vec<Pat>,
    value: T,
    strict: bool,
    fines: Vec<Option<String>>,
}

/// A compiled set of phrases, each carrying a value.
#[derive(Clone, Debug)]
pub struct PhraseSet<T> {
    tolerance: Tolerance,
    entries: Vec<Entry<T>>,
    by_first: HashMap<String, Vec<usize>, BuildHasherDefault<KeyHasher>>,
    /// Entries whose first word may match loosely, by the first byte of that word.
    loose_first: Vec<Vec<Loose>>,
}

/// An entry whose first word may match loosely: a prefix, or a word a few edits away.
#[derive(Clone, Copy, Debug)]
struct Loose {
    idx: usize,
    /// Length of the first word's key.
    len: usize,
    prefix: bool,
}

impl Loose {
    /// Whether a word with a key of `len` bytes could match at all: a prefix needs as many, an
    /// edit-tolerant word at most [`MAX_EDITS`] more or fewer.
    fn fits(&self, len: usize) -> bool {
        if self.prefix {
            len >= self.len
        } else {
            len.abs_diff(self.len) <= MAX_EDITS
        }
    }
}

/// The most edits any tolerance allows (see [`place_tolerance`]; a term allows one).
const MAX_EDITS: usize = 2;

/// An unkeyed multiply-rotate hash for the phrase tables. The tables are built from the
/// administrator's files and never grow from tip text; a lookup cannot degrade a fixed table, so
/// the keyed (and several times slower) default hash buys nothing here.
#[derive(Clone, Copy, Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Endings that inflect a stem without changing what it names (romanised and folded):
/// बेच → बेचता/बेचथे/बेचत, चोर → चोरी, गांजा → गांजे.
const ENDINGS: &[&str] = &[
    "a", "e", "i", "o", "u", "n", "an", "en", "on", "in", "ya", "yi", "ye", "ta", "ti", "te", "t",
    "tas", "ne", "na", "ni", "kar", "ke", "ga", "gi", "ge", "ega", "egi", "enge", "is", "es", "se",
    "iya", "iye", "yan", "on", "va", "vi", "ve", "ai", "ain",
];

/// A Devanagari word must agree on aspiration with the phrase word it matches (खाता is not कट्टा
/// or "katta"), though their keys fold it away: their
/// consonants, aspiration marked, agree as far as the shorter word goes, leaving out each word's
/// last consonant, which may belong to an ending (so inflections still meet: बेचता and बेचथे).
fn aspiration_agrees<K: Borrow<Token>>(fines: &[Option<String>], tokens: &[K]) -> bool {
    fines
        .iter()
        .zip(tokens)
        .all(|(f, t)| match (f, &t.borrow().fine) {
            (Some(f), Some(fine)) if t.borrow().script == Script::Deva => {
                let n = consonants(f)
                    .count()
                    .min(consonants(fine).count())
                    .saturating_sub(1);
                consonants(f).take(n).eq(consonants(fine).take(n))
            }
            _ => true,
        })
}

/// The consonants of an aspiration-kept key, each with whether an `h` follows it.
fn consonants(fine: &str) -> impl Iterator<Item = (u8, bool)> + '_ {
    let b = fine.as_bytes();
    let vowel = |c: u8| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u');
    b.iter().enumerate().filter_map(move |(i, &c)| {
        let after_consonant = i > 0 && !vowel(b[i - 1]) && b[i - 1] != b'h';
        if vowel(c) || (c == b'h' && after_consonant) {
            None
        } else {
            Some((c, b.get(i + 1) == Some(&b'h')))
        }
    })
}

impl<T> PhraseSet<T> {
    /// An empty set with the given tolerance.
    pub fn new(tolerance: Tolerance) -> Self {
        Self {
            tolerance,
            entries: Vec::new(),
            by_first: HashMap::default(),
            loose_first: vec![Vec::new(); 256],
        }
    }

    /// Adds a phrase; returns false (and adds nothing) when it has no words.
    pub fn insert(&mut self, phrase: &str, value: T) -> bool {
        self.insert_with(phrase, value, false)
    }

    /// Adds a phrase that must match exactly, whatever the set's tolerance (weak or ambiguous
    /// terms: "mand" must not match "mandi").
    pub fn insert_with(&mut self, phrase: &str, value: T, strict: bool) -> bool {
        let place = self.tolerance == Tolerance::Place;
        let (pats, fines): (Vec<Pat>, Vec<Option<String>>) = phrase
            .split_whitespace()
            .flat_map(|w| {
                let prefix = w.ends_with('*');
                tokenize(w.trim_end_matches('*')).into_iter().map(move |t| {
                    let k = if place { bare(&t.key) } else { t.key };
                    let pat = if prefix {
                        Pat::Prefix(k)
                    } else {
                        Pat::Exact(k)
                    };
                    (pat, t.fine)
                })
            })
            .unzip();
        let Some(first) = pats.first() else {
            return false;
        };
        let idx = self.entries.len();
        if let (Tolerance::Term, Pat::Exact(k), false) = (self.tolerance, first, strict)
            && let Some(stem) = stem(k).filter(|s| s != k)
        {
            self.by_first.entry(stem.to_owned()).or_default().push(idx);
        }
        match first {
            Pat::Exact(k) if strict || !self.is_loose(k) => {
                self.by_first.entry(k.clone()).or_default().push(idx)
            }
            Pat::Exact(k) => {
                self.by_first.entry(k.clone()).or_default().push(idx);
                self.loose_first[first_byte(k)].push(Loose {
                    idx,
                    len: k.len(),
                    prefix: false,
                });
            }
            Pat::Prefix(k) => self.loose_first[first_byte(k)].push(Loose {
                idx,
                len: k.len(),
                prefix: true,
            }),
        }
        self.entries.push(Entry {
            pats,
            value,
            strict,
            fines,
        });
        true
    }

    /// Number of phrases.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set has no phrases.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn is_loose(&self, first_key: &str) -> bool {
        match self.tolerance {
            Tolerance::Cue => false,
            Tolerance::Term => first_key.len() >= 7,
            Tolerance::Place => place_tolerance(first_key.len()) > 0,
        }
    }

    fn key<'t>(&self, t: &'t Token) -> &'t str {
        if self.tolerance == Tolerance::Place {
            &t.bare
        } else {
            &t.key
        }
    }

    /// Every phrase that matches at every position (overlaps included), in text order.
    pub fn find_all<'a, K: Borrow<Token>>(&'a self, tokens: &[K]) -> Vec<Hit<'a, T>> {
        let mut hits = Vec::new();
        self.scan(tokens, |h| {
            hits.push(h);
            true
        });
        hits
    }

    /// Whether any phrase matches anywhere in `tokens`.
    pub fn any<K: Borrow<Token>>(&self, tokens: &[K]) -> bool {
        let mut found = false;
        self.scan(tokens, |_| {
            found = true;
            false
        });
        found
    }

    /// Calls `each` for every hit in text order until it returns false.
    fn scan<'a, K: Borrow<Token>>(
        &'a self,
        tokens: &[K],
        mut each: impl FnMut(Hit<'a, T>) -> bool,
    ) {
        let mut cands: Vec<usize> = Vec::new();
        for start in 0..tokens.len() {
            cands.clear();
            self.candidates(self.key(tokens[start].borrow()), &mut cands);
            for &idx in &cands {
                let Entry {
                    pats,
                    value,
                    strict,
                    fines,
                } = &self.entries[idx];
                if self.matches_at(pats, &tokens[start..], *strict)
                    && (self.tolerance == Tolerance::Place
                        || aspiration_agrees(fines, &tokens[start..]))
                {
                    let exact = pats
                        .iter()
                        .zip(&tokens[start..])
                        .all(|(p, t)| matches!(p, Pat::Exact(k) if k == self.key(t.borrow())));
                    if !each(Hit {
                        start,
                        len: pats.len(),
                        value,
                        exact,
                    }) {
                        return;
                    }
                }
            }
        }
    }

    fn candidates(&self, key: &str, out: &mut Vec<usize>) {
        if let Some(v) = self.by_first.get(key) {
            out.extend(v);
        }
        if self.tolerance == Tolerance::Term {
            for end in ENDINGS {
                if let Some(stem) = key.strip_suffix(end)
                    && stem.len() >= 3
                    && let Some(v) = self.by_first.get(stem)
                {
                    out.extend(v);
                }
            }
        }
        let before = out.len();
        out.extend(
            self.loose_first[first_byte(key)]
                .iter()
                .filter(|l| l.fits(key.len()))
                .map(|l| l.idx),
        );
        if out.len() > before || before > 1 {
            out.sort_unstable();
            out.dedup();
        }
    }

    fn matches_at<K: Borrow<Token>>(&self, pats: &[Pat], tokens: &[K], strict: bool) -> bool {
        pats.len() <= tokens.len()
            && pats
                .iter()
                .zip(tokens)
                .enumerate()
                .all(|(i, (p, t))| match p {
                    Pat::Exact(k) if strict => k == self.key(t.borrow()),
                    _ => self.word_matches(p, self.key(t.borrow()), i > 0),
                })
    }

    /// `anchored`: an earlier word of the phrase already matched, so a looser match is safe.
    fn word_matches(&self, pat: &Pat, key: &str, anchored: bool) -> bool {
        match pat {
            Pat::Prefix(p) => key.starts_with(p.as_str()),
            Pat::Exact(k) if k == key => true,
            Pat::Exact(k) => match self.tolerance {
                Tolerance::Cue => false,
                Tolerance::Term => {
                    inflects(key, k)
                        || stem(k).is_some_and(|s| inflects(key, s))
                        || (k.len() >= if anchored { 5 } else { 7 }
                            && bounded_distance(k, key, 1).is_some())
                }
                Tolerance::Place => {
                    // Both sides are bare keys (no `h`): see `normalize::bare`.
                    let tol = place_tolerance(k.len().min(key.len()));
                    tol > 0 && bounded_distance(k, key, tol).is_some()
                }
            },
        }
    }
}

/// A stem and one of [`ENDINGS`]: `key` inflects `base`.
fn inflects(key: &str, base: &str) -> bool {
    key.strip_prefix(base)
        .is_some_and(|rest| base.len() >= 4 && ENDINGS.contains(&rest))
}

/// The bucket of a key in [`PhraseSet::loose_first`].
fn first_byte(key: &str) -> usize {
    usize::from(key.as_bytes().first().copied().unwrap_or(0))
}

/// A term key without its final vowel (गांजा/ganja → ganj), for words of five letters or more:
/// shorter stems are too easy to hit (daru/dare, kada/khade).
fn stem(key: &str) -> Option<&str> {
    let last = key.chars().last()?;
    (key.len() >= 5 && matches!(last, 'a' | 'e' | 'i' | 'o' | 'u')).then(|| &key[..key.len() - 1])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::normalize::tokenize;
    use super::*;

    fn hits(set: &PhraseSet<u8>, text: &str) -> Vec<u8> {
        set.find_all(&tokenize(text))
            .iter()
            .map(|h| *h.value)
            .collect()
    }

    #[test]
    fn terms_match_inflections_and_other_script() {
        let mut set = PhraseSet::new(Tolerance::Term);
        set.insert("बेचता", 1);
        set.insert("ganja", 2);
        set.insert_with("mand", 5, true);
        set.insert("jua fad", 3);
        set.insert("brown sugar", 4);
        assert_eq!(hits(&set, "टूरा गांजा बेचथे"), [2, 1]);
        assert_eq!(hits(&set, "ganje ki pudiya"), [2]);
        assert_eq!(hits(&set, "JUAA FAD chal raha"), [3]);
        assert!(hits(&set, "jua khelte").is_empty());
        assert_eq!(hits(&set, "brown sugr bik rha"), [4]);
        assert!(hits(&set, "bechara").is_empty());
        assert!(hits(&set, "mandi me").is_empty());
        assert_eq!(hits(&set, "mand bechthe"), [5, 1]);
        // Devanagari spells aspiration: खाता (account) is not कट्टा (a pistol), though romanised
        // keys fold them together.
        let mut set = PhraseSet::new(Tolerance::Term);
        set.insert("कट्टा", 1);
        set.insert("katta", 1);
        set.insert("sharab", 2);
        assert!(hits(&set, "मोर खाता ले पइसा कटगे").is_empty());
        assert_eq!(hits(&set, "शराब पी के"), [2]);
        assert_eq!(hits(&set, "घर म कट्टा रखे हे"), [1, 1]);
    }

    #[test]
    fn cues_match_prefixes_only_when_asked() {
        let mut set = PhraseSet::new(Tolerance::Cue);
        set.insert("maang*", 1);
        set.insert("paisa le*", 2);
        assert_eq!(hits(&set, "10000 maanga"), [1]);
        assert_eq!(hits(&set, "paisa lete hai"), [2]);
        assert!(hits(&set, "paisa diya").is_empty());
    }

    #[test]
    fn places_tolerate_misspelling_by_length() {
        assert!(place_tolerance(usize::MAX) <= MAX_EDITS);
        let mut set = PhraseSet::new(Tolerance::Place);
        set.insert("Kusmunda", 1);
        set.insert("Sakari", 8);
        assert!(hits(&set, "shikari gaon me").is_empty());
        set.insert("Urga", 2);
        set.insert("Jatga", 5);
        set.insert("Pathariya", 3);
        assert_eq!(hits(&set, "kushmunda colony"), [1]);
        assert_eq!(hits(&set, "kusmnda me"), [1]);
        assert!(hits(&set, "urgi").is_empty());
        assert!(hits(&set, "kisi jagah pe").is_empty());
        set.insert("Pusaur", 6);
        set.insert("Patharia", 7);
        assert!(hits(&set, "patthar khadan").is_empty());
        assert_eq!(hits(&set, "पथरिया"), [3]);
        assert_eq!(hits(&set, "पुसोर थाना"), [6]);
        assert_eq!(hits(&set, "Patharia ke paas"), [3, 7]);
        assert!(hits(&set, "pandariya border").is_empty());
        set.insert("Tarbahar", 4);
        assert_eq!(hits(&set, "Tarbhar railway crossing"), [4]);
    }
}
