//! Translations (Fluent, Hindi first, English), and times shown in India Standard Time.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, static_loader};

use crate::domain::Language;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Arguments are numbers and ids; Unicode isolation marks would only clutter plain text.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// Looks up messages in one language; templates call `t.get("key")`.
#[derive(Clone, Copy)]
pub struct Tr {
    lang: Language,
}

impl Tr {
    /// Messages in `lang`.
    pub fn new(lang: Language) -> Self {
        Self { lang }
    }

    /// The language.
    pub fn language(&self) -> Language {
        self.lang
    }

    /// The language code, for `lang` attributes and URLs.
    pub fn lang(&self) -> &'static str {
        self.lang.code()
    }

    fn id(&self) -> LanguageIdentifier {
        self.lang
            .code()
            .parse::<LanguageIdentifier>()
            .unwrap_or_default()
    }

    /// The message `key`.
    pub fn get(&self, key: &str) -> String {
        LOCALES.lookup(&self.id(), key)
    }

    /// The message `key` with one text argument.
    pub fn get_with(&self, key: &str, name: &'static str, value: &str) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        args.insert(Cow::Borrowed(name), FluentValue::from(value));
        LOCALES.lookup_with_args(&self.id(), key, &args)
    }

    /// A message with one number argument.
    pub fn get_n(&self, key: &str, name: &'static str, n: usize) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        args.insert(Cow::Borrowed(name), FluentValue::from(n));
        LOCALES.lookup_with_args(&self.id(), key, &args)
    }
}

/// Unix milliseconds as `28-11-2026 20:05 IST` (India has one zone, UTC+05:30, no DST).
pub fn ist(ms: i64) -> String {
    let ist = time::UtcOffset::from_hms(5, 30, 0).unwrap_or(time::UtcOffset::UTC);
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) else {
        return String::new();
    };
    let t = t.to_offset(ist);
    let fmt = time::macros::format_description!("[day]-[month]-[year] [hour]:[minute] IST");
    t.format(&fmt).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_every_key() {
        let hi = include_str!("../../locales/hi/main.ftl");
        let en = include_str!("../../locales/en/main.ftl");
        let keys = |s: &str| {
            s.lines()
                .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_owned()))
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(hi), keys(en));
        // A key given twice makes the whole bundle fail to load at run time.
        let mut unique = keys(en);
        unique.sort_unstable();
        let before = unique.len();
        unique.dedup();
        assert_eq!(unique.len(), before, "a message key is defined twice");
        assert_eq!(Tr::new(Language::Hindi).get("submit-report"), "सूचना भेजें");
        assert_eq!(
            Tr::new(Language::English).get_n("err-text-too-long", "max", 5000),
            "The tip is too long: at most 5000 characters."
        );
    }

    #[test]
    fn times_are_shown_in_ist() {
        assert_eq!(ist(0), "01-01-1970 05:30 IST");
    }
}
