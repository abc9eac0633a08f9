//! Where a tip happened: the district and police station that its place names point to, from
//! bilaspur-range.toml (names, aliases, localities, station hints, district names; either
//! script; tolerant of misspelling). Owns the place-name index and the rules that refuse a place:
//! out-of-range look-alikes, destinations, roads, names that are also everyday words, and names
//! shared by several stations. A wrong station is worse than none, so every doubt gives `None`.

use super::cues::Cues;
use super::lookup::{Hit, PhraseSet, Tolerance};
use super::normalize::{Script, Token, phrase_keys};
use crate::jurisdiction::{DistrictId, Jurisdiction, StationId, StationKind};

/// What a place name points to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A station with an id (index into [`PlaceIndex::stations`]).
    Station(usize),
    /// Only a district (district names, or stations known by name only).
    District(usize),
}

/// One indexed name.
#[derive(Clone, Debug)]
pub struct PlaceName {
    /// Everything this name can mean (several when stations share it).
    pub targets: Vec<Target>,
    /// A name like "Kotwali" that needs a district named elsewhere to decide.
    pub generic: bool,
    /// A name that is also an everyday word (cue file `weak_names`): needs a location cue.
    pub weak: bool,
}

/// A station as the index sees it.
#[derive(Clone, Debug)]
pub struct IndexedStation {
    /// Its id.
    pub id: StationId,
    /// Index of its district in [`PlaceIndex::districts`].
    pub district: usize,
    /// Thana or chowki.
    pub kind: StationKind,
}

/// The compiled place-name index of a jurisdiction.
#[derive(Debug)]
pub struct PlaceIndex {
    /// Every station with an id.
    pub stations: Vec<IndexedStation>,
    /// District ids in file order.
    pub districts: Vec<DistrictId>,
    names: PhraseSet<PlaceName>,
}

/// A place found in a tip after the refusal rules.
#[derive(Clone, Debug)]
pub struct Mention {
    /// First token.
    pub start: usize,
    /// Number of tokens.
    pub len: usize,
    /// What it can mean.
    pub targets: Vec<Target>,
    /// Whether the name needs a district elsewhere in the text.
    pub generic: bool,
    /// The name is a road or route ("कटघोरा रोड पर"): district only.
    pub route: bool,
}

/// The place decision for a tip.
#[derive(Clone, Debug, Default)]
pub struct PlaceFinding {
    /// District of the incident.
    pub district: Option<usize>,
    /// Station of the incident.
    pub station: Option<usize>,
    /// Surviving mentions, for evidence and for the police-involvement rules.
    pub mentions: Vec<Mention>,
}

/// Words of a locality or name that describe the spot rather than name it.
const SPOT_WORDS: &[&str] = &[
    "area",
    "mine",
    "mines",
    "colony",
    "border",
    "project",
    "chowk",
    "mod",
    "industrial",
    "thana",
    "chowki",
    "थाना",
    "चौकी",
];
/// Locality entries that name a kind of spot shared by every town.
const SHARED_SPOTS: &[&str] = &["station", "stand", "college", "office", "collectorate"];

fn clean_name(raw: &str) -> Option<String> {
    let without_paren = match raw.find('(') {
        Some(i) => &raw[..i],
        None => raw,
    };
    let mut words: Vec<&str> = without_paren.split_whitespace().collect();
    while words.len() > 1
        && words
            .last()
            .is_some_and(|w| SPOT_WORDS.contains(&w.to_lowercase().as_str()))
    {
        words.pop();
    }
    while words.len() > 1
        && words
            .first()
            .is_some_and(|w| SPOT_WORDS.contains(&w.to_lowercase().as_str()))
    {
        words.remove(0);
    }
    let name = words.join(" ");
    let lower = name.to_lowercase();
    let shared = SHARED_SPOTS
        .iter()
        .any(|s| lower.split_whitespace().any(|w| w == *s));
    (!name.is_empty() && !shared).then_some(name)
}

fn variants(raw: &str) -> Vec<String> {
    raw.split('/').filter_map(clean_name).collect()
}

impl PlaceIndex {
    /// Builds the index of every station, hint and district name.
    pub fn new(j: &Jurisdiction, cues: &Cues) -> Self {
        let mut entries: Vec<(Vec<String>, Target, bool)> = Vec::new();
        let mut stations = Vec::new();
        let districts: Vec<DistrictId> = j.districts.iter().map(|d| d.id.clone()).collect();
        for (di, d) in j.districts.iter().enumerate() {
            let district_keys: Vec<String> = [d.name_en.as_str(), d.name_hi.as_str()]
                .iter()
                .flat_map(|n| phrase_keys(n))
                .collect();
            let mut district_names: Vec<Vec<String>> = Vec::new();
            for name in [&d.name_en, &d.name_hi].into_iter().chain(&d.aliases) {
                for v in variants(name) {
                    district_names.push(phrase_keys(&v));
                    entries.push((phrase_keys(&v), Target::District(di), false));
                }
            }
            // A thana with chowkis under it, named by a name the district also goes by (bare
            // "Janjgir"), stands for a town with several stations: the name gives the district
            // only (data/README.md), and the thana needs a longer name ("Janjgir Kotwali").
            let has_chowkis =
                |id: &StationId| d.stations.iter().any(|c| c.parent.as_ref() == Some(id));
            let add_local =
                |name: &str,
                 target: Target,
                 town: bool,
                 entries: &mut Vec<(Vec<String>, Target, bool)>| {
                    for v in variants(name) {
                        let keys = phrase_keys(&v);
                        if town && district_names.contains(&keys) {
                            continue;
                        }
                        let local: Vec<String> = keys
                            .iter()
                            .filter(|k| !district_keys.contains(k))
                            .cloned()
                            .collect();
                        if !local.is_empty() && local.len() < keys.len() {
                            entries.push((local, target.clone(), true));
                        }
                        entries.push((keys, target.clone(), false));
                    }
                };
            for s in &d.stations {
                let si = stations.len();
                stations.push(IndexedStation {
                    id: s.id.clone(),
                    district: di,
                    kind: s.kind,
                });
                for name in [&s.name_en, &s.name_hi]
                    .into_iter()
                    .chain(&s.aliases)
                    .chain(&s.localities)
                {
                    add_local(name, Target::Station(si), has_chowkis(&s.id), &mut entries);
                }
            }
            for h in &d.station_hints {
                add_local(&h.name_en, Target::District(di), false, &mut entries);
                add_local(&h.name_hi, Target::District(di), false, &mut entries);
            }
        }
        Self {
            stations,
            districts,
            names: merge(entries, &cues.weak_names),
        }
    }

    /// Number of indexed names.
    pub fn name_count(&self) -> usize {
        self.names.len()
    }

    /// The district and station a tip's text names.
    ///
    /// `hotline` (the district whose line received the tip) is only a prior: it picks the district
    /// of a name shared by several districts, never a station, and never overrides a named place.
    pub fn locate(&self, tokens: &[Token], cues: &Cues, hotline: Option<&str>) -> PlaceFinding {
        let hotline = hotline.and_then(|h| self.districts.iter().position(|d| d.as_str() == h));
        let mentions = self.mentions(tokens, cues);
        let named_districts = self.named_districts(&mentions);
        let mut stations: Vec<usize> = Vec::new();
        let mut districts: Vec<usize> = Vec::new();
        for m in &mentions {
            let resolved = self.resolve(m, &named_districts);
            match resolved.as_slice() {
                [Target::Station(s)] if !m.route => stations.push(*s),
                _ => {}
            }
            let ds: Vec<usize> = dedup(resolved.iter().map(|t| self.district_of(t)).collect());
            match ds.as_slice() {
                [d] => districts.push(*d),
                _ => districts.extend(hotline.filter(|h| ds.contains(h))),
            }
        }
        let stations = dedup(stations);
        let station = match stations.as_slice() {
            [s] => Some(*s),
            _ => None,
        };
        let district = station
            .map(|s| self.stations[s].district)
            .or_else(|| most_common(&districts));
        PlaceFinding {
            district,
            station,
            mentions,
        }
    }

    /// Districts that some mention names without doubt (one district among its targets).
    pub fn named_districts(&self, mentions: &[Mention]) -> Vec<usize> {
        mentions
            .iter()
            .filter_map(|m| {
                let ds = dedup(m.targets.iter().map(|t| self.district_of(t)).collect());
                (ds.len() == 1).then(|| ds[0])
            })
            .collect()
    }

    /// The targets of a mention once other named districts are taken into account.
    pub fn resolve(&self, m: &Mention, named_districts: &[usize]) -> Vec<Target> {
        if m.targets.len() <= 1 {
            return m.targets.clone();
        }
        let narrowed: Vec<Target> = m
            .targets
            .iter()
            .filter(|t| named_districts.contains(&self.district_of(t)))
            .cloned()
            .collect();
        let targets = if narrowed.is_empty() {
            m.targets.clone()
        } else {
            narrowed
        };
        // A town that is both a district alias and one station's name ("Champa") means the station.
        let stations: Vec<&Target> = targets
            .iter()
            .filter(|t| matches!(t, Target::Station(_)))
            .collect();
        if let [only] = stations.as_slice() {
            let d = self.district_of(only);
            if targets
                .iter()
                .all(|t| matches!(t, Target::Station(_)) || self.district_of(t) == d)
            {
                return vec![(*only).clone()];
            }
        }
        targets
    }

    /// The district index of a target.
    pub fn district_of(&self, t: &Target) -> usize {
        match t {
            Target::Station(s) => self.stations[*s].district,
            Target::District(d) => *d,
        }
    }

    fn mentions(&self, tokens: &[Token], cues: &Cues) -> Vec<Mention> {
        let outside_spans: Vec<(usize, usize)> = cues
            .outside_places
            .find_all(tokens)
            .iter()
            .map(|h| (h.start, h.start + h.len))
            .collect();
        longest_first(self.names.find_all(tokens))
            .into_iter()
            .filter(|h| {
                !outside_spans
                    .iter()
                    .any(|&(a, b)| h.start < b && a < h.start + h.len)
            })
            .filter(|h| !followed_by(tokens, h.start + h.len, &cues.outside, 1))
            .filter(|h| {
                !followed_by(tokens, h.start + h.len, &cues.towards, 1)
                    && !preceded_by(tokens, h.start, &cues.towards)
            })
            .filter(|h| !is_weak(h) || has_cue_near(tokens, h, cues))
            .map(|h| Mention {
                start: h.start,
                len: h.len,
                targets: h.value.targets.clone(),
                generic: h.value.generic,
                route: followed_by(tokens, h.start + h.len, &cues.route, 0),
            })
            .collect()
    }
}

fn merge(
    entries: Vec<(Vec<String>, Target, bool)>,
    weak_names: &PhraseSet<()>,
) -> PhraseSet<PlaceName> {
    let mut merged: Vec<(Vec<String>, PlaceName)> = Vec::new();
    for (keys, target, generic) in entries {
        if keys.is_empty() {
            continue;
        }
        match merged.iter_mut().find(|(k, _)| *k == keys) {
            Some((_, name)) => {
                if !name.targets.contains(&target) {
                    name.targets.push(target);
                }
                name.generic &= generic;
            }
            None => {
                let words: Vec<Token> = keys
                    .iter()
                    .map(|k| Token {
                        text: k.clone(),
                        key: k.clone(),
                        bare: String::new(),
                        fine: None,
                        script: Script::Latn,
                        sentence: 0,
                    })
                    .collect();
                let weak = keys.len() == 1 && weak_names.any(&words);
                merged.push((
                    keys,
                    PlaceName {
                        targets: vec![target],
                        generic,
                        weak,
                    },
                ));
            }
        }
    }
    let mut set = PhraseSet::new(Tolerance::Place);
    for (keys, name) in merged {
        set.insert(&keys.join(" "), name);
    }
    set
}

/// Keeps the longest of overlapping hits (a full name beats a word inside it).
fn longest_first<'a, T>(mut hits: Vec<Hit<'a, T>>) -> Vec<Hit<'a, T>> {
    hits.sort_by_key(|h| (std::cmp::Reverse(h.len), !h.exact, h.start));
    let mut kept: Vec<Hit<'a, T>> = Vec::new();
    for h in hits {
        if !kept
            .iter()
            .any(|k| h.start < k.start + k.len && k.start < h.start + h.len)
        {
            kept.push(h);
        }
    }
    kept.sort_by_key(|h| h.start);
    kept
}

/// Whether a phrase of `set` starts within `gap` words after `end`.
fn followed_by(tokens: &[Token], end: usize, set: &PhraseSet<()>, gap: usize) -> bool {
    (end..=end + gap).any(|i| {
        i < tokens.len()
            && set
                .find_all(&tokens[i..(i + 3).min(tokens.len())])
                .iter()
                .any(|h| h.start == 0)
    })
}

fn preceded_by(tokens: &[Token], start: usize, set: &PhraseSet<()>) -> bool {
    let from = start.saturating_sub(3);
    set.find_all(&tokens[from..start])
        .iter()
        .any(|h| h.start + h.len + from == start)
}

fn is_weak(h: &Hit<'_, PlaceName>) -> bool {
    h.len == 1 && h.value.weak
}

fn has_cue_near(tokens: &[Token], h: &Hit<'_, PlaceName>, cues: &Cues) -> bool {
    let from = h.start.saturating_sub(3);
    let to = (h.start + h.len + 3).min(tokens.len());
    cues.location.any(&tokens[from..to])
}

fn dedup(mut v: Vec<usize>) -> Vec<usize> {
    let mut seen = Vec::with_capacity(v.len());
    v.retain(|x| {
        let new = !seen.contains(x);
        seen.push(*x);
        new
    });
    v
}

/// The most frequent value; ties go to the first mentioned.
fn most_common(v: &[usize]) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for &x in v {
        let n = v.iter().filter(|&&y| y == x).count();
        if best.is_none_or(|(_, bn)| n > bn) {
            best = Some((x, n));
        }
    }
    best.map(|(x, _)| x)
}
