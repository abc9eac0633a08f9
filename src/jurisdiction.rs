//! The range's districts, police stations, units and hotline numbers, loaded from a TOML file in
//! the shape of `data/bilaspur-range.toml`. The Bilaspur range is compiled in as the default; an
//! administrator's own file replaces it. Loading validates ids and references so that the rest of
//! the program can trust them. This module holds data only: no I/O beyond reading the file.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::Deserialize;

/// The Bilaspur range, shipped with the binary.
pub const BUILTIN_TOML: &str = include_str!("../data/bilaspur-range.toml");

/// Why a jurisdiction file was refused.
#[derive(Debug, thiserror::Error)]
pub enum JurisdictionError {
    /// The file could not be read.
    #[error("cannot read jurisdiction file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not TOML of the expected shape.
    #[error("jurisdiction file is not valid: {0}")]
    Parse(#[from] toml::de::Error),
    /// The file parsed but its content is inconsistent.
    #[error("jurisdiction file is inconsistent: {0}")]
    Invalid(String),
}

/// A district id such as `korba` (lower case ASCII, digits and `_`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DistrictId(String);

impl DistrictId {
    /// Parses an id; only `[a-z0-9_]`, 1 to 64 characters.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        ok.then(|| Self(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DistrictId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A police station id such as `krb-dipka`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StationId(String);

impl StationId {
    /// Parses an id; only `[a-z0-9_-]`, 1 to 64 characters.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        ok.then(|| Self(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a station is a full thana or a chowki (outpost) under one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StationKind {
    /// A police station that registers FIRs.
    Thana,
    /// An outpost under a thana.
    Chowki,
    /// Anything else the file names (police assistance centre, ...).
    Other,
}

/// A police station or chowki with the names people use for its area.
#[derive(Clone, Debug)]
pub struct Station {
    /// Stable id.
    pub id: StationId,
    /// English name.
    pub name_en: String,
    /// Hindi name (Devanagari); may be empty when the file has none.
    pub name_hi: String,
    /// Other spellings seen in tips.
    pub aliases: Vec<String>,
    /// Thana or chowki.
    pub kind: StationKind,
    /// The thana a chowki reports to.
    pub parent: Option<StationId>,
    /// Localities and villages inside the station's area.
    pub localities: Vec<String>,
    /// A note on names that look alike but are not this station.
    pub disambiguation: Option<String>,
}

/// A specialised unit (cyber cell, crime branch, mahila thana, ...).
#[derive(Clone, Debug)]
pub struct Unit {
    /// Stable id.
    pub id: String,
    /// Unit type as the file states it (`cyber_cell`, `accu_crime_branch_cyber`, ...).
    pub kind: String,
    /// English name.
    pub name_en: String,
    /// Hindi name.
    pub name_hi: String,
}

/// A published number that reaches a district's line.
#[derive(Clone, Debug)]
pub struct Hotline {
    /// As printed on posters.
    pub display: String,
    /// E.164, e.g. `+917772808100`.
    pub e164: String,
}

/// A station named in the file without an id yet (districts formed recently).
#[derive(Clone, Debug)]
pub struct StationHint {
    /// English name.
    pub name_en: String,
    /// Hindi name.
    pub name_hi: String,
}

/// One district of the range.
#[derive(Clone, Debug)]
pub struct District {
    /// Stable id.
    pub id: DistrictId,
    /// English name.
    pub name_en: String,
    /// Hindi name.
    pub name_hi: String,
    /// Other names and spellings.
    pub aliases: Vec<String>,
    /// Numbers and accounts that land in this district's queue.
    pub hotlines: Vec<Hotline>,
    /// Stations with ids.
    pub stations: Vec<Station>,
    /// Stations known by name only.
    pub station_hints: Vec<StationHint>,
    /// Units of the district.
    pub units: Vec<Unit>,
}

/// The whole range: what tips can be routed to.
#[derive(Clone, Debug)]
pub struct Jurisdiction {
    /// Range id, e.g. `bilaspur`.
    pub range_id: String,
    /// English name of the range.
    pub range_name_en: String,
    /// Hindi name of the range.
    pub range_name_hi: String,
    /// Range-level units (the range cyber thana).
    pub range_units: Vec<Unit>,
    /// Districts in file order.
    pub districts: Vec<District>,
    /// Category id to the desks that receive it (`thana`, `cyber_cell`, ...).
    pub routing: BTreeMap<String, Vec<String>>,
}

impl Jurisdiction {
    /// The compiled-in Bilaspur range.
    pub fn builtin() -> Result<Self, JurisdictionError> {
        Self::from_toml(BUILTIN_TOML)
    }

    /// Loads and validates a file.
    pub fn load(path: &Path) -> Result<Self, JurisdictionError> {
        let text = std::fs::read_to_string(path).map_err(|source| JurisdictionError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Self, JurisdictionError> {
        let raw: raw::File = toml::from_str(text)?;
        raw.into_jurisdiction()
    }

    /// A district by id.
    pub fn district(&self, id: &str) -> Option<&District> {
        self.districts.iter().find(|d| d.id.as_str() == id)
    }

    /// The district whose published number is `e164`.
    pub fn district_for_hotline(&self, e164: &str) -> Option<&District> {
        self.districts
            .iter()
            .find(|d| d.hotlines.iter().any(|h| h.e164 == e164))
    }

    /// A station by id, with its district.
    pub fn station(&self, id: &str) -> Option<(&District, &Station)> {
        self.districts.iter().find_map(|d| {
            d.stations
                .iter()
                .find(|s| s.id.as_str() == id)
                .map(|s| (d, s))
        })
    }

    /// Number of stations with ids, over all districts.
    pub fn station_count(&self) -> usize {
        self.districts.iter().map(|d| d.stations.len()).sum()
    }
}

/// The file's shape. Unknown keys (sources, notes, confidence) are allowed and ignored: the file
/// is research data that grows; only what the program uses is typed.
mod raw {
    use super::*;

    #[derive(Deserialize)]
    pub struct File {
        range: Range,
        districts: BTreeMap<String, District>,
        #[serde(default)]
        routing: BTreeMap<String, toml::Value>,
    }

    #[derive(Deserialize)]
    struct Range {
        id: String,
        name_en: String,
        #[serde(default)]
        name_hi: String,
        #[serde(default)]
        units: Vec<Unit>,
        #[serde(default)]
        launch_districts: Vec<String>,
        #[serde(default)]
        other_districts_now_in_range: Vec<String>,
    }

    #[derive(Deserialize)]
    struct District {
        name_en: String,
        #[serde(default)]
        name_hi: String,
        #[serde(default)]
        aliases: Vec<String>,
        crime_stopper: Option<Number>,
        #[serde(default)]
        other_tip_lines: Vec<Number>,
        #[serde(default)]
        police_stations: Vec<Station>,
        #[serde(default)]
        police_stations_hint: Vec<Hint>,
        #[serde(default)]
        units: Vec<Unit>,
    }

    #[derive(Deserialize)]
    struct Number {
        #[serde(alias = "number")]
        display: String,
        e164: String,
    }

    #[derive(Deserialize)]
    struct Station {
        id: String,
        name_en: String,
        #[serde(default)]
        name_hi: String,
        #[serde(default)]
        aliases: Vec<String>,
        #[serde(rename = "type", default)]
        kind: String,
        parent: Option<String>,
        #[serde(default)]
        localities: Vec<String>,
        disambiguation: Option<String>,
    }

    #[derive(Deserialize)]
    struct Hint {
        name_en: String,
        #[serde(default)]
        name_hi: String,
    }

    #[derive(Deserialize, Clone)]
    struct Unit {
        id: String,
        #[serde(rename = "type")]
        kind: String,
        name_en: String,
        #[serde(default)]
        name_hi: String,
    }

    fn invalid(msg: String) -> JurisdictionError {
        JurisdictionError::Invalid(msg)
    }

    impl File {
        pub fn into_jurisdiction(self) -> Result<super::Jurisdiction, JurisdictionError> {
            let order = district_order(&self.range, &self.districts);
            let mut districts = Vec::with_capacity(order.len());
            let mut seen_numbers = HashSet::new();
            for id in order {
                let Some(raw) = self.districts.get(&id) else {
                    return Err(invalid(format!(
                        "range lists district `{id}` but [districts.{id}] is missing"
                    )));
                };
                let district = raw.convert(&id)?;
                for h in &district.hotlines {
                    if !seen_numbers.insert(h.e164.clone()) {
                        return Err(invalid(format!(
                            "hotline {} is given to more than one district",
                            h.e164
                        )));
                    }
                }
                districts.push(district);
            }
            if districts.is_empty() {
                return Err(invalid("the range has no districts".into()));
            }
            check_stations(&districts)?;
            Ok(super::Jurisdiction {
                range_id: self.range.id,
                range_name_en: self.range.name_en,
                range_name_hi: self.range.name_hi,
                range_units: self.range.units.into_iter().map(Unit::convert).collect(),
                districts,
                routing: routing(self.routing),
            })
        }
    }

    /// Launch districts first, then the others, then any left in the file (alphabetical).
    fn district_order(range: &Range, all: &BTreeMap<String, District>) -> Vec<String> {
        let mut order: Vec<String> = Vec::new();
        for id in range
            .launch_districts
            .iter()
            .chain(&range.other_districts_now_in_range)
        {
            if !order.contains(id) {
                order.push(id.clone());
            }
        }
        for id in all.keys() {
            if !order.contains(id) {
                order.push(id.clone());
            }
        }
        order
    }

    fn routing(raw: BTreeMap<String, toml::Value>) -> BTreeMap<String, Vec<String>> {
        raw.into_iter()
            .filter_map(|(k, v)| {
                let desks = v
                    .as_array()?
                    .iter()
                    .filter_map(|d| d.as_str().map(str::to_owned))
                    .collect();
                Some((k, desks))
            })
            .collect()
    }

    fn check_stations(districts: &[super::District]) -> Result<(), JurisdictionError> {
        let mut ids = HashSet::new();
        for s in districts.iter().flat_map(|d| &d.stations) {
            if !ids.insert(s.id.as_str()) {
                return Err(invalid(format!("station id `{}` is used twice", s.id)));
            }
        }
        for s in districts.iter().flat_map(|d| &d.stations) {
            if let Some(p) = s.parent.as_ref().filter(|p| !ids.contains(p.as_str())) {
                return Err(invalid(format!(
                    "station `{}` names parent `{p}`, which does not exist",
                    s.id
                )));
            }
        }
        Ok(())
    }

    impl District {
        fn convert(&self, id: &str) -> Result<super::District, JurisdictionError> {
            let id = DistrictId::parse(id).ok_or_else(|| {
                invalid(format!(
                    "district id `{id}` must be lower case letters, digits and _"
                ))
            })?;
            let hotlines = self
                .crime_stopper
                .iter()
                .chain(&self.other_tip_lines)
                .map(|n| n.convert(&id))
                .collect::<Result<_, _>>()?;
            let stations = self
                .police_stations
                .iter()
                .map(Station::convert)
                .collect::<Result<_, _>>()?;
            Ok(super::District {
                id,
                name_en: self.name_en.clone(),
                name_hi: self.name_hi.clone(),
                aliases: self.aliases.clone(),
                hotlines,
                stations,
                station_hints: self
                    .police_stations_hint
                    .iter()
                    .map(|h| StationHint {
                        name_en: h.name_en.clone(),
                        name_hi: h.name_hi.clone(),
                    })
                    .collect(),
                units: self.units.iter().cloned().map(Unit::convert).collect(),
            })
        }
    }

    impl Number {
        fn convert(&self, district: &DistrictId) -> Result<Hotline, JurisdictionError> {
            let digits = self.e164.strip_prefix('+').unwrap_or("");
            if digits.len() < 8 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(invalid(format!(
                    "district `{district}`: number `{}` is not in E.164 form (+ and 8 to 15 digits)",
                    self.e164
                )));
            }
            Ok(Hotline {
                display: self.display.clone(),
                e164: self.e164.clone(),
            })
        }
    }

    impl Station {
        fn convert(&self) -> Result<super::Station, JurisdictionError> {
            let id = StationId::parse(&self.id)
                .ok_or_else(|| invalid(format!("station id `{}` is not valid", self.id)))?;
            let parent = match &self.parent {
                Some(p) => Some(StationId::parse(p).ok_or_else(|| {
                    invalid(format!("station `{id}`: parent `{p}` is not valid"))
                })?),
                None => None,
            };
            let kind = match self.kind.as_str() {
                "thana" => StationKind::Thana,
                "chowki" => StationKind::Chowki,
                _ => StationKind::Other,
            };
            Ok(super::Station {
                id,
                name_en: self.name_en.clone(),
                name_hi: self.name_hi.clone(),
                aliases: self.aliases.clone(),
                kind,
                parent,
                localities: self.localities.clone(),
                disambiguation: self.disambiguation.clone(),
            })
        }
    }

    impl Unit {
        fn convert(self) -> super::Unit {
            super::Unit {
                id: self.id,
                kind: self.kind,
                name_en: self.name_en,
                name_hi: self.name_hi,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_range_loads_with_all_districts() {
        let j = Jurisdiction::builtin().unwrap();
        assert_eq!(j.range_id, "bilaspur");
        let ids: Vec<_> = j.districts.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            &ids[..5],
            ["bilaspur", "raigarh", "korba", "janjgir_champa", "mungeli"]
        );
        assert_eq!(ids.len(), 8);
        assert!(j.station_count() > 50);
        assert_eq!(
            j.district_for_hotline("+919926353146").unwrap().id.as_str(),
            "korba"
        );
        let (d, s) = j.station("krb-cseb").unwrap();
        assert_eq!(d.id.as_str(), "korba");
        assert_eq!(s.kind, StationKind::Chowki);
        assert_eq!(j.routing["cyber_fraud"][0], "cyber_cell");
    }

    #[test]
    fn refuses_unknown_parent_and_duplicate_numbers() {
        let base = r#"
[range]
id = "r"
name_en = "R"
[districts.a]
name_en = "A"
crime_stopper = { display = "1", e164 = "+911234567890" }
"#;
        assert!(Jurisdiction::from_toml(base).is_ok());
        let dup = format!(
            "{base}[districts.b]\nname_en = \"B\"\ncrime_stopper = {{ display = \"1\", e164 = \"+911234567890\" }}\n"
        );
        let err = Jurisdiction::from_toml(&dup).unwrap_err().to_string();
        assert!(err.contains("more than one district"), "{err}");
        let orphan = format!(
            "{base}[[districts.a.police_stations]]\nid = \"a-x\"\nname_en = \"X\"\ntype = \"chowki\"\nparent = \"a-none\"\n"
        );
        let err = Jurisdiction::from_toml(&orphan).unwrap_err().to_string();
        assert!(err.contains("a-none"), "{err}");
        let bad_number = base.replace("+911234567890", "12345");
        assert!(
            Jurisdiction::from_toml(&bad_number)
                .unwrap_err()
                .to_string()
                .contains("E.164")
        );
    }
}
