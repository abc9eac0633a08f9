//! People a tip names, found only where the text says it is giving a name ("Mahesh naam ka
//! aadmi", "नाम रमेश", "a man named Suresh"), so that a burst of tips against one person can be
//! noticed (a possible harassment campaign). Conservative on purpose: a missed name costs a
//! missed flag, a wrong one would link unrelated people.

/// Words that follow a name ("X naam ka aadmi").
const AFTER: &[&str] = &["naam", "nam", "नाम"];
/// What comes after `naam` when the name came before it.
const LINKS: &[&str] = &["ka", "ki", "ke", "का", "की", "के"];
/// Words that come before a name ("named X", "naam X").
const BEFORE: &[&str] = &["named", "called", "naam", "nam", "नाम", "naamak", "नामक"];
/// Never a name.
const NOT_NAMES: &[&str] = &[
    "uska",
    "uski",
    "uske",
    "iska",
    "iski",
    "mera",
    "meri",
    "koi",
    "ek",
    "us",
    "is",
    "hai",
    "he",
    "the",
    "a",
    "an",
    "his",
    "her",
    "their",
    "is",
    "was",
    "unka",
    "inka",
    "pata",
    "nahi",
    "nahin",
    "उसका",
    "उसकी",
    "उसके",
    "इसका",
    "मेरा",
    "कोई",
    "एक",
    "है",
    "उनका",
    "पता",
    "नहीं",
    "से",
];

/// The names a text gives, each once, as matching keys that are the same in either script
/// (`Ramesh` and `रमेश` give one key).
///
/// `words` are a text's words from [`crate::search::all_words`], which the blind index reads too.
pub fn named_persons_in(words: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for name in names(words) {
        let key = super::normalize::phrase_keys(&name).join(" ");
        if !key.is_empty() && !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// The names as written (normalised like blind-index words).
fn names(words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |w: &String| {
        let plausible = w.chars().count() >= 3
            && w.chars().all(char::is_alphabetic)
            && !NOT_NAMES.contains(&w.as_str())
            && !AFTER.contains(&w.as_str())
            && !BEFORE.contains(&w.as_str());
        if plausible && !out.contains(w) {
            out.push(w.clone());
        }
    };
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).map(String::as_str);
        // "Mahesh naam ka ...", "रमेश नाम का ..."
        if AFTER.contains(&w.as_str())
            && next.is_some_and(|n| LINKS.contains(&n))
            && let Some(before) = i.checked_sub(1).and_then(|j| words.get(j))
        {
            add(before);
            continue;
        }
        // "named Suresh", "naam Ramesh hai", "नाम रमेश"
        if BEFORE.contains(&w.as_str())
            && let Some(after) = words.get(i + 1)
            && !LINKS.contains(&after.as_str())
        {
            add(after);
        }
        // "name is Suresh", "his name is Suresh"
        if w == "name"
            && next == Some("is")
            && let Some(after) = words.get(i + 2)
        {
            add(after);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::search::all_words;

    fn names_in(text: &str) -> Vec<String> {
        names(&all_words(text))
    }

    fn named_persons(text: &str) -> Vec<String> {
        named_persons_in(&all_words(text))
    }

    #[test]
    fn names_are_found_only_where_a_name_is_given() {
        assert_eq!(
            names_in("Sarkanda me Mahesh naam ka aadmi ganja bechta hai"),
            ["mahesh"]
        );
        assert_eq!(names_in("गांव में रमेश नाम का व्यक्ति शराब बेचता है"), ["रमेश"]);
        assert_eq!(names_in("उसका नाम सुरेश है और वह जुआ खिलाता है"), ["सुरेश"]);
        assert_eq!(
            names_in("A man named Suresh, his name is SURESH, runs satta"),
            ["suresh"]
        );
        assert_eq!(
            names_in("Naam Ramesh hai, Raju naam ki dukaan"),
            ["ramesh", "raju"]
        );
        assert!(names_in("Sarkanda me roz ganja bikta hai").is_empty());
        assert!(names_in("uska naam pata nahi, naam ka kya").is_empty());
    }

    #[test]
    fn a_name_has_one_key_in_either_script() {
        assert_eq!(
            named_persons("Ramesh naam ka aadmi"),
            named_persons("रमेश नाम का आदमी")
        );
        assert_ne!(
            named_persons("Ramesh naam ka aadmi"),
            named_persons("Suresh naam ka aadmi")
        );
        assert_eq!(named_persons("Naam Ramesh hai, RAMESH naam ka").len(), 1);
    }
}
