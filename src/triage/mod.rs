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
pub mod person;
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

impl Priority {
    /// The name stored on the tip (as serialised).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }
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
const SERIOUS: &[&str] = &[
    "murder",
    "weapons",
    "human_trafficking",
    "child_marriage",
    "naxal_activity",
    "sexual_offences_women_safety",
    "missing_persons",
    "robbery",
];

/// Trades that run every day: "20 min me ghar pe bottle" is how the racket works, not an alarm
/// (cyber fraud's golden hour has its own rule).
const RACKETS: &[&str] = &[
    "cyber_fraud",
    "illicit_liquor",
    "narcotics",
    "gambling_betting",
    "illegal_sand_mining",
    "coal_diesel_scrap_theft",
    "cattle_smuggling",
];

impl Triage {
    /// Compiles the lexicon, the built-in cue words and the place index.
    pub fn new(jurisdiction: &Jurisdiction, lexicon: &Lexicon) -> Result<Self, TriageError> {
        Self::with_cues(jurisdiction, lexicon, cues::BUILTIN_TOML)
    }

    /// As [`Triage::new`], with the text of an administrator's own cue file.
    pub fn with_cues(
        jurisdiction: &Jurisdiction,
        lexicon: &Lexicon,
        cue_toml: &str,
    ) -> Result<Self, TriageError> {
        let cues = Cues::new(cue_toml, lexicon)?;
        Ok(Self {
            categories: CategoryScorer::new(lexicon, &cues)?,
            places: PlaceIndex::new(jurisdiction, &cues),
            routing: jurisdiction.routing.clone(),
            cues,
        })
    }

    /// The language a text is written in, without the rest of triage (for answering a sender in
    /// their own language).
    pub fn language(&self, text: &str) -> Language {
        language::detect(&tokenize(text), &self.cues)
    }

    /// Triage of one tip. `hotline_district` is where the tip arrived; it is metadata and never
    /// decides the place of the incident.
    pub fn assess(&self, text: &str, hotline_district: Option<&str>) -> Assessment {
        let tokens = tokenize(text);
        let scored = self.categories.score(&tokens);
        let police = signals::police(&tokens, &self.cues, &scored.crime_spans());
        let decision = self
            .categories
            .decide(&tokens, &scored, &police, &self.cues);
        let language = language::detect(&tokens, &self.cues);
        if decision.category == NOT_A_TIP {
            return self.not_a_tip(decision, language);
        }
        let place = self.places.locate(&tokens, &self.cues, hotline_district);
        // A forwarded warning that names no place and no police wrongdoing is a viral hoax
        // (data/README.md: "nothing specific in them"), whatever crime it names.
        if place.district.is_none() && !police.involved && self.cues.hoax.any(&tokens) {
            let hoax = Decision {
                category: NOT_A_TIP.into(),
                secondary: Vec::new(),
                score: 0,
                evidence: Vec::new(),
            };
            return self.not_a_tip(hoax, language);
        }
        let facts = UrgencyFacts {
            cyber: decision.category == "cyber_fraud",
            missing: matches!(
                decision.category.as_str(),
                "missing_persons" | "human_trafficking"
            ),
            child_marriage: decision.category == "child_marriage",
            just_now_counts: !RACKETS.contains(&decision.category.as_str()),
        };
        // Spam, greetings and service questions are never urgent ("abhi link pe click kare").
        let urgent_reasons = if decision.category == NOT_A_TIP {
            Vec::new()
        } else {
            signals::urgency(&tokens, &self.cues, facts)
        };
        let named_station = if police.involved {
            self.named_station(&tokens, &place, &police.actors)
        } else {
            None
        };
        let station = place.station.map(|s| self.places.stations[s].id.clone());
        let district = place.district.map(|d| self.places.districts[d].clone());
        let urgent = !urgent_reasons.is_empty();
        let routing = self.route(
            &decision.category,
            urgent,
            police.involved,
            named_station.clone(),
        );
        Assessment {
            category: decision.category,
            secondary_categories: decision.secondary,
            category_score: decision.score,
            evidence: decision.evidence,
            place_evidence: place
                .mentions
                .iter()
                .map(|m| {
                    tokens[m.start..m.start + m.len]
                        .iter()
                        .map(|t| t.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
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
            routing: Routing {
                desks: vec!["district_control_room".into()],
                priority: Priority::Low,
                barred_station: None,
            },
        }
    }

    /// The station named right next to an accused police mention ("Torwa thana", "थाना मस्तूरी",
    /// "Raigarh kotwali"). A thana/chowki word picks between a thana and a chowki of one name.
    fn named_station(
        &self,
        tokens: &[normalize::Token],
        place: &place::PlaceFinding,
        actors: &[(usize, usize)],
    ) -> Option<StationId> {
        let named_districts = self.places.named_districts(&place.mentions);
        for &(a, b) in actors {
            let chowki = tokens[a..b].iter().any(|t| t.key == "coki");
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
                    let want = if chowki {
                        StationKind::Chowki
                    } else {
                        StationKind::Thana
                    };
                    stations.retain(|&i| self.places.stations[i].kind == want);
                }
                if let [only] = stations.as_slice() {
                    return Some(self.places.stations[*only].id.clone());
                }
            }
        }
        None
    }

    fn route(
        &self,
        category: &str,
        urgent: bool,
        police: bool,
        named: Option<StationId>,
    ) -> Routing {
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
        Routing {
            desks,
            priority,
            barred_station: if police { named } else { None },
        }
    }

    /// Number of indexed place names (for the load report).
    pub fn place_name_count(&self) -> usize {
        self.places.name_count()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_priority_is_stored_under_its_serialised_name() {
        for p in [
            Priority::Low,
            Priority::Normal,
            Priority::High,
            Priority::Urgent,
        ] {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }

    fn triage() -> Triage {
        Triage::new(
            &Jurisdiction::builtin().unwrap(),
            &Lexicon::builtin().unwrap(),
        )
        .unwrap()
    }

    fn station(t: &Triage, text: &str) -> Option<String> {
        t.assess(text, None).station.map(|s| s.as_str().to_owned())
    }

    fn district(t: &Triage, text: &str) -> Option<String> {
        t.assess(text, None).district.map(|d| d.as_str().to_owned())
    }

    #[test]
    fn false_friends_do_not_name_range_stations() {
        let t = triage();
        assert_eq!(station(&t, "dindori mp se ganja ki gaadi aati hai"), None);
        assert_eq!(
            station(&t, "Kota (Rajasthan) se aaya ladka drugs bechta hai"),
            None
        );
        assert_eq!(district(&t, "बलौदा बाजार में मेरा मोबाइल चोरी हो गया"), None);
        assert_eq!(station(&t, "Pandariya me ganja bikta hai"), None);
        assert_eq!(station(&t, "Darrighat ke paas kachchi daru"), None);
        assert_eq!(station(&t, "झुग्गी में रहने वाले लोग डरते हैं, दारू बिकती है"), None);
        // The real ones still resolve, in either script and misspelled.
        assert_eq!(
            station(&t, "dindori chowki ke paas jua chalta hai").as_deref(),
            Some("mgl-dindori")
        );
        assert_eq!(
            station(&t, "near Kota police station daru bikti hai").as_deref(),
            Some("bsp-kota")
        );
        assert_eq!(
            station(&t, "kushmunda colony me ganja").as_deref(),
            Some("krb-kusmunda")
        );
        assert_eq!(
            station(&t, "पुसोर थाना ले दू किलोमीटर गांजा बेचथे").as_deref(),
            Some("rgh-pusaur")
        );
        assert_eq!(
            station(&t, "Darri ke paas jua").as_deref(),
            Some("krb-darri")
        );
    }

    #[test]
    fn doubtful_places_give_no_station() {
        let t = triage();
        // Kharsia has a thana and a chowki entry; the locality Basnajhar points to one.
        assert_eq!(station(&t, "Kharsia me satta chalta hai"), None);
        assert_eq!(
            district(&t, "Kharsia me satta chalta hai").as_deref(),
            Some("raigarh")
        );
        assert_eq!(
            station(&t, "basnajhar me satta chalta hai").as_deref(),
            Some("rgh-kharsia")
        );
        // A road, a destination, a district only, a district without station ids.
        assert_eq!(station(&t, "कटघोरा रोड पर ट्रक लूटा"), None);
        assert_eq!(
            station(&t, "gaay ka truck punjipathra ki taraf ja raha hai"),
            None
        );
        assert_eq!(station(&t, "Mungeli bus stand pe ganja bikta hai"), None);
        let a = t.assess("Pendra thana ke paas jua", Some("bilaspur"));
        assert_eq!(
            (a.district.map(|d| d.as_str().to_owned()), a.station),
            (Some("gaurela_pendra_marwahi".into()), None)
        );
        // A generic name is decided by the district named with it.
        assert_eq!(
            station(&t, "Raigarh kotwali ke paas satta").as_deref(),
            Some("rgh-city-kotwali")
        );
    }

    #[test]
    fn hotline_district_is_a_prior_not_the_answer() {
        let t = triage();
        let text = "kotwali ke peeche satta chalta hai";
        let bare = t.assess(text, None);
        assert_eq!((bare.district, bare.station), (None, None));
        let prior = t.assess(text, Some("mungeli"));
        assert_eq!(
            prior.district.as_ref().map(DistrictId::as_str),
            Some("mungeli")
        );
        assert_eq!(prior.station, None);
        // A named place wins over the line the tip came in on.
        let named = t.assess("pamgarh ret ghat pe raat me khudai", Some("korba"));
        assert_eq!(
            named.station.as_ref().map(StationId::as_str),
            Some("jc-pamgarh")
        );
    }

    #[test]
    fn hearsay_negation_and_past_are_not_urgent() {
        let t = triage();
        assert!(
            t.assess("abhi bankimongra me jua fad chal raha hai jaldi aao", None)
                .urgent
        );
        assert!(
            !t.assess("suna hai abhi bhi usne ghar me katta rakha hai", None)
                .urgent
        );
        assert!(
            !t.assess(
                "gevra basti me ajnabi log aaye the kal, ab chale gaye, koi dikkat nahi hui",
                None
            )
            .urgent
        );
        assert!(
            !t.assess(
                "pathriya me taash ka jua hota hai, abhi tak band nahi hua",
                None
            )
            .urgent
        );
        assert!(
            !t.assess(
                "pichhle saal shyang ke paas goli chali thi, ek aadmi killed",
                None
            )
            .urgent
        );
        assert!(
            !t.assess(
                "Dead body found near Darri. Police aa gayi hai already.",
                None
            )
            .urgent
        );
        // Cyber fraud is urgent only when money was just lost.
        assert!(
            t.assess(
                "abhi 20 minute pehle account se 40000 kat gaye OTP diya tha",
                None
            )
            .urgent
        );
        assert!(
            !t.assess(
                "abhi bhi fraud call aa raha hai paisa bhejo bol raha, maine kuch nahi bheja",
                None
            )
            .urgent
        );
        // A missing child is urgent unless long ago.
        assert!(
            t.assess("meri 14 saal ki beti kal se laapata hai", None)
                .urgent
        );
        assert!(
            !t.assess("mera 12 saal ka beta 2 saal pehle laapata hua tha", None)
                .urgent
        );
    }

    #[test]
    fn harm_being_done_a_body_and_an_unattended_bag_are_urgent() {
        let t = triage();
        let urgent = |text: &str| t.assess(text, None).urgent;
        // Violence in the progressive (Hindi, Chhattisgarhi -त हे, English) is going on now.
        assert!(urgent("padosi apni maa ko laathi se peet raha hai"));
        assert!(urgent("बाजार में दो गुटों में मारपीट हो रही है"));
        assert!(urgent("ओ मनखे अपन लइका ल पीटत हावय"));
        assert!(urgent("the shopkeeper is beating a boy behind the shop"));
        // The habitual, the past, a long-running story and a negation are not.
        assert!(!urgent("uska pati roz sharab pee ke maarta hai"));
        assert!(!urgent("ओ हा अपन बाई ल मारथे"));
        assert!(!urgent("pichhle saal gaon me marpit hui thi"));
        assert!(!urgent(
            "2 saal se wo usko maar raha hai, pichhle mahine se ghar nahi aayi"
        ));
        assert!(!urgent("ab koi use maar nahi raha, sab theek hai"));
        // A body found is urgent unless the police are there or it is old.
        assert!(urgent("nadi kinare ek laash padi hai"));
        assert!(!urgent("nadi kinare laash mili thi, police aa gayi hai"));
        assert!(!urgent("last year a dead body was found in that well"));
        assert!(!urgent("परसों जंगल में एक लाश मिली थी, उस रात एक गाड़ी रुकी थी"));
        // "saw" is not शव (a body): English words never meet a Devanagari-only term.
        assert!(!urgent("A neighbour saw him at the bus stand yesterday"));
        // What is not a tip is never urgent, whatever its "abhi".
        let test_call = t.assess("hello hello sir abhi testing kar raha hoon", None);
        assert_eq!(test_call.category, NOT_A_TIP);
        assert!(!test_call.urgent);
        // A bag or box nobody owns may hide a bomb; an abandoned vehicle does not need the hour.
        assert!(urgent("bus stand pe ek lawaris bag rakha hai"));
        assert!(urgent("मंदिर के पास एक डिब्बा पड़ा है, लावारिस है"));
        assert!(!urgent(
            "mandir ke paas ek lawaris scooter 4 din se khadi hai"
        ));
    }

    #[test]
    fn police_involvement_names_the_accused_station_and_bars_it() {
        let t = triage();
        let a = t.assess(
            "Torwa thana wale paisa lete hai isliye satta band nahi hota",
            None,
        );
        assert!(a.police_involvement);
        assert_eq!(
            a.named_station.as_ref().map(StationId::as_str),
            Some("bsp-torwa")
        );
        assert_eq!(
            a.routing.barred_station.as_ref().map(StationId::as_str),
            Some("bsp-torwa")
        );
        assert!(
            a.routing.desks.iter().any(|d| d == "sp_office")
                && !a.routing.desks.iter().any(|d| d == "thana")
        );
        // Other agencies, impostors, and slowness are not police involvement.
        assert!(
            !t.assess("forest guard paisa lekar lakdi katne deta hai", None)
                .police_involvement
        );
        assert!(
            !t.assess(
                "nakli police ban ke do log truck walo se paisa le rahe",
                None
            )
            .police_involvement
        );
        assert!(
            !t.assess("thane me report likhi par koi karwai nahi hui", None)
                .police_involvement
        );
        // Hearsay still counts.
        assert!(
            t.assess(
                "log kehte hain pusaur thane ke hawaldar ka khud ka satta chalta hai",
                None
            )
            .police_involvement
        );
        // A sum taken at a rate is a payment; goods carried off from beside a station are not.
        assert!(
            t.assess(
                "chowki wale 5000 per gaadi lete hai isliye koi nahi rokta",
                None
            )
            .police_involvement
        );
        assert!(
            !t.assess(
                "कोतवाली के सामने वाली दुकान में चोरी हुई, 40-50 मोबाइल ले गए",
                None
            )
            .police_involvement
        );
        // A constable doing it himself, in Chhattisgarhi.
        assert!(
            t.assess("थाना के एक झन सिपाही ह खुदे सट्टा लिखवाथे", None)
                .police_involvement
        );
    }

    #[test]
    fn a_crime_described_without_its_name_is_categorised_by_its_scene() {
        let t = triage();
        // Cards, money and a circle: gambling, with the words that decided it shown.
        let a = t.assess(
            "mandir ke peeche log gol ghera bana ke patte phenkte hai, beech me noton ki gaddi",
            None,
        );
        assert_eq!(a.category, "gambling_betting");
        assert!(a.evidence.iter().any(|e| e == "patte"), "{:?}", a.evidence);
        // Drums of mahua wash and the smell, in Devanagari: liquor.
        assert_eq!(
            t.assess("नाले किनारे ड्रम में सड़ाकर रखते हैं, शाम को बदबू आती है", None)
                .category,
            "illicit_liquor"
        );
        // One group alone (money) scores nothing: with no other word it is offered as a guess
        // (score 0, its words shown), and two such guesses that tie give `other`.
        let lone = t.assess(
            "mere paas noton ki gaddi thi, ab kuch samajh nahi aa raha",
            None,
        );
        assert_eq!(
            (lone.category.as_str(), lone.category_score),
            ("gambling_betting", 0)
        );
        assert_eq!(lone.evidence, ["noton ki gaddi"]);
        let tie = t.assess(
            "kal ladies ke paas note the, ab kya karen sahab batao",
            None,
        );
        assert_eq!(tie.category, OTHER, "{:?}", tie.evidence);
        let harm = t.assess("bhaiya roj bhabhi par haath uthate hain", None);
        assert_eq!(harm.category, "domestic_violence");
        // A short scene word matches exactly: "bahut" is not "bahu" (the family of a
        // domestic-violence scene), so it is not shown as evidence.
        let dv = t.assess("padosi bahut maarta hai apni patni ko", None);
        assert_eq!(dv.category, "domestic_violence");
        assert!(
            !dv.evidence.iter().any(|e| e == "bahut"),
            "{:?}",
            dv.evidence
        );
    }

    #[test]
    fn a_crime_told_beside_collusion_is_main_and_sums_asked_for_are_bribes() {
        let t = triage();
        let sand = t.assess(
            "kusmunda thane ke sipahi har hafte tractor walon se 1000 lete hai, nadi se raat bhar bhar ke le jate hai",
            None,
        );
        assert_eq!(sand.category, "illegal_sand_mining");
        assert_eq!(sand.secondary_categories, ["corruption_collusion"]);
        assert!(sand.police_involvement);
        // Money asked for at the station: the bribe is the complaint. "Civil Line" is a place,
        // not a civil matter, so it is no service question.
        let bribe = t.assess(
            "civil line thane me report likhane gaya to hawaldar bola 3000 do tabhi likhunga",
            None,
        );
        assert_eq!(bribe.category, "corruption_collusion");
        assert!(bribe.police_involvement);
        let paid = t.assess(
            "traffic police har truck se 300 take karti hai raat me",
            None,
        );
        assert!(paid.police_involvement);
    }

    #[test]
    fn money_asked_is_never_chatter_and_a_fine_issued_is_no_money_lost() {
        let t = triage();
        // A service question, then money asked for a job: a real tip, never spam.
        let job = t.assess(
            "bharti ka form kab aayega? ek aadmi bol raha hai 3 lakh do to naukri pakki",
            None,
        );
        assert_ne!(job.category, NOT_A_TIP);
        // "challan kat gaya" is a fine issued: a service complaint, not money lost to fraud.
        assert_eq!(
            t.assess(
                "mera challan galat kat gaya, ise kaise cancel karein?",
                None
            )
            .category,
            NOT_A_TIP
        );
        // "the thana's staff" is the thana; telling the police is no tip-off by them.
        assert!(
            t.assess(
                "People say the thana's staff collect weekly cash from the satta boys",
                None
            )
            .police_involvement
        );
        assert!(
            !t.assess(
                "jungle wale log aaye the, bole police ko khabar di to accha nahi hoga",
                None
            )
            .police_involvement
        );
    }

    #[test]
    fn landmarks_hoaxes_and_boycotts() {
        let t = triage();
        // A police post as a landmark accuses nobody...
        let shop = t.assess(
            "Raigarh Kotwali ke saamne wali building me ek company ne RD jamwa ke office band kar diya, 300 logon ka paisa gaya",
            None,
        );
        assert!(!shop.police_involvement);
        // ...but still names the station when its own staff are accused.
        let post = t.assess(
            "कोरबी चौकी के सामने से रोज रात ट्रैक्टर में कोयला निकलता है। चौकी में हर ट्रैक्टर का 500 रुपये लेते हैं।",
            None,
        );
        assert!(post.police_involvement);
        assert_eq!(
            post.named_station.as_ref().map(StationId::as_str),
            Some("krb-korbi")
        );
        // A forwarded warning naming no place is a hoax; naming a village it is a tip.
        let hoax = t.assess(
            "Forwarded as received: bachcha chor gang shehar me aayi hai, sab groups me share karo",
            None,
        );
        assert_eq!(hoax.category, NOT_A_TIP);
        let seen = t.assess(
            "bachcha chor gang pamgarh ke gaon me aayi hai, sab groups me share karo",
            None,
        );
        assert_ne!(seen.category, NOT_A_TIP);
        // Hukka-pani band is a boycott, not a person locked up.
        assert!(
            !t.assess(
                "gaon walon ne ek budhi aurat ko dayan bata ke uska hukka pani band kar diya",
                None
            )
            .urgent_reasons
            .contains(&UrgentReason::ThreatToLife)
        );
        // Minutes matter for a robbery, not for a racket's home delivery.
        assert!(
            !t.assess(
                "sharab ki home delivery hoti hai, 20 min me bottle ghar pe",
                None
            )
            .urgent
        );
    }

    #[test]
    fn a_second_matter_a_relatives_age_and_an_armed_band() {
        let t = triage();
        // A service question, then "also" and a report: a tip.
        assert_ne!(
            t.assess(
                "FIR copy kab milegi? Also, the man who took my pump motor sells motors every Monday in Pathariya market",
                None
            )
            .category,
            NOT_A_TIP
        );
        // "cousin is 16" and "nephew (17)" are children; "bhai 2 din se" is no age.
        assert!(
            t.assess(
                "My cousin is 16, she went to coaching yesterday and has not come home, phone is off",
                None
            )
            .urgent
        );
        assert!(
            t.assess("my nephew (17) has not come home since yesterday", None)
                .urgent
        );
        // Guns carried by a band in uniform asking for food: the band, not the guns.
        assert_eq!(
            t.assess(
                "jungle ke gaon me raat ko vardi pehne das log bandook leke aaye, khana banwaya aur meeting ki",
                None
            )
            .category,
            "naxal_activity"
        );
    }

    #[test]
    fn a_town_of_several_stations_named_bare_gives_its_district() {
        let t = triage();
        let station = |text: &str| {
            let a = t.assess(text, None);
            (
                a.district.map(|d| d.as_str().to_owned()),
                a.station.map(|s| s.as_str().to_owned()),
            )
        };
        // Janjgir town has its thana and the Naila chowki: bare "Janjgir" is the district.
        assert_eq!(
            station("janjgir me ganja bikta hai"),
            (Some("janjgir_champa".into()), None)
        );
        assert_eq!(
            station("janjgir kotwali ke paas ganja bikta hai")
                .1
                .as_deref(),
            Some("jc-janjgir")
        );
        // Champa is a district alias too, but its thana has no chowki under it.
        assert_eq!(
            station("champa me ganja bikta hai").1.as_deref(),
            Some("jc-champa")
        );
    }

    #[test]
    fn ages_illness_and_minutes_ago_decide_urgency() {
        let t = triage();
        let urgent = |text: &str| t.assess(text, None).urgent;
        assert!(!urgent(
            "mera beta 25 saal ka hai, 2 din se ghar nahi aaya, phone band hai"
        ));
        assert!(urgent(
            "meri dadi 70 saal ki hain, kal se ghar nahi aayi, phone band hai"
        ));
        assert!(urgent(
            "bhai 30 saal ka hai, dimag se kamzor hai, subah se ghar nahi aaya"
        ));
        assert!(urgent("hamari 14 saal ki beti kal shaam se ghar nahi aayi"));
        assert!(urgent(
            "15 minute pehle do ladke mera mobile chheen ke bhage bazaar se"
        ));
        assert!(!urgent(
            "pichhle mahine 15 minute me do ladke mera mobile chheen ke bhage the"
        ));
        // Stopping a thing is not locking someone up.
        assert!(!urgent(
            "usne ladki ko tuition bhejna band kar diya hai, teacher galat chhoota tha"
        ));
        assert!(urgent(
            "usne ladki ko kamre me band kar diya hai, maar raha hai"
        ));
    }

    #[test]
    fn category_evidence_and_not_a_tip() {
        let t = triage();
        let a = t.assess("pirayya me brown sugr bik rha h", None);
        assert_eq!(a.category, "narcotics");
        assert_eq!(a.evidence, ["brown sugr"]);
        assert_eq!(
            a.station.as_ref().map(StationId::as_str),
            Some("bsp-sirgitti")
        );
        assert_eq!(t.assess("जय जोहार साहब जी", None).category, NOT_A_TIP);
        assert_eq!(
            t.assess(
                "jo ladka gumshuda tha wo ghar aa gaya, dhanyawad sabka",
                None
            )
            .category,
            NOT_A_TIP
        );
        // No keyword is not a reason to reject: a long message without one is `other`.
        assert_eq!(
            t.assess(
                "hamare gaon ke talab me kisi ne zeher daal diya, saari machhliyan mar gayi",
                None
            )
            .category,
            OTHER
        );
        assert_eq!(
            t.assess("गांजा बेचत हे हमर पारा म", None).language,
            Language::Chhattisgarhi
        );
    }

    #[test]
    fn folded_look_alikes_weak_collusion_and_full_scenes() {
        let t = triage();
        // No crime has any evidence: gravity must not pick murder out of zeros.
        assert_eq!(
            t.assess("is baat ka share sabko mila, koi kuch nahi bolta", None)
                .category,
            OTHER
        );
        // "pata" (to find out) folds like "patta" (a card): no gambling in a wrong number.
        assert_eq!(
            t.assess(
                "hello bhaiya, cement ki gaadi ka pata karna tha, galat number lag gaya",
                None
            )
            .category,
            NOT_A_TIP
        );
        // A gambling den fully described, the police's share only heard of: the den is the tip.
        let a = t.assess(
            "gaon ke bagiche me roz log gol ghera banake patte aur paise lagate hai, sunne me aaya police wale bhi aake paise le jate hai",
            None,
        );
        assert_eq!(a.category, "gambling_betting");
        assert_eq!(a.secondary_categories, ["corruption_collusion"]);
        // "hari patti" is ganja, not "pati" (a husband).
        assert_eq!(
            t.assess(
                "hamare gaon ke ladke ke paas hari patti aati hai, wo chhote packet bana ke bechta hai",
                None
            )
            .category,
            "narcotics"
        );
    }
}
