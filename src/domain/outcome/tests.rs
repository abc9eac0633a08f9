//! The action-taken report parser, with the Hindi a thana types.

use super::*;

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn raw(raid: &str, found: &str) -> RawActionReport {
    RawActionReport {
        raid_done: Some(raid.to_owned()),
        found: Some(found.to_owned()),
        ..RawActionReport::default()
    }
}

fn reasons(raw: &RawActionReport) -> Vec<(OutcomeField, Option<usize>, OutcomeReason)> {
    ActionReport::parse(raw)
        .unwrap_err()
        .into_iter()
        .map(|e| (e.field, e.row, e.reason))
        .collect()
}

#[test]
fn a_full_hindi_report_parses() {
    let form = RawActionReport {
        raid_done: Some("हाँ".to_owned()),
        found: Some("हां".to_owned()),
        seizure_items: strings(&["गांजा", "", "महुआ शराब", "नकद"]),
        seizure_quantities: strings(&["२.५", "", "४५", "१२,५००"]),
        seizure_units: strings(&["किलो", "", "लीटर", "रुपये"]),
        arrests: Some("२".to_owned()),
        fir_number: Some("अपराध क्रमांक १२३/२०२६".to_owned()),
        remarks: Some("  आरोपी के घर से बरामद  ".to_owned()),
    };
    let report = ActionReport::parse(&form).unwrap();
    assert!(report.raid_done && report.found);
    assert_eq!(
        report.seizures,
        vec![
            Seizure {
                item: "गांजा".to_owned(),
                quantity: 2.5,
                unit: QuantityUnit::Kg
            },
            Seizure {
                item: "महुआ शराब".to_owned(),
                quantity: 45.0,
                unit: QuantityUnit::Litre
            },
            Seizure {
                item: "नकद".to_owned(),
                quantity: 12500.0,
                unit: QuantityUnit::Rupees
            },
        ]
    );
    assert_eq!(report.arrests, 2);
    assert_eq!(report.fir_number.as_ref().unwrap().as_str(), "123/2026");
    assert_eq!(report.remarks.as_deref(), Some("आरोपी के घर से बरामद"));
    let json = report.to_json();
    assert_eq!(json["seizures"][0]["unit"], "kg");
    assert_eq!(json["seizures"][2]["quantity"], 12500.0);
    assert_eq!(json["fir_number"], "123/2026");
    assert_eq!(ActionReport::from_json(&json), Some(report));
}

#[test]
fn a_raid_with_nothing_found_is_short() {
    let report = ActionReport::parse(&raw("no", "")).unwrap();
    assert_eq!(
        report,
        ActionReport {
            raid_done: false,
            found: false,
            seizures: vec![],
            arrests: 0,
            fir_number: None,
            remarks: None
        }
    );
    let json = report.to_json();
    assert_eq!(json["fir_number"], Value::Null);
    assert_eq!(ActionReport::from_json(&json), Some(report));
    assert!(ActionReport::parse(&raw("yes", "no")).is_ok());
}

#[test]
fn found_needs_a_raid_and_seizures_need_a_find() {
    use OutcomeField as F;
    use OutcomeReason as R;
    assert_eq!(
        reasons(&raw("no", "yes")),
        [(F::Found, None, R::FoundWithoutRaid)]
    );
    let mut form = raw("yes", "no");
    form.seizure_items = strings(&["ganja"]);
    form.seizure_quantities = strings(&["1"]);
    form.seizure_units = strings(&["kg"]);
    assert_eq!(
        reasons(&form),
        [(F::Seizures, None, R::SeizuresWithoutFind)]
    );
    assert_eq!(
        reasons(&RawActionReport::default()),
        [(F::RaidDone, None, R::Missing)]
    );
    assert_eq!(reasons(&raw("yes", " ")), [(F::Found, None, R::Missing)]);
    assert_eq!(
        reasons(&raw("maybe", "no")),
        [(F::RaidDone, None, R::NotYesOrNo)]
    );
}

#[test]
fn every_problem_is_reported_with_its_row() {
    use OutcomeField as F;
    use OutcomeReason as R;
    let mut form = raw("yes", "yes");
    form.seizure_items = strings(&["ganja", "", "liquor", "cash", &"x".repeat(81)]);
    form.seizure_quantities = strings(&["0", "", "1.2.3", "-5", "1"]);
    form.seizure_units = strings(&["kg", "", "barrel", "", "kg"]);
    form.arrests = Some("501".to_owned());
    form.fir_number = Some("123/26".to_owned());
    form.remarks = Some("a\u{0007}b".to_owned());
    let got = reasons(&form);
    assert_eq!(
        got,
        [
            (F::SeizureQuantity, Some(1), R::NotPositive),
            (F::SeizureQuantity, Some(3), R::NotANumber),
            (F::SeizureUnit, Some(3), R::UnknownUnit),
            (F::SeizureQuantity, Some(4), R::NotANumber),
            (F::SeizureUnit, Some(4), R::Missing),
            (F::SeizureItem, Some(5), R::TooLong),
            (F::Arrests, None, R::TooLarge),
            (F::FirNumber, None, R::NotAnFirNumber),
            (F::Remarks, None, R::ControlCharacters),
        ]
    );
    let err = ActionReport::parse(&form).unwrap_err();
    assert_eq!(err[0].code(), "not_positive");
    assert_eq!(err[0].field.code(), "seizure_quantity");
    assert_eq!(
        err[0].to_string(),
        "seizure quantity (row 1) must be more than zero"
    );
}

#[test]
fn seizure_rows_are_bounded() {
    let mut form = raw("yes", "yes");
    form.seizure_items = vec!["ganja".to_owned(); 21];
    form.seizure_quantities = vec!["1".to_owned(); 21];
    form.seizure_units = vec!["kg".to_owned(); 21];
    assert_eq!(
        reasons(&form),
        [(OutcomeField::Seizures, None, OutcomeReason::TooLarge)]
    );
    form.seizure_items.truncate(20);
    assert!(ActionReport::parse(&form).is_err(), "row 21 has no item");
    form.seizure_quantities.truncate(20);
    form.seizure_units.truncate(20);
    assert_eq!(ActionReport::parse(&form).unwrap().seizures.len(), 20);
    // A forged form with very many blank rows is refused before any row is read.
    form.seizure_units = vec![String::new(); 10_000];
    assert_eq!(
        reasons(&form),
        [(OutcomeField::Seizures, None, OutcomeReason::TooLarge)]
    );
}

#[test]
fn quantities_take_devanagari_digits_and_a_decimal_point() {
    assert_eq!(parse_quantity("१.२५"), Ok(1.25));
    assert_eq!(parse_quantity("0.5"), Ok(0.5));
    assert_eq!(parse_quantity(".5"), Ok(0.5));
    assert_eq!(parse_quantity("1,00,000"), Ok(100_000.0));
    assert_eq!(parse_quantity("999999999.9"), Ok(999_999_999.9));
    assert_eq!(parse_quantity("1000000000"), Err(OutcomeReason::TooLarge));
    assert_eq!(parse_quantity("0.0"), Err(OutcomeReason::NotPositive));
    for bad in ["1e5", "inf", "NaN", "-1", "1.2.3", ".", "2 kg", "١٢"] {
        assert_eq!(parse_quantity(bad), Err(OutcomeReason::NotANumber), "{bad}");
    }
}

#[test]
fn units_take_hindi_and_common_spellings() {
    use QuantityUnit::*;
    let cases = [
        ("kg", Kg),
        ("KG.", Kg),
        ("kilo", Kg),
        ("किलो", Kg),
        ("किलोग्राम", Kg),
        ("g", Gram),
        ("gm", Gram),
        ("ग्राम", Gram),
        ("l", Litre),
        ("ltr", Litre),
        ("litres", Litre),
        ("Liters", Litre),
        ("लीटर", Litre),
        ("ml", Millilitre),
        ("मिलीलीटर", Millilitre),
        ("count", Count),
        ("pcs", Count),
        ("नग", Count),
        ("बोतल", Count),
        ("rupees", Rupees),
        ("Rs.", Rupees),
        ("₹", Rupees),
        ("रुपये", Rupees),
    ];
    for (text, unit) in cases {
        assert_eq!(QuantityUnit::parse(text), Some(unit), "{text}");
    }
    for unit in QuantityUnit::ALL {
        assert_eq!(QuantityUnit::parse(unit.as_str()), Some(unit));
    }
    assert_eq!(QuantityUnit::parse("barrel"), None);
    assert_eq!(QuantityUnit::parse(""), None);
}

#[test]
fn fir_numbers_are_normalised() {
    let ok = [
        ("123/2026", "123/2026"),
        ("FIR 123/2026", "123/2026"),
        ("fir no. 0123 / 2026", "123/2026"),
        ("Cr. No.: 45/2025", "45/2025"),
        ("१२३/२०२६", "123/2026"),
        ("एफ.आई.आर. 7/2024", "7/2024"),
        (" 99999/2100 ", "99999/2100"),
    ];
    for (text, want) in ok {
        assert_eq!(
            FirNumber::parse(text).map(|f| f.0),
            Some(want.to_owned()),
            "{text}"
        );
    }
    for bad in [
        "",
        "123",
        "0/2026",
        "100000/2026",
        "123/26",
        "123/1999",
        "123/2101",
        "123/2026/1",
        "12 3/2026",
        "123-2026",
        "FIR 1/2026 extra",
        "<b>1</b>/2026",
    ] {
        assert_eq!(FirNumber::parse(bad), None, "{bad}");
    }
}

#[test]
fn arrests_are_bounded_digits() {
    assert_eq!(parse_arrests(None), Ok(0));
    assert_eq!(parse_arrests(Some("  ")), Ok(0));
    assert_eq!(parse_arrests(Some("०")), Ok(0));
    assert_eq!(parse_arrests(Some("५००")), Ok(500));
    assert_eq!(parse_arrests(Some("0003")), Ok(3));
    assert_eq!(parse_arrests(Some("501")), Err(OutcomeReason::TooLarge));
    assert_eq!(
        parse_arrests(Some("99999999999999999999")),
        Err(OutcomeReason::TooLarge)
    );
    assert_eq!(parse_arrests(Some("-1")), Err(OutcomeReason::NotANumber));
    assert_eq!(parse_arrests(Some("two")), Err(OutcomeReason::NotANumber));
}
