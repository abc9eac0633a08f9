//! The tip-category lexicon (`data/lexicon.toml`): category ids with their Hindi and English labels
//! and the terms that signal them. The web form lists the categories from here; triage reads the
//! terms. Loading validates the file; this module does no matching itself.

use std::path::Path;

use serde::Deserialize;

/// The compiled-in lexicon.
pub const BUILTIN_TOML: &str = include_str!("../data/lexicon.toml");

/// Why a lexicon file was refused.
#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    /// The file could not be read.
    #[error("cannot read lexicon file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not TOML of the expected shape.
    #[error("lexicon file is not valid: {0}")]
    Parse(#[from] toml::de::Error),
    /// The file parsed but its content is inconsistent.
    #[error("lexicon file is inconsistent: {0}")]
    Invalid(String),
}

/// One term of the lexicon.
#[derive(Clone, Debug, Deserialize)]
pub struct Term {
    /// The words to match.
    pub term: String,
    /// ISO 15924 script (`Deva` or `Latn`).
    #[serde(default)]
    pub script: String,
    /// Language tag (`hi`, `hne`, `en`, `hi-Latn`, `hne-Latn`).
    #[serde(default)]
    pub lang: String,
    /// 1 weak, 2 normal (default), 3 strong.
    #[serde(default = "default_weight")]
    pub weight: u8,
}

fn default_weight() -> u8 {
    2
}

/// A tip category with its labels and terms.
#[derive(Clone, Debug)]
pub struct Category {
    /// Stable id, e.g. `narcotics`.
    pub id: String,
    /// English label.
    pub label_en: String,
    /// Hindi label.
    pub label_hi: String,
    /// Terms that point to it.
    pub terms: Vec<Term>,
}

/// The loaded lexicon.
#[derive(Clone, Debug)]
pub struct Lexicon {
    /// Categories in file order.
    pub categories: Vec<Category>,
    /// The whole file, for the parts triage reads (urgency, deescalation, cues, ...).
    pub raw: toml::Table,
}

#[derive(Deserialize)]
struct RawCategory {
    label_en: String,
    label_hi: String,
    #[serde(default)]
    terms: Vec<Term>,
}

impl Lexicon {
    /// The compiled-in lexicon.
    pub fn builtin() -> Result<Self, LexiconError> {
        Self::from_toml(BUILTIN_TOML)
    }

    /// Loads and validates a file.
    pub fn load(path: &Path) -> Result<Self, LexiconError> {
        let text = std::fs::read_to_string(path).map_err(|source| LexiconError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Parses and validates TOML text. Categories keep the order of the file.
    pub fn from_toml(text: &str) -> Result<Self, LexiconError> {
        let raw: toml::Table = toml::from_str(text)?;
        let mut categories = Vec::new();
        if let Some(toml::Value::Table(cats)) = raw.get("categories") {
            for (id, value) in cats {
                let c: RawCategory = value.clone().try_into()?;
                if c.terms
                    .iter()
                    .any(|t| t.term.trim().is_empty() || !(1..=3).contains(&t.weight))
                {
                    return Err(LexiconError::Invalid(format!(
                        "category `{id}` has an empty term or a weight outside 1..3"
                    )));
                }
                categories.push(Category {
                    id: id.clone(),
                    label_en: c.label_en,
                    label_hi: c.label_hi,
                    terms: c.terms,
                });
            }
        }
        if categories.is_empty() {
            return Err(LexiconError::Invalid("no [categories.*] tables".into()));
        }
        Ok(Self { categories, raw })
    }

    /// A category by id.
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_lexicon_has_the_range_categories() {
        let lex = Lexicon::builtin().unwrap();
        assert!(lex.categories.len() >= 20);
        let n = lex.category("narcotics").unwrap();
        assert_eq!(n.label_hi, "मादक पदार्थ / नशा");
        assert!(n.terms.iter().any(|t| t.term == "गांजा" && t.weight == 3));
    }

    #[test]
    fn refuses_bad_weight() {
        let bad = "[categories.x]\nlabel_en = \"X\"\nlabel_hi = \"X\"\nterms = [{ term = \"a\", weight = 7 }]\n";
        assert!(matches!(
            Lexicon::from_toml(bad),
            Err(LexiconError::Invalid(_))
        ));
    }
}
