//! The triage cue words (`data/triage-cues.toml`, admin-editable) and the cue lists of
//! lexicon.toml (urgency, deescalation, dialect markers, location cues), compiled into phrase
//! sets. Owns loading and validating those lists; the rules that use them live elsewhere.

use serde::Deserialize;

use super::TriageError;
use super::lookup::{PhraseSet, Tolerance};
use crate::lexicon::Lexicon;

/// The compiled-in cue file.
pub const BUILTIN_TOML: &str = include_str!("../../data/triage-cues.toml");

/// A compiled cue list.
pub type CueSet = PhraseSet<()>;

/// Every cue list the rules read, compiled.
#[derive(Debug)]
pub struct Cues {
    /// Police staff and posts.
    pub police_actor: CueSet,
    /// Money taken, protection, tip-offs.
    pub collusion: CueSet,
    /// Money demanded from the tipster.
    pub demand: CueSet,
    /// Taking words after a sum of money.
    pub take: CueSet,
    /// Giving words after a sum that ask for it ("5000 do").
    pub give_now: CueSet,
    /// A raid or check.
    pub raid: CueSet,
    /// "Before".
    pub before: CueSet,
    /// "khud", "hi": the actor does it himself.
    pub participation: CueSet,
    /// Other officials (forest, mining, excise, CISF, revenue).
    pub officials: CueSet,
    /// Impostors and denials of police involvement.
    pub impostor: CueSet,
    /// In progress now.
    pub present: CueSet,
    /// Words after "abhi" meaning "so far".
    pub not_present: CueSet,
    /// Words before a present marker that make it a state or duration.
    pub not_present_before: CueSet,
    /// Progressive verb forms.
    pub ongoing: CueSet,
    /// Today, tonight, tomorrow.
    pub imminent: CueSet,
    /// Life at stake, confinement, harm being done (plus lexicon urgency weight-3 terms).
    pub danger: CueSet,
    /// Children and other vulnerable people.
    pub vulnerable: CueSet,
    /// Money lost.
    pub loss: CueSet,
    /// Minutes or hours ago.
    pub recent: CueSet,
    /// A few minutes or an hour ago: a robbery or theft that just happened.
    pub just_now: CueSet,
    /// Illness or disability that makes an adult vulnerable.
    pub condition: CueSet,
    /// Come or send someone at once.
    pub request: CueSet,
    /// Hearsay markers (plus lexicon deescalation hearsay).
    pub hearsay: CueSet,
    /// Past-event markers (plus lexicon deescalation past).
    pub past: CueSet,
    /// Months or years.
    pub long_ago: CueSet,
    /// The danger is over or the police are there.
    pub over: CueSet,
    /// Verbs and verbal nouns of violence against a person.
    pub harm: CueSet,
    /// The keys of `harm`, for the Chhattisgarhi present in -त ("मारत").
    pub harm_stems: Vec<String>,
    /// The progressive auxiliary ("raha", "रही").
    pub progressive: CueSet,
    /// "ho"/"kar" between a verbal noun and the progressive.
    pub light_verb: CueSet,
    /// Chhattisgarhi "is/are" (हे, हवय).
    pub copula_hne: CueSet,
    /// English progressive forms of harm ("is beating").
    pub harm_now: CueSet,
    /// A dead body.
    pub body: CueSet,
    /// Things that may hide a bomb.
    pub object: CueSet,
    /// Nobody's, left lying.
    pub unattended: CueSet,
    /// Greetings and tests.
    pub greeting: CueSet,
    /// Thanks and praise.
    pub thanks: CueSet,
    /// A forwarded warning ("forwarded as received", "share in all groups").
    pub hoax: CueSet,
    /// A second matter after a question ("also", "ek aur baat").
    pub turn: CueSet,
    /// The earlier problem is solved.
    pub resolved: CueSet,
    /// Service questions and complaints.
    pub service: CueSet,
    /// Crimes outside the lexicon categories.
    pub other_crime: CueSet,
    /// Road and route words.
    pub route: CueSet,
    /// "towards".
    pub towards: CueSet,
    /// Out-of-range markers after a place name.
    pub outside: CueSet,
    /// Places outside the range whose names contain a range name ("Baloda Bazar").
    pub outside_places: CueSet,
    /// Place names that are also everyday words.
    pub weak_names: CueSet,
    /// Location cues (this file and lexicon.toml `[location_cues]`).
    pub location: CueSet,
    /// English function words.
    pub english: CueSet,
    /// Romanised Hindi function words.
    pub hinglish: CueSet,
    /// Chhattisgarhi markers written in Devanagari.
    pub chhattisgarhi: CueSet,
    /// Chhattisgarhi markers written in Latin letters.
    pub chhattisgarhi_latin: CueSet,
    /// Category id to added terms.
    pub extra_terms: std::collections::BTreeMap<String, Vec<ExtraTerm>>,
    /// Terms that count as weak and exact-only (cue file and lexicon `[ambiguous_terms]`).
    pub ambiguous: Vec<String>,
    /// Category id to its scene: named groups of everyday words (see `[scenes]` in the cue file).
    pub scenes: Scenes,
}

/// Category id to its scene's groups (group name, words).
pub type Scenes = std::collections::BTreeMap<String, Vec<(String, Vec<String>)>>;

/// An added category term from the cue file.
#[derive(Clone, Debug, Deserialize)]
pub struct ExtraTerm {
    /// Words to match (`*` = any ending).
    pub term: String,
    /// 1 weak, 2 normal, 3 strong.
    pub weight: u8,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    extra_terms: std::collections::BTreeMap<String, Vec<ExtraTerm>>,
    #[serde(default)]
    ambiguous: Option<Terms>,
    #[serde(default)]
    scenes: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<String>>>,
    police: Police,
    urgency: Urgency,
    not_a_tip: NotATip,
    other_crime: Terms,
    places: Places,
    language: Language,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Police {
    actors: Vec<String>,
    collusion: Vec<String>,
    demand: Vec<String>,
    take: Vec<String>,
    give_now: Vec<String>,
    raid: Vec<String>,
    before: Vec<String>,
    participation: Vec<String>,
    officials: Vec<String>,
    impostor: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Urgency {
    present: Vec<String>,
    not_present: Vec<String>,
    not_present_before: Vec<String>,
    ongoing: Vec<String>,
    imminent: Vec<String>,
    danger: Vec<String>,
    vulnerable: Vec<String>,
    loss: Vec<String>,
    recent: Vec<String>,
    just_now: Vec<String>,
    condition: Vec<String>,
    request: Vec<String>,
    hearsay: Vec<String>,
    past: Vec<String>,
    long_ago: Vec<String>,
    over: Vec<String>,
    harm: Vec<String>,
    progressive: Vec<String>,
    light_verb: Vec<String>,
    copula_hne: Vec<String>,
    harm_now: Vec<String>,
    body: Vec<String>,
    object: Vec<String>,
    unattended: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotATip {
    greeting: Vec<String>,
    thanks: Vec<String>,
    resolved: Vec<String>,
    service: Vec<String>,
    hoax: Vec<String>,
    turn: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Terms {
    terms: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Places {
    route: Vec<String>,
    towards: Vec<String>,
    outside_markers: Vec<String>,
    outside_places: Vec<String>,
    weak_names: Vec<String>,
    cues: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Language {
    english: Vec<String>,
    hinglish: Vec<String>,
    chhattisgarhi_latin: Vec<String>,
}

fn compile<'a>(
    name: &str,
    lists: impl IntoIterator<Item = &'a String>,
) -> Result<CueSet, TriageError> {
    let mut set = CueSet::new(Tolerance::Cue);
    for phrase in lists {
        if !set.insert(phrase, ()) {
            return Err(TriageError::Cues(format!(
                "list `{name}` has an entry with no words: {phrase:?}"
            )));
        }
    }
    if set.is_empty() {
        return Err(TriageError::Cues(format!("list `{name}` is empty")));
    }
    Ok(set)
}

/// The matching keys of a list whose entries must be single words without a wildcard.
fn single_word_keys(name: &str, list: &[String]) -> Result<Vec<String>, TriageError> {
    let mut keys = Vec::new();
    for word in list {
        if word.split_whitespace().count() != 1 || word.contains('*') {
            return Err(TriageError::Cues(format!(
                "list `{name}` takes single words without `*`: {word:?}"
            )));
        }
        keys.extend(super::normalize::phrase_keys(word));
    }
    Ok(keys)
}

/// Terms of a lexicon.toml list such as `urgency.high`, with their notes and weights.
fn lexicon_list(lexicon: &Lexicon, path: &[&str]) -> Vec<(String, String, i64)> {
    let mut value = lexicon.raw.get(path[0]);
    for key in &path[1..] {
        value = value.and_then(|v| v.get(key));
    }
    let Some(items) = value.and_then(toml::Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|t| {
            let term = t.get("term")?.as_str()?.to_owned();
            let note = t
                .get("note")
                .and_then(toml::Value::as_str)
                .unwrap_or("")
                .to_owned();
            let weight = t
                .get("weight")
                .and_then(toml::Value::as_integer)
                .unwrap_or(2);
            Some((term, note, weight))
        })
        .collect()
}

fn terms_noted(list: &[(String, String, i64)], note: &str) -> Vec<String> {
    list.iter()
        .filter(|(_, n, _)| n.contains(note))
        .map(|(t, _, _)| t.clone())
        .collect()
}

impl Cues {
    /// Compiles the cue file text together with the lexicon's own cue lists.
    pub fn new(text: &str, lexicon: &Lexicon) -> Result<Self, TriageError> {
        let f: File = toml::from_str(text).map_err(|e| TriageError::Cues(e.to_string()))?;
        let deesc = lexicon_list(lexicon, &["deescalation", "terms"]);
        let lex_hearsay = terms_noted(&deesc, "hearsay");
        let lex_past = terms_noted(&deesc, "past");
        let lex_location = terms_noted(&lexicon_list(lexicon, &["location_cues", "terms"]), "");
        let lex_hne = terms_noted(
            &lexicon_list(lexicon, &["dialect_markers", "chhattisgarhi", "terms"]),
            "",
        );
        let danger_extra = threat_terms(lexicon);
        let is_deva = |t: &&String| t.chars().any(|c| ('\u{0900}'..='\u{097F}').contains(&c));
        let (hne_deva, hne_latin): (Vec<&String>, Vec<&String>) = f
            .language
            .chhattisgarhi_latin
            .iter()
            .chain(&lex_hne)
            .partition(is_deva);
        Ok(Self {
            police_actor: compile("police.actors", &f.police.actors)?,
            collusion: compile("police.collusion", &f.police.collusion)?,
            demand: compile("police.demand", &f.police.demand)?,
            take: compile("police.take", &f.police.take)?,
            give_now: compile("police.give_now", &f.police.give_now)?,
            raid: compile("police.raid", &f.police.raid)?,
            before: compile("police.before", &f.police.before)?,
            participation: compile("police.participation", &f.police.participation)?,
            officials: compile("police.officials", &f.police.officials)?,
            impostor: compile("police.impostor", &f.police.impostor)?,
            present: compile("urgency.present", &f.urgency.present)?,
            not_present: compile("urgency.not_present", &f.urgency.not_present)?,
            not_present_before: compile(
                "urgency.not_present_before",
                &f.urgency.not_present_before,
            )?,
            ongoing: compile("urgency.ongoing", &f.urgency.ongoing)?,
            imminent: compile("urgency.imminent", &f.urgency.imminent)?,
            danger: compile(
                "urgency.danger",
                f.urgency.danger.iter().chain(&danger_extra),
            )?,
            vulnerable: compile("urgency.vulnerable", &f.urgency.vulnerable)?,
            loss: compile("urgency.loss", &f.urgency.loss)?,
            recent: compile("urgency.recent", &f.urgency.recent)?,
            just_now: compile("urgency.just_now", &f.urgency.just_now)?,
            condition: compile("urgency.condition", &f.urgency.condition)?,
            request: compile("urgency.request", &f.urgency.request)?,
            hearsay: compile(
                "urgency.hearsay",
                f.urgency.hearsay.iter().chain(&lex_hearsay),
            )?,
            past: compile("urgency.past", f.urgency.past.iter().chain(&lex_past))?,
            long_ago: compile("urgency.long_ago", &f.urgency.long_ago)?,
            over: compile("urgency.over", &f.urgency.over)?,
            harm: compile("urgency.harm", &f.urgency.harm)?,
            harm_stems: single_word_keys("urgency.harm", &f.urgency.harm)?,
            progressive: compile("urgency.progressive", &f.urgency.progressive)?,
            light_verb: compile("urgency.light_verb", &f.urgency.light_verb)?,
            copula_hne: compile("urgency.copula_hne", &f.urgency.copula_hne)?,
            harm_now: compile("urgency.harm_now", &f.urgency.harm_now)?,
            body: compile("urgency.body", &f.urgency.body)?,
            object: compile("urgency.object", &f.urgency.object)?,
            unattended: compile("urgency.unattended", &f.urgency.unattended)?,
            greeting: compile("not_a_tip.greeting", &f.not_a_tip.greeting)?,
            thanks: compile("not_a_tip.thanks", &f.not_a_tip.thanks)?,
            resolved: compile("not_a_tip.resolved", &f.not_a_tip.resolved)?,
            service: compile("not_a_tip.service", &f.not_a_tip.service)?,
            hoax: compile("not_a_tip.hoax", &f.not_a_tip.hoax)?,
            turn: compile("not_a_tip.turn", &f.not_a_tip.turn)?,
            other_crime: compile("other_crime.terms", &f.other_crime.terms)?,
            route: compile("places.route", &f.places.route)?,
            towards: compile("places.towards", &f.places.towards)?,
            outside: compile("places.outside_markers", &f.places.outside_markers)?,
            outside_places: compile("places.outside_places", &f.places.outside_places)?,
            weak_names: compile("places.weak_names", &f.places.weak_names)?,
            location: compile("places.cues", f.places.cues.iter().chain(&lex_location))?,
            english: compile("language.english", &f.language.english)?,
            hinglish: compile("language.hinglish", &f.language.hinglish)?,
            chhattisgarhi: compile("dialect markers (Devanagari)", hne_deva.iter().copied())?,
            chhattisgarhi_latin: compile("dialect markers (Latin)", hne_latin.iter().copied())?,
            ambiguous: ambiguous_terms(lexicon, f.ambiguous.map(|a| a.terms).unwrap_or_default()),
            extra_terms: checked_extra_terms(f.extra_terms, lexicon)?,
            scenes: checked_scenes(f.scenes, lexicon)?,
        })
    }
}

/// The lexicon's `[ambiguous_terms]` ("माल / maal" gives both spellings) plus the cue file's.
fn ambiguous_terms(lexicon: &Lexicon, mut own: Vec<String>) -> Vec<String> {
    let items = lexicon
        .raw
        .get("ambiguous_terms")
        .and_then(|v| v.get("items"))
        .and_then(toml::Value::as_array);
    for item in items.into_iter().flatten() {
        if let Some(t) = item.get("term").and_then(toml::Value::as_str) {
            own.extend(
                t.split('/')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty()),
            );
        }
    }
    own
}

fn checked_extra_terms(
    extra: std::collections::BTreeMap<String, Vec<ExtraTerm>>,
    lexicon: &Lexicon,
) -> Result<std::collections::BTreeMap<String, Vec<ExtraTerm>>, TriageError> {
    for (id, terms) in &extra {
        if lexicon.category(id).is_none() {
            return Err(TriageError::Cues(format!(
                "extra_terms: `{id}` is not a lexicon category"
            )));
        }
        if let Some(t) = terms
            .iter()
            .find(|t| !(1..=3).contains(&t.weight) || t.term.trim().is_empty())
        {
            return Err(TriageError::Cues(format!(
                "extra_terms.{id}: {:?} needs a term and a weight 1..3",
                t.term
            )));
        }
    }
    Ok(extra)
}

/// Scenes name lexicon categories and have at least two groups (one group alone proves nothing),
/// each with words.
fn checked_scenes(
    scenes: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<String>>>,
    lexicon: &Lexicon,
) -> Result<Scenes, TriageError> {
    let mut out = Scenes::new();
    for (id, groups) in scenes {
        if lexicon.category(&id).is_none() {
            return Err(TriageError::Cues(format!(
                "scenes: `{id}` is not a lexicon category"
            )));
        }
        if groups.len() < 2 {
            return Err(TriageError::Cues(format!(
                "scenes.{id}: a scene needs at least two groups of words"
            )));
        }
        if let Some((name, _)) = groups.iter().find(|(_, words)| {
            words
                .iter()
                .all(|w| w.trim().trim_end_matches('*').is_empty())
        }) {
            return Err(TriageError::Cues(format!(
                "scenes.{id}.{name}: the group has no words"
            )));
        }
        out.insert(id, groups.into_iter().collect());
    }
    Ok(out)
}

/// The strong (weight 3) urgency terms of lexicon.toml that speak of a threat (जान का खतरा,
/// "maar denge", बचाओ). Terms that only say "hurry" or name a weapon are left out: the label
/// rules say urgency words alone do not decide urgency, so those go through their own rules.
fn threat_terms(lexicon: &Lexicon) -> Vec<String> {
    const HURRY: [&str; 11] = [
        "तुरंत",
        "फौरन",
        "जल्दी आओ",
        "अभी चल रहा है",
        "turant",
        "fauran",
        "urgent",
        "emergency",
        "immediately",
        "right now",
        "happening now",
    ];
    let in_category = |t: &str| {
        lexicon
            .categories
            .iter()
            .any(|c| c.terms.iter().any(|x| x.term == t))
    };
    lexicon_list(lexicon, &["urgency", "high"])
        .into_iter()
        .filter(|(t, _, w)| *w >= 3 && !HURRY.contains(&t.as_str()) && !in_category(t))
        .map(|(t, _, _)| t)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The built-in cue file without its scenes, plus `scenes`.
    fn with_scenes(scenes: &str) -> Result<Cues, TriageError> {
        let cut = BUILTIN_TOML.find("\n[scenes.").unwrap();
        let text = format!("{}\n{scenes}", &BUILTIN_TOML[..cut]);
        Cues::new(&text, &Lexicon::builtin().unwrap())
    }

    #[test]
    fn a_scene_needs_a_lexicon_category_and_two_groups_of_words() {
        let ok = with_scenes("[scenes.theft]\ngoods = [\"bartan\"]\ntaken = [\"utha le*\"]\n");
        assert_eq!(ok.unwrap().scenes["theft"].len(), 2);
        let one_group = with_scenes("[scenes.theft]\ngoods = [\"bartan\"]\n");
        assert!(matches!(one_group, Err(TriageError::Cues(e)) if e.contains("two groups")));
        let unknown = with_scenes("[scenes.poaching]\na = [\"x\"]\nb = [\"y\"]\n");
        assert!(matches!(unknown, Err(TriageError::Cues(e)) if e.contains("not a lexicon")));
        let empty = with_scenes("[scenes.theft]\ngoods = [\"bartan\"]\ntaken = [\" * \"]\n");
        assert!(matches!(empty, Err(TriageError::Cues(e)) if e.contains("no words")));
    }
}
