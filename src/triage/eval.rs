//! Scoring triage output against labelled tips (data/README.md labels): per-label accuracy,
//! precision, recall and F1, a category confusion table, and the targets. Pure: takes
//! label pairs, returns a report; reading files is the CLI's job.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// The label fields of one tip (data/README.md), gold or predicted.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Labels {
    /// Main category.
    pub category: String,
    /// Secondary categories.
    #[serde(default)]
    pub secondary_categories: Vec<String>,
    /// District id.
    pub district: Option<String>,
    /// Station id.
    pub station: Option<String>,
    /// Urgent.
    pub urgent: bool,
    /// Police involvement alleged.
    pub police_involvement: bool,
    /// The station accused.
    pub named_station: Option<String>,
    /// Language label.
    pub language: String,
}

/// Counts for a binary or "is it set and right" measure.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    /// Predicted and right.
    pub tp: usize,
    /// Predicted and wrong.
    pub fp: usize,
    /// Missed.
    pub fn_: usize,
    /// Items.
    pub n: usize,
    /// Items where prediction equals gold (including both empty).
    pub exact: usize,
}

impl Counts {
    /// Share of items exactly right.
    pub fn accuracy(&self) -> f64 {
        ratio(self.exact, self.n)
    }
    /// Share of predictions that are right.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    /// Share of gold items found.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Counts for an optional value: a prediction counts as positive when set; right when equal.
fn optional(pairs: &[(&Labels, &Labels)], get: impl Fn(&Labels) -> Option<&str>) -> Counts {
    let mut c = Counts {
        n: pairs.len(),
        ..Counts::default()
    };
    for (gold, pred) in pairs {
        let (g, p) = (get(gold), get(pred));
        c.exact += usize::from(g == p);
        match (g, p) {
            (Some(g), Some(p)) if g == p => c.tp += 1,
            (g, Some(_)) => {
                c.fp += 1;
                c.fn_ += usize::from(g.is_some());
            }
            (Some(_), None) => c.fn_ += 1,
            (None, None) => {}
        }
    }
    c
}

fn binary(pairs: &[(&Labels, &Labels)], get: impl Fn(&Labels) -> bool) -> Counts {
    optional(pairs, |l| get(l).then_some("yes"))
}

/// The full evaluation of a labelled file.
#[derive(Debug)]
pub struct Report {
    /// The printable report.
    pub text: String,
    /// Whether every target passed.
    pub all_pass: bool,
    /// Target name, value, threshold, pass.
    pub targets: Vec<(String, f64, f64, bool)>,
}

/// Scores predictions against gold labels (pairs in file order).
pub fn evaluate(pairs: &[(&Labels, &Labels)]) -> Report {
    let mut out = String::new();
    let n = pairs.len();
    let _ = writeln!(out, "tips: {n}\n");
    let _ = writeln!(
        out,
        "{:<28} {:>8} {:>9} {:>7} {:>6}",
        "label", "accuracy", "precision", "recall", "F1"
    );
    let category = optional(pairs, |l| Some(l.category.as_str()));
    let district = optional(pairs, |l| l.district.as_deref());
    let station = optional(pairs, |l| l.station.as_deref());
    let urgent = binary(pairs, |l| l.urgent);
    let police = binary(pairs, |l| l.police_involvement);
    let named = optional(pairs, |l| l.named_station.as_deref());
    let language = optional(pairs, |l| Some(l.language.as_str()));
    let not_a_tip = binary(pairs, |l| l.category == "not_a_tip");
    let secondary = secondary_counts(pairs);
    let involved: Vec<(&Labels, &Labels)> = pairs
        .iter()
        .filter(|(g, _)| g.police_involvement)
        .copied()
        .collect();
    let named_exact = optional(&involved, |l| l.named_station.as_deref()).accuracy();
    for (name, c) in [
        ("category", category),
        ("secondary_categories", secondary),
        ("district", district),
        ("station", station),
        ("urgent", urgent),
        ("police_involvement", police),
        ("named_station", named),
        ("language", language),
        ("category=not_a_tip", not_a_tip),
    ] {
        let _ = writeln!(
            out,
            "{name:<28} {:>8.3} {:>9.3} {:>7.3} {:>6.3}",
            c.accuracy(),
            c.precision(),
            c.recall(),
            c.f1()
        );
    }
    let _ = writeln!(
        out,
        "named_station exact on police-involvement tips: {named_exact:.3} ({} tips)",
        involved.len()
    );
    out.push('\n');
    out.push_str(&per_category(pairs));
    out.push('\n');
    out.push_str(&confusion(pairs));
    let targets = vec![
        (
            "category accuracy >= 0.90".to_owned(),
            category.accuracy(),
            0.90,
        ),
        (
            "station precision >= 0.95".to_owned(),
            station.precision(),
            0.95,
        ),
        ("station recall >= 0.85".to_owned(), station.recall(), 0.85),
        (
            "district accuracy >= 0.95".to_owned(),
            district.accuracy(),
            0.95,
        ),
        ("urgent recall >= 0.90".to_owned(), urgent.recall(), 0.90),
        (
            "urgent precision >= 0.80".to_owned(),
            urgent.precision(),
            0.80,
        ),
        (
            "police_involvement recall >= 0.95".to_owned(),
            police.recall(),
            0.95,
        ),
        (
            "police_involvement precision >= 0.85".to_owned(),
            police.precision(),
            0.85,
        ),
        ("named_station exact >= 0.90".to_owned(), named_exact, 0.90),
        (
            "not_a_tip precision >= 0.95".to_owned(),
            not_a_tip.precision(),
            0.95,
        ),
    ];
    let targets: Vec<(String, f64, f64, bool)> = targets
        .into_iter()
        .map(|(t, v, min)| (t, v, min, v >= min))
        .collect();
    let _ = writeln!(out, "\ntargets (issue 5):");
    for (t, v, _, pass) in &targets {
        let _ = writeln!(
            out,
            "  {} {t:<40} {v:.3}",
            if *pass { "PASS" } else { "FAIL" }
        );
    }
    let all_pass = targets.iter().all(|t| t.3);
    Report {
        text: out,
        all_pass,
        targets,
    }
}

fn secondary_counts(pairs: &[(&Labels, &Labels)]) -> Counts {
    let mut c = Counts {
        n: pairs.len(),
        ..Counts::default()
    };
    for (g, p) in pairs {
        let mut gs = g.secondary_categories.clone();
        let mut ps = p.secondary_categories.clone();
        gs.sort();
        ps.sort();
        c.exact += usize::from(gs == ps);
        c.tp += ps.iter().filter(|x| gs.contains(x)).count();
        c.fp += ps.iter().filter(|x| !gs.contains(x)).count();
        c.fn_ += gs.iter().filter(|x| !ps.contains(x)).count();
    }
    c
}

fn per_category(pairs: &[(&Labels, &Labels)]) -> String {
    let mut out = String::new();
    let mut ids: Vec<&str> = pairs
        .iter()
        .flat_map(|(g, p)| [g.category.as_str(), p.category.as_str()])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let _ = writeln!(
        out,
        "{:<30} {:>4} {:>9} {:>7} {:>6}",
        "category", "n", "precision", "recall", "F1"
    );
    for id in ids {
        let c = binary(pairs, |l| l.category == id);
        let _ = writeln!(
            out,
            "{id:<30} {:>4} {:>9.3} {:>7.3} {:>6.3}",
            c.tp + c.fn_,
            c.precision(),
            c.recall(),
            c.f1()
        );
    }
    out
}

fn confusion(pairs: &[(&Labels, &Labels)]) -> String {
    let mut table: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (g, p) in pairs {
        *table
            .entry((g.category.as_str(), p.category.as_str()))
            .or_default() += 1;
    }
    let mut out = String::from("category confusion (gold -> predicted, off-diagonal only):\n");
    let mut wrong: Vec<_> = table.iter().filter(|((g, p), _)| g != p).collect();
    wrong.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
    if wrong.is_empty() {
        out.push_str("  (none)\n");
    }
    for ((g, p), n) in wrong {
        let _ = writeln!(out, "  {n:>3}  {g:<30} -> {p}");
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn labels(category: &str, station: Option<&str>, urgent: bool) -> Labels {
        Labels {
            category: category.into(),
            station: station.map(Into::into),
            urgent,
            language: "hi".into(),
            ..Labels::default()
        }
    }

    #[test]
    fn counts_missing_and_wrong_stations_apart() {
        let g = [
            labels("theft", Some("a"), true),
            labels("theft", Some("b"), false),
            labels("theft", None, false),
        ];
        let p = [
            labels("theft", Some("a"), true),
            labels("theft", None, true),
            labels("theft", Some("c"), false),
        ];
        let pairs: Vec<_> = g.iter().zip(&p).collect();
        let s = optional(&pairs, |l| l.station.as_deref());
        assert_eq!((s.tp, s.fp, s.fn_, s.exact), (1, 1, 1, 1));
        let u = binary(&pairs, |l| l.urgent);
        assert_eq!((u.precision(), u.recall()), (0.5, 1.0));
        let r = evaluate(&pairs);
        assert!(!r.all_pass);
        assert!(r.text.contains("FAIL station precision"));
    }
}
