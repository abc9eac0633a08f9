//! The action-taken report a station or unit files: raid or not, found or not, seizures with
//! quantities, arrests, the FIR number in the CCTNS style, remarks. Parses what a form gives
//! (strings, Hindi or English, Devanagari digits) into checked values, and says every problem at
//! once with a stable code per field and reason, so the web layer can word it in either language.

use std::fmt;

use serde_json::{Value, json};

use crate::domain::text::{TextError, fold_digits, parse_bounded};

/// Most seizure rows in one report.
pub const MAX_SEIZURES: usize = 20;
/// Most arrests in one report.
pub const MAX_ARRESTS: u32 = 500;
/// Most characters of a seized item's name.
pub const ITEM_MAX_CHARS: usize = 80;
/// Most characters of the remarks.
pub const REMARKS_MAX_CHARS: usize = 2000;
/// Quantities must be below this.
pub const QUANTITY_LIMIT: f64 = 1e9;
/// Form rows beyond this are not even looked at (a forged form with a million rows).
const MAX_RAW_ROWS: usize = 100;

/// The unit a seized quantity is measured in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuantityUnit {
    /// Kilograms (ganja, ...).
    Kg,
    /// Grams (brown sugar, heroin, ...).
    Gram,
    /// Litres (liquor, mahua lahan, ...).
    Litre,
    /// Millilitres.
    Millilitre,
    /// Pieces: bottles, pouches, phones, vehicles.
    Count,
    /// Cash in rupees.
    Rupees,
}

impl QuantityUnit {
    /// Every unit.
    pub const ALL: [QuantityUnit; 6] = [
        Self::Kg,
        Self::Gram,
        Self::Litre,
        Self::Millilitre,
        Self::Count,
        Self::Rupees,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kg => "kg",
            Self::Gram => "g",
            Self::Litre => "l",
            Self::Millilitre => "ml",
            Self::Count => "count",
            Self::Rupees => "rupees",
        }
    }

    /// Parses a unit as a thana might type it: the stored names, Hindi (किलो, ग्राम, लीटर, नग,
    /// रुपये, ...) and common spellings (kilo, ltr, litres, rs, pcs, ...). Case and a trailing
    /// full stop are ignored.
    pub fn parse(raw: &str) -> Option<Self> {
        let word = raw.trim().trim_end_matches('.').trim().to_lowercase();
        let unit = match word.as_str() {
            "kg"
            | "kgs"
            | "kilo"
            | "kilos"
            | "kilogram"
            | "kilograms"
            | "kilogramme"
            | "किलो"
            | "किग्रा"
            | "कि.ग्रा"
            | "किलोग्राम" => Self::Kg,
            "g" | "gm" | "gms" | "gram" | "grams" | "gramme" | "grammes" | "ग्राम" | "ग्रा" => {
                Self::Gram
            }
            "l" | "ltr" | "ltrs" | "lit" | "litre" | "litres" | "liter" | "liters" | "लीटर"
            | "लिटर" | "ली" => Self::Litre,
            "ml"
            | "mls"
            | "millilitre"
            | "millilitres"
            | "milliliter"
            | "milliliters"
            | "मिली"
            | "मि.ली"
            | "मिलीलीटर"
            | "मिलीलिटर" => Self::Millilitre,
            "count" | "pcs" | "pc" | "piece" | "pieces" | "nos" | "no" | "number" | "numbers"
            | "unit" | "units" | "bottle" | "bottles" | "pouch" | "pouches" | "नग" | "संख्या"
            | "पीस" | "बोतल" | "पाउच" => Self::Count,
            "rupees" | "rupee" | "rs" | "inr" | "₹" | "रुपये" | "रुपए" | "रूपये" | "रु" => {
                Self::Rupees
            }
            _ => return None,
        };
        Some(unit)
    }
}

/// One thing seized.
#[derive(Clone, Debug, PartialEq)]
pub struct Seizure {
    /// What it is ("गांजा", "देशी शराब", "cash"): 1 to 80 characters.
    pub item: String,
    /// How much: positive, finite, below a billion.
    pub quantity: f64,
    /// In what.
    pub unit: QuantityUnit,
}

/// An FIR (or case) number in the CCTNS style, stored normalised as `123/2026`: a number from 1
/// to 99999 and a year from 2000 to 2100.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FirNumber(String);

impl FirNumber {
    /// Parses what a thana typed: `123/2026`, `FIR 123/2026`, `FIR No. 0123 / 2026`,
    /// `अपराध क्रमांक १२३/२०२६`. A prefix of words before the number is dropped.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.chars().count() > 60 {
            return None;
        }
        let text = raw.trim();
        let start = text.find(is_digit)?;
        let (prefix, rest) = text.split_at(start);
        let prefix_ok = prefix.chars().all(|c| {
            (c.is_alphabetic() || ('\u{0900}'..='\u{097F}').contains(&c) || " .:#-".contains(c))
                && !is_digit(c)
        });
        let (number, year) = rest.split_once('/')?;
        let (number, year) = (digits_only(number)?, digits_only(year)?);
        let number: u32 = number.trim_start_matches('0').parse().ok()?;
        let year_ok = year.len() == 4
            && year
                .parse::<u32>()
                .is_ok_and(|y| (2000..=2100).contains(&y));
        (prefix_ok && (1..=99_999).contains(&number) && year_ok)
            .then(|| Self(format!("{number}/{year}")))
    }

    /// The normalised number, `123/2026`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('\u{0966}'..='\u{096F}').contains(&c)
}

/// The ASCII digits of a part that must be digits alone (surrounding spaces allowed).
fn digits_only(part: &str) -> Option<String> {
    let part = part.trim();
    (!part.is_empty() && part.len() <= 30 && part.chars().all(is_digit)).then(|| fold_digits(part))
}

/// The checked action-taken report.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionReport {
    /// A raid (or search) was carried out.
    pub raid_done: bool,
    /// What the tip described was found. Only with a raid.
    pub found: bool,
    /// What was seized, at most 20 rows. Only when something was found.
    pub seizures: Vec<Seizure>,
    /// People arrested, at most 500.
    pub arrests: u32,
    /// The FIR registered, if any.
    pub fir_number: Option<FirNumber>,
    /// Free remarks, at most 2000 characters.
    pub remarks: Option<String>,
}

/// What a form gives: strings; `yes`/`no`; seizure rows as three parallel lists, of which rows
/// with all three blank are skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawActionReport {
    /// `yes` or `no` (Hindi हाँ / नहीं also).
    pub raid_done: Option<String>,
    /// `yes` or `no`; may be left out when no raid was done.
    pub found: Option<String>,
    /// Item of each seizure row.
    pub seizure_items: Vec<String>,
    /// Quantity of each row: digits (ASCII or Devanagari) and a decimal point.
    pub seizure_quantities: Vec<String>,
    /// Unit of each row (see `QuantityUnit::parse`).
    pub seizure_units: Vec<String>,
    /// Number of arrests; blank means none.
    pub arrests: Option<String>,
    /// FIR number; blank means none.
    pub fir_number: Option<String>,
    /// Remarks; blank means none.
    pub remarks: Option<String>,
}

/// A field of the report form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutcomeField {
    /// Raid done.
    RaidDone,
    /// Found.
    Found,
    /// The seizure rows as a whole.
    Seizures,
    /// A seizure row's item.
    SeizureItem,
    /// A seizure row's quantity.
    SeizureQuantity,
    /// A seizure row's unit.
    SeizureUnit,
    /// Arrests.
    Arrests,
    /// FIR number.
    FirNumber,
    /// Remarks.
    Remarks,
}

impl OutcomeField {
    /// The stable code (form field name and message key).
    pub fn code(self) -> &'static str {
        match self {
            Self::RaidDone => "raid_done",
            Self::Found => "found",
            Self::Seizures => "seizures",
            Self::SeizureItem => "seizure_item",
            Self::SeizureQuantity => "seizure_quantity",
            Self::SeizureUnit => "seizure_unit",
            Self::Arrests => "arrests",
            Self::FirNumber => "fir_number",
            Self::Remarks => "remarks",
        }
    }
}

/// Why a field was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutcomeReason {
    /// Required and left blank.
    Missing,
    /// Not `yes` or `no`.
    NotYesOrNo,
    /// Not a number (or not in the accepted form).
    NotANumber,
    /// Zero or negative.
    NotPositive,
    /// Above the limit (or too many rows).
    TooLarge,
    /// Longer than allowed.
    TooLong,
    /// Contains control characters.
    ControlCharacters,
    /// A unit we do not know.
    UnknownUnit,
    /// Not an FIR number like `123/2026`.
    NotAnFirNumber,
    /// "Found" without a raid.
    FoundWithoutRaid,
    /// Seizures without anything found.
    SeizuresWithoutFind,
}

impl OutcomeReason {
    /// The stable code (message key).
    pub fn code(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::NotYesOrNo => "not_yes_or_no",
            Self::NotANumber => "not_a_number",
            Self::NotPositive => "not_positive",
            Self::TooLarge => "too_large",
            Self::TooLong => "too_long",
            Self::ControlCharacters => "control_characters",
            Self::UnknownUnit => "unknown_unit",
            Self::NotAnFirNumber => "not_an_fir_number",
            Self::FoundWithoutRaid => "found_without_raid",
            Self::SeizuresWithoutFind => "seizures_without_find",
        }
    }

    fn english(self) -> &'static str {
        match self {
            Self::Missing => "is required",
            Self::NotYesOrNo => "must be yes or no",
            Self::NotANumber => "must be a number",
            Self::NotPositive => "must be more than zero",
            Self::TooLarge => "is too large",
            Self::TooLong => "is too long",
            Self::ControlCharacters => "contains control characters",
            Self::UnknownUnit => "is not a known unit (kg, g, l, ml, count, rupees)",
            Self::NotAnFirNumber => "must look like 123/2026",
            Self::FoundWithoutRaid => "can only be yes when a raid was done",
            Self::SeizuresWithoutFind => "can only be given when something was found",
        }
    }
}

impl From<TextError> for OutcomeReason {
    fn from(e: TextError) -> Self {
        match e {
            TextError::Empty => Self::Missing,
            TextError::TooLong => Self::TooLong,
            TextError::ControlCharacters => Self::ControlCharacters,
        }
    }
}

/// One problem with a report: which field (and seizure row, counted from 1), and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub struct OutcomeError {
    /// The field.
    pub field: OutcomeField,
    /// The seizure row, counted from 1, for the seizure fields.
    pub row: Option<usize>,
    /// Why.
    pub reason: OutcomeReason,
}

impl OutcomeError {
    /// The reason's stable code; with `field.code()` it names the message to show.
    pub fn code(&self) -> &'static str {
        self.reason.code()
    }

    fn new(field: OutcomeField, reason: OutcomeReason) -> Self {
        Self {
            field,
            row: None,
            reason,
        }
    }
}

impl fmt::Display for OutcomeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.field.code().replace('_', " ");
        match self.row {
            Some(row) => write!(f, "{field} (row {row}) {}", self.reason.english()),
            None => write!(f, "{field} {}", self.reason.english()),
        }
    }
}

impl ActionReport {
    /// Checks a submitted form, returning every problem found (not only the first).
    pub fn parse(raw: &RawActionReport) -> Result<Self, Vec<OutcomeError>> {
        let mut errors = Vec::new();
        let raid_done = match yes_no(raw.raid_done.as_deref()) {
            Ok(Some(v)) => v,
            Ok(None) => fail(&mut errors, OutcomeField::RaidDone, OutcomeReason::Missing),
            Err(r) => fail(&mut errors, OutcomeField::RaidDone, r),
        };
        let found = match yes_no(raw.found.as_deref()) {
            Ok(Some(v)) => v,
            Ok(None) if raid_done => fail(&mut errors, OutcomeField::Found, OutcomeReason::Missing),
            Ok(None) => false,
            Err(r) => fail(&mut errors, OutcomeField::Found, r),
        };
        if found && !raid_done && errors.is_empty() {
            errors.push(OutcomeError::new(
                OutcomeField::Found,
                OutcomeReason::FoundWithoutRaid,
            ));
        }
        let seizures = parse_seizures(raw, &mut errors);
        if !seizures.is_empty() && !found {
            errors.push(OutcomeError::new(
                OutcomeField::Seizures,
                OutcomeReason::SeizuresWithoutFind,
            ));
        }
        let arrests = parse_arrests(raw.arrests.as_deref()).unwrap_or_else(|r| {
            errors.push(OutcomeError::new(OutcomeField::Arrests, r));
            0
        });
        let fir_number = match non_blank(raw.fir_number.as_deref()) {
            None => None,
            Some(text) => FirNumber::parse(text).or_else(|| {
                let e = OutcomeError::new(OutcomeField::FirNumber, OutcomeReason::NotAnFirNumber);
                errors.push(e);
                None
            }),
        };
        let remarks = match non_blank(raw.remarks.as_deref()) {
            None => None,
            Some(text) => parse_bounded(text, REMARKS_MAX_CHARS)
                .map_err(|e| errors.push(OutcomeError::new(OutcomeField::Remarks, e.into())))
                .ok(),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            raid_done,
            found,
            seizures,
            arrests,
            fir_number,
            remarks,
        })
    }

    /// The report as stored and shown: `{"raid_done", "found", "seizures": [{"item",
    /// "quantity", "unit"}], "arrests", "fir_number", "remarks"}`.
    pub fn to_json(&self) -> Value {
        let seizures: Vec<Value> = self
            .seizures
            .iter()
            .map(|s| json!({"item": s.item, "quantity": s.quantity, "unit": s.unit.as_str()}))
            .collect();
        json!({
            "raid_done": self.raid_done,
            "found": self.found,
            "seizures": seizures,
            "arrests": self.arrests,
            "fir_number": self.fir_number.as_ref().map(FirNumber::as_str),
            "remarks": self.remarks,
        })
    }

    /// Reads back what `to_json` wrote, checking it again as if it came from the form.
    pub fn from_json(value: &Value) -> Option<Self> {
        let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
        let flag = |k: &str| value.get(k).and_then(Value::as_bool).map(yes_or_no);
        let rows = value.get("seizures")?.as_array()?;
        let row = |k: &str, r: &Value| match r.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let raw = RawActionReport {
            raid_done: flag("raid_done"),
            found: flag("found"),
            seizure_items: rows.iter().map(|r| row("item", r)).collect(),
            seizure_quantities: rows.iter().map(|r| row("quantity", r)).collect(),
            seizure_units: rows.iter().map(|r| row("unit", r)).collect(),
            arrests: value
                .get("arrests")
                .and_then(Value::as_u64)
                .map(|n| n.to_string()),
            fir_number: text("fir_number"),
            remarks: text("remarks"),
        };
        Self::parse(&raw).ok()
    }
}

fn fail(errors: &mut Vec<OutcomeError>, field: OutcomeField, reason: OutcomeReason) -> bool {
    errors.push(OutcomeError::new(field, reason));
    false
}

fn yes_or_no(v: bool) -> String {
    if v { "yes" } else { "no" }.to_owned()
}

fn non_blank(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|s| !s.is_empty())
}

/// `Ok(None)` when blank.
fn yes_no(raw: Option<&str>) -> Result<Option<bool>, OutcomeReason> {
    let Some(word) = non_blank(raw) else {
        return Ok(None);
    };
    match word.to_lowercase().as_str() {
        "yes" | "हाँ" | "हां" => Ok(Some(true)),
        "no" | "नहीं" => Ok(Some(false)),
        _ => Err(OutcomeReason::NotYesOrNo),
    }
}

fn parse_seizures(raw: &RawActionReport, errors: &mut Vec<OutcomeError>) -> Vec<Seizure> {
    let (items, quantities, units) = (
        &raw.seizure_items,
        &raw.seizure_quantities,
        &raw.seizure_units,
    );
    let rows = items.len().max(quantities.len()).max(units.len());
    if rows > MAX_RAW_ROWS {
        errors.push(OutcomeError::new(
            OutcomeField::Seizures,
            OutcomeReason::TooLarge,
        ));
        return Vec::new();
    }
    let cell = |v: &Vec<String>, i: usize| v.get(i).map_or("", |s| s.trim()).to_owned();
    let mut seizures = Vec::new();
    for i in 0..rows {
        let (item, quantity, unit) = (cell(items, i), cell(quantities, i), cell(units, i));
        if item.is_empty() && quantity.is_empty() && unit.is_empty() {
            continue;
        }
        let mut row_error = |field, reason| {
            errors.push(OutcomeError {
                field,
                row: Some(i + 1),
                reason,
            })
        };
        let item = parse_bounded(&item, ITEM_MAX_CHARS)
            .map_err(|e| row_error(OutcomeField::SeizureItem, e.into()))
            .ok();
        let quantity = parse_quantity(&quantity)
            .map_err(|r| row_error(OutcomeField::SeizureQuantity, r))
            .ok();
        let unit = if unit.is_empty() {
            Err(OutcomeReason::Missing)
        } else {
            QuantityUnit::parse(&unit).ok_or(OutcomeReason::UnknownUnit)
        }
        .map_err(|r| row_error(OutcomeField::SeizureUnit, r))
        .ok();
        if let (Some(item), Some(quantity), Some(unit)) = (item, quantity, unit) {
            seizures.push(Seizure {
                item,
                quantity,
                unit,
            });
        }
    }
    if seizures.len() > MAX_SEIZURES {
        errors.push(OutcomeError::new(
            OutcomeField::Seizures,
            OutcomeReason::TooLarge,
        ));
    }
    seizures
}

/// A positive decimal below a billion: ASCII or Devanagari digits, one decimal point, commas
/// as thousands separators (Indian `1,00,000` or Western `100,000`) ignored.
fn parse_quantity(raw: &str) -> Result<f64, OutcomeReason> {
    if raw.is_empty() {
        return Err(OutcomeReason::Missing);
    }
    if raw.chars().count() > 40 {
        return Err(OutcomeReason::NotANumber);
    }
    let mut ascii = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            ',' => {}
            '.' => ascii.push('.'),
            c if is_digit(c) => ascii.push_str(&fold_digits(&c.to_string())),
            _ => return Err(OutcomeReason::NotANumber),
        }
    }
    let points = ascii.matches('.').count();
    if points > 1 || !ascii.contains(|c: char| c.is_ascii_digit()) {
        return Err(OutcomeReason::NotANumber);
    }
    let value: f64 = ascii.parse().map_err(|_| OutcomeReason::NotANumber)?;
    if !value.is_finite() {
        return Err(OutcomeReason::NotANumber);
    }
    if value <= 0.0 {
        return Err(OutcomeReason::NotPositive);
    }
    if value >= QUANTITY_LIMIT {
        return Err(OutcomeReason::TooLarge);
    }
    Ok(value)
}

/// Blank is none; else digits (ASCII or Devanagari) up to 500.
fn parse_arrests(raw: Option<&str>) -> Result<u32, OutcomeReason> {
    let Some(text) = non_blank(raw) else {
        return Ok(0);
    };
    if !text.chars().all(is_digit) {
        return Err(OutcomeReason::NotANumber);
    }
    let digits = fold_digits(text);
    let digits = digits.trim_start_matches('0');
    if digits.len() > 3 {
        return Err(OutcomeReason::TooLarge);
    }
    let n: u32 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| OutcomeReason::NotANumber)?
    };
    if n > MAX_ARRESTS {
        return Err(OutcomeReason::TooLarge);
    }
    Ok(n)
}

#[cfg(test)]
mod tests;
