//! Triage: category, place, urgency and police involvement from a tip's text, and the routing
//! that follows from them. Pure functions over text plus the loaded jurisdiction, lexicon and cue
//! words; no I/O (except in `cli`). A keyword triage is a first sort for officers, never a
//! verdict: it must not close or reject a tip on its own, and officers can correct every field.

pub mod cli;
pub mod cues;
pub mod eval;
pub mod language;
pub mod lookup;
pub mod normalize;
pub mod place;
pub mod signals;

mod category;

use serde::Serialize;

use self::category::{CategoryScorer, Decision};
use self::cues::Cues;
use self::language::Language;
use self::normalize::tokenize;
use self::place::PlaceIndex;
use self::signals::{UrgencyFacts, UrgentReason};
use crate::jurisdiction::{DistrictId, Jurisdiction, StationId, StationKind};
use crate::lexicon::Lexicon;

pub use self::category::{NOT_A_TIP, OTHER};

/// Why the triage tables could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    /// The cue-word file is malformed.
    #[error("triage cue file is not valid: {0}")]
    Cues(String),
    /// The lexicon has no usable terms.
    #[error("lexicon has no usable terms: {0}")]
    Lexicon(String),
}

/// Priority of a triaged tip on the officers' queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Not a tip: review and reply, never auto-close.
    Low,
    /// Ordinary tip.
    Normal,
    /// Serious category or police involvement.
    High,
    /// Needs a response within the hour.
    Urgent,
}

/// Where a triaged tip goes.
#[derive(Clone, Debug, Serialize)]
pub struct Routing {
    /// Desks from the jurisdiction's routing table for the category (`thana`, `cyber_cell`, ...);
    /// with police involvement, `sp_office` and `ig_office` are added.
    pub desks: Vec<String>,
    /// Queue priority.
    pub priority: Priority,
    /// The station that must not see the tip (the one it accuses).
    #[serde(serialize_with = "ser::station")]
    pub barred_station: Option<StationId>,
}

/// The triage of one tip. Every field is a suggestion an officer can correct.
#[derive(Clone, Debug, Serialize)]
pub struct Assessment {
    /// Main category: a lexicon id, `other` or `not_a_tip`.
    pub category: String,
    /// Other lexicon categories the tip also alleges.
    pub secondary_categories: Vec<String>,
    /// Score of the main category (sum of matched term weights).
    pub category_score: u32,
    /// The words that decided the category, as written in the tip.
    pub evidence: Vec<String>,
    /// The place words that decided district and station, as written in the tip.
    pub place_evidence: Vec<String>,
    /// District of the incident.
    #[serde(serialize_with = "ser::district")]
    pub district: Option<DistrictId>,
    /// Station of the incident (none when the text does not decide it).
    #[serde(serialize_with = "ser::station")]
    pub station: Option<StationId>,
    /// Needs a response within the hour.
    pub urgent: bool,
    /// Why it is urgent.
    pub urgent_reasons: Vec<UrgentReason>,
    /// The tip accuses police staff.
    pub police_involvement: bool,
    /// The station the tip accuses.
    #[serde(serialize_with = "ser::station")]
    pub named_station: Option<StationId>,
    /// Language label.
    pub language: Language,
    /// Desks, priority and the barred station.
    pub routing: Routing,
}

/// Ids serialise as their text (the id types live in `jurisdiction`, which stays serde-free).
mod ser {
    use serde::Serializer;

    use crate::jurisdiction::{DistrictId, StationId};

    pub fn station<S: Serializer>(id: &Option<StationId>, s: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => s.serialize_some(id.as_str()),
            None => s.serialize_none(),
        }
    }

    pub fn district<S: Serializer>(id: &Option<DistrictId>, s: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => s.serialize_some(id.as_str()),
            None => s.serialize_none(),
        }
    }
}

/// The compiled triage tables. Build once, share, call [`Triage::assess`] per tip.
#[derive(Debug)]
pub struct Triage {
    cues: Cues,
    categories: CategoryScorer,
    places: PlaceIndex,
    routing: std::collections::BTreeMap<String, Vec<String>>,
}

/// Categories whose tips are serious enough for high priority even when not urgent.
const SERIOUS: &[&str] = &["murder", "weapons", "human_trafficking", "child_marriage", "naxal_activity", "sexual_offences_women_safety", "missing_persons", "robbery"];

impl Triage {
    /// Compiles the lexicon, the built-in cue words and the place index.
    pub fn new(jurisdiction: &Jurisdiction, lexicon: &Lexicon) -> Result<Self, TriageError> {
        Self::with_cues(jurisdiction, lexicon, cues::BUILTIN_TOML)
    }

    /// As [`Triage::new`], with the text of an administrator's own cue file.
    pub fn with_cues(jurisdiction: &Jurisdiction, lexicon: &Lexicon, cue_toml: &str) -> Result<Self, TriageError> {
        let cues = Cues::new(cue_toml, lexicon)?;
        Ok(Self {
            categories: CategoryScorer::new(lexicon, &cues)?,
            places: PlaceIndex::new(jurisdiction, &cues),
            routing: jurisdiction.routing.clone(),
            cues,
        })
    }

    /// Triage of one tip. `hotline_district` is where the tip arrived; it is metadata and never
    /// decides the place of the incident.
    pub fn assess(&self, text: &str, hotline_district: Option<&str>) -> Assessment {
        let _ = hotline_district;
        let tokens = tokenize(text);
        let scored = self.categories.score(&tokens);
        let police = signals::police(&tokens, &self.cues, &scored.crime_spans());
        let decision = self.categories.decide(&tokens, &scored, &police, &self.cues);
        let language = language::detect(&tokens, &self.cues);
        if decision.category == NOT_A_TIP {
            return self.not_a_tip(decision, language);
        }
        let place = self.places.locate(&tokens, &self.cues);
        let facts = UrgencyFacts {
            cyber: decision.category == "cyber_fraud",
            missing: matches!(decision.category.as_str(), "missing_persons" | "human_trafficking"),
            child_marriage: decision.category == "child_marriage",
        };
        let urgent_reasons = signals::urgency(&tokens, &self.cues, facts);
        let named_station = if police.involved { self.named_station(&tokens, &place, &police.actors) } else { None };
        let station = place.station.map(|s| self.places.stations[s].id.clone());
        let district = place.district.map(|d| self.places.districts[d].clone());
        let urgent = !urgent_reasons.is_empty();
        let routing = self.route(&decision.category, urgent, police.involved, named_station.clone());
        Assessment {
            category: decision.category,
            secondary_categories: decision.secondary,
            category_score: decision.score,
            evidence: decision.evidence,
            place_evidence: place
                .mentions
                .iter()
                .map(|m| tokens[m.start..m.start + m.len].iter().map(|t| t.text.as_str()).collect::<Vec<_>>().join(" "))
                .collect(),
            district,
            station,
            urgent,
            urgent_reasons,
            police_involvement: police.involved,
            named_station,
            language,
            routing,
        }
    }

    fn not_a_tip(&self, decision: Decision, language: Language) -> Assessment {
        Assessment {
            category: decision.category,
            secondary_categories: Vec::new(),
            category_score: decision.score,
            evidence: decision.evidence,
            place_evidence: Vec::new(),
            district: None,
            station: None,
            urgent: false,
            urgent_reasons: Vec::new(),
            police_involvement: false,
            named_station: None,
            language,
            routing: Routing { desks: vec!["district_control_room".into()], priority: Priority::Low, barred_station: None },
        }
    }

    /// The station named right next to an accused police mention ("Torwa thana", "थाना मस्तूरी",
    /// "Raigarh kotwali"). A thana/chowki word picks between a thana and a chowki of one name.
    fn named_station(&self, tokens: &[normalize::Token], place: &place::PlaceFinding, actors: &[(usize, usize)]) -> Option<StationId> {
        let named_districts: Vec<usize> = place
            .mentions
            .iter()
            .filter_map(|m| {
                let mut ds: Vec<usize> = m.targets.iter().map(|t| self.places.district_of(t)).collect();
                ds.dedup();
                (ds.len() == 1).then(|| ds[0])
            })
            .collect();
        for &(a, b) in actors {
            let chowki = tokens[a..b].iter().any(|t| matches!(t.key.as_str(), "caoki" | "cauki" | "covki"));
            for m in &place.mentions {
                let (s, e) = (m.start, m.start + m.len);
                let adjacent = (e <= a && a - e <= 2) || (s >= b && s - b <= 1) || (s < b && a < e);
                if !adjacent {
                    continue;
                }
                let mut stations: Vec<usize> = self
                    .places
                    .resolve(m, &named_districts)
                    .iter()
                    .filter_map(|t| match t {
                        place::Target::Station(i) => Some(*i),
                        place::Target::District(_) => None,
                    })
                    .collect();
                if stations.len() > 1 {
                    let want = if chowki { StationKind::Chowki } else { StationKind::Thana };
                    stations.retain(|&i| self.places.stations[i].kind == want);
                }
                if let [only] = stations.as_slice() {
                    return Some(self.places.stations[*only].id.clone());
                }
            }
        }
        None
    }

    fn route(&self, category: &str, urgent: bool, police: bool, named: Option<StationId>) -> Routing {
        let mut desks = self
            .routing
            .get(category)
            .or_else(|| self.routing.get("default"))
            .cloned()
            .unwrap_or_default();
        if police {
            desks.retain(|d| d != "thana");
            for d in ["sp_office", "ig_office"] {
                if !desks.iter().any(|x| x == d) {
                    desks.push(d.into());
                }
            }
        }
        let priority = if urgent {
            Priority::Urgent
        } else if police || SERIOUS.contains(&category) {
            Priority::High
        } else {
            Priority::Normal
        };
        Routing { desks, priority, barred_station: if police { named } else { None } }
    }

    /// Number of indexed place names (for the load report).
    pub fn place_name_count(&self) -> usize {
        self.places.name_count()
    }
}
