//! Language of a tip (`hi`, `hne`, `hi-Latn`, `en`, `mixed`) from its scripts, English and
//! romanised-Hindi function words and Chhattisgarhi markers. Owns only that label.

use super::cues::Cues;
use super::normalize::{Script, Token};

/// The language labels of data/README.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Language {
    /// Hindi in Devanagari.
    #[serde(rename = "hi")]
    Hindi,
    /// Chhattisgarhi, either script.
    #[serde(rename = "hne")]
    Chhattisgarhi,
    /// Romanised Hindi.
    #[serde(rename = "hi-Latn")]
    HindiLatin,
    /// English.
    #[serde(rename = "en")]
    English,
    /// Clauses in two languages, or two scripts.
    #[serde(rename = "mixed")]
    Mixed,
}

impl Language {
    /// The label as data/README.md spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hindi => "hi",
            Self::Chhattisgarhi => "hne",
            Self::HindiLatin => "hi-Latn",
            Self::English => "en",
            Self::Mixed => "mixed",
        }
    }
}

fn distinct_hits(set: &super::cues::CueSet, tokens: &[&Token]) -> usize {
    let mut words: Vec<&str> = set
        .find_all(tokens)
        .iter()
        .map(|h| tokens[h.start].key.as_str())
        .collect();
    words.sort_unstable();
    words.dedup();
    words.len()
}

/// Decides the language label.
pub fn detect(tokens: &[Token], cues: &Cues) -> Language {
    let in_script =
        |script: Script| -> Vec<&Token> { tokens.iter().filter(|t| t.script == script).collect() };
    let (deva_tokens, latin) = (in_script(Script::Deva), in_script(Script::Latn));
    let deva = deva_tokens.len();
    let hne = distinct_hits(&cues.chhattisgarhi, &deva_tokens)
        + distinct_hits(&cues.chhattisgarhi_latin, &latin)
        >= 2;
    if deva > 0 && latin.len() >= 2 {
        return Language::Mixed;
    }
    if deva > 0 && latin.is_empty() {
        return if hne {
            Language::Chhattisgarhi
        } else {
            Language::Hindi
        };
    }
    let english = cues.english.find_all(&latin).len();
    let hindi = cues.hinglish.find_all(&latin).len();
    let n = latin.len().max(1);
    let clauses_en = english >= 3 && english * 10 >= n;
    let clauses_hi = hindi >= 3 && hindi * 8 >= n;
    match (clauses_en, clauses_hi) {
        (true, true) => Language::Mixed,
        _ if hne => Language::Chhattisgarhi,
        (true, false) => Language::English,
        (false, true) => Language::HindiLatin,
        (false, false) if hindi > english => Language::HindiLatin,
        (false, false) if english > 0 => Language::English,
        _ => Language::HindiLatin,
    }
}
