//! The issue's triage targets, measured on the labelled sample (tests/data/tips-dev.jsonl, a copy
//! of the shared file) and, as a guard against tuning to it, reported on the held-out tips written
//! before tuning (tests/data/tips-heldout.jsonl).

#![allow(clippy::unwrap_used)]

use tipline::jurisdiction::Jurisdiction;
use tipline::lexicon::Lexicon;
use tipline::triage::Triage;
use tipline::triage::cli::labels_of;
use tipline::triage::eval::{Labels, Report, evaluate};

#[derive(serde::Deserialize)]
struct Tip {
    text: String,
    hotline_district: Option<String>,
    labels: Labels,
}

fn report(file: &str) -> Report {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let triage = Triage::new(
        &Jurisdiction::builtin().unwrap(),
        &Lexicon::builtin().unwrap(),
    )
    .unwrap();
    let tips: Vec<Tip> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let predicted: Vec<Labels> = tips
        .iter()
        .map(|t| labels_of(&triage.assess(&t.text, t.hotline_district.as_deref())))
        .collect();
    let pairs: Vec<(&Labels, &Labels)> = tips.iter().map(|t| &t.labels).zip(&predicted).collect();
    evaluate(&pairs)
}

#[test]
fn dev_sample_meets_the_issue_targets() {
    let r = report("tips-dev.jsonl");
    println!("{}", r.text);
    let failed: Vec<_> = r
        .targets
        .iter()
        .filter(|t| !t.3)
        .map(|t| format!("{} = {:.3}", t.0, t.1))
        .collect();
    assert!(
        failed.is_empty(),
        "targets missed on tips-dev.jsonl: {failed:?}"
    );
}

#[test]
fn held_out_tips_keep_the_safety_targets() {
    let r = report("tips-heldout.jsonl");
    println!("{}", r.text);
    // The held-out file is small (45 tips) and was written before tuning; it guards the targets
    // whose failure harms people most: a real tip called spam, and a wrong station.
    for name in [
        "not_a_tip precision >= 0.95",
        "station precision >= 0.95",
        "category accuracy >= 0.90",
    ] {
        let t = r.targets.iter().find(|t| t.0 == name).unwrap();
        assert!(t.3, "{name}: {:.3}", t.1);
    }
}
