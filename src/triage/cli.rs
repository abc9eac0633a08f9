//! `tipline triage`: batch triage of JSON Lines files (`--input`/`--output`) and evaluation
//! against labelled tips (`--eval`). The only part of triage that does I/O; it prints progress
//! and summaries to stderr and never logs tip text.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::Triage;
use super::eval::{Labels, evaluate};
use crate::jurisdiction::Jurisdiction;
use crate::lexicon::Lexicon;

/// Arguments of `tipline triage`.
#[derive(Debug, clap::Args)]
pub struct TriageArgs {
    /// JSON Lines input in the shape of tips-dev.jsonl.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Where to write the triaged JSON Lines.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// A labelled JSON Lines file to score the triage against.
    #[arg(long)]
    pub eval: Option<PathBuf>,
    /// With --eval: also print each tip whose labels differ (id and differing fields, no text).
    #[arg(long)]
    pub show_errors: bool,
    /// With --input: write the whole assessment (evidence, reasons, routing), not only the labels.
    #[arg(long)]
    pub full: bool,
    /// An administrator's triage cue file instead of the built-in data/triage-cues.toml.
    #[arg(long)]
    pub cues: Option<PathBuf>,
    /// Writes every tip officers corrected, with its text and the corrected labels, as JSON Lines
    /// in the shape of tips-dev.jsonl (new labelled data). Reads the configured database.
    #[arg(long, value_name = "FILE")]
    pub corrections: Option<PathBuf>,
}

/// One input line. Unknown fields are ignored; `labels` is needed only for --eval.
#[derive(Debug, Deserialize)]
struct InputTip {
    id: String,
    text: String,
    #[serde(default)]
    #[allow(dead_code)]
    channel: Option<String>,
    #[serde(default)]
    hotline_district: Option<String>,
    #[serde(default)]
    labels: Option<Labels>,
}

#[derive(Serialize)]
struct OutputTip<'a> {
    id: &'a str,
    #[serde(flatten)]
    labels: Labels,
}

/// Runs the subcommand.
pub fn run(args: TriageArgs, jurisdiction: &Jurisdiction, lexicon: &Lexicon) -> anyhow::Result<()> {
    let started = Instant::now();
    let triage = match &args.cues {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading cue file {}", path.display()))?;
            Triage::with_cues(jurisdiction, lexicon, &text)?
        }
        None => Triage::new(jurisdiction, lexicon)?,
    };
    eprintln!(
        "triage tables ready in {:.1} ms ({} place names)",
        started.elapsed().as_secs_f64() * 1e3,
        triage.place_name_count()
    );
    match (&args.input, &args.output, &args.eval) {
        (Some(input), Some(output), None) => batch(&triage, input, output, args.full),
        (None, None, Some(eval)) => run_eval(&triage, eval, args.show_errors),
        _ => bail!("use either --input FILE --output FILE, or --eval FILE"),
    }
}

fn read_tips(path: &Path) -> anyhow::Result<Vec<InputTip>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut tips = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line =
            line.with_context(|| format!("{}: line {}: cannot read", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let tip: InputTip = serde_json::from_str(&line).with_context(|| {
            format!(
                "{}: line {}: not a tip object (needs \"id\" and \"text\")",
                path.display(),
                i + 1
            )
        })?;
        tips.push(tip);
    }
    Ok(tips)
}

/// The label fields of an assessment.
pub fn labels_of(a: &super::Assessment) -> Labels {
    Labels {
        category: a.category.clone(),
        secondary_categories: a.secondary_categories.clone(),
        district: a.district.as_ref().map(|d| d.as_str().to_owned()),
        station: a.station.as_ref().map(|s| s.as_str().to_owned()),
        urgent: a.urgent,
        police_involvement: a.police_involvement,
        named_station: a.named_station.as_ref().map(|s| s.as_str().to_owned()),
        language: a.language.as_str().to_owned(),
    }
}

#[derive(Serialize)]
struct FullTip<'a> {
    id: &'a str,
    #[serde(flatten)]
    assessment: &'a super::Assessment,
}

fn batch(triage: &Triage, input: &Path, output: &Path, full: bool) -> anyhow::Result<()> {
    let tips = read_tips(input)?;
    let file =
        std::fs::File::create(output).with_context(|| format!("creating {}", output.display()))?;
    let mut out = BufWriter::new(file);
    let started = Instant::now();
    let (mut urgent, mut police, mut not_a_tip) = (0, 0, 0);
    for (i, tip) in tips.iter().enumerate() {
        let a = triage.assess(&tip.text, tip.hotline_district.as_deref());
        urgent += usize::from(a.urgent);
        police += usize::from(a.police_involvement);
        not_a_tip += usize::from(a.category == super::NOT_A_TIP);
        if full {
            serde_json::to_writer(
                &mut out,
                &FullTip {
                    id: &tip.id,
                    assessment: &a,
                },
            )?;
        } else {
            serde_json::to_writer(
                &mut out,
                &OutputTip {
                    id: &tip.id,
                    labels: labels_of(&a),
                },
            )?;
        }
        out.write_all(b"\n")?;
        if (i + 1) % 10_000 == 0 {
            eprintln!("  {} tips", i + 1);
        }
    }
    out.flush()?;
    eprintln!(
        "triaged {} tips in {:.1} ms: {urgent} urgent, {police} alleging police involvement, {not_a_tip} not tips",
        tips.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

fn run_eval(triage: &Triage, path: &Path, show_errors: bool) -> anyhow::Result<()> {
    let tips = read_tips(path)?;
    let mut gold = Vec::with_capacity(tips.len());
    let mut pred = Vec::with_capacity(tips.len());
    for tip in &tips {
        let Some(labels) = &tip.labels else {
            bail!("{}: tip {} has no \"labels\"", path.display(), tip.id)
        };
        gold.push(labels.clone());
        pred.push(labels_of(
            &triage.assess(&tip.text, tip.hotline_district.as_deref()),
        ));
    }
    let pairs: Vec<(&Labels, &Labels)> = gold.iter().zip(&pred).collect();
    let report = evaluate(&pairs);
    println!("{}", report.text);
    if show_errors {
        for (tip, (g, p)) in tips.iter().zip(&pairs) {
            if g != p {
                println!("{}: {}", tip.id, differences(g, p));
            }
        }
    }
    Ok(())
}

fn differences(g: &Labels, p: &Labels) -> String {
    let mut d = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            d.push(format!("{name} {a} -> {b}"));
        }
    };
    field("category", g.category.clone(), p.category.clone());
    field(
        "secondary",
        format!("{:?}", g.secondary_categories),
        format!("{:?}", p.secondary_categories),
    );
    field(
        "district",
        format!("{:?}", g.district),
        format!("{:?}", p.district),
    );
    field(
        "station",
        format!("{:?}", g.station),
        format!("{:?}", p.station),
    );
    field("urgent", g.urgent.to_string(), p.urgent.to_string());
    field(
        "police",
        g.police_involvement.to_string(),
        p.police_involvement.to_string(),
    );
    field(
        "named",
        format!("{:?}", g.named_station),
        format!("{:?}", p.named_station),
    );
    field("language", g.language.clone(), p.language.clone());
    d.join("; ")
}

#[derive(Serialize)]
struct CorrectedTip<'a> {
    id: String,
    channel: &'a str,
    hotline_district: Option<&'a str>,
    text: String,
    labels: Labels,
}

/// `tipline triage --corrections FILE`: the tips officers corrected, each with its text (opened)
/// and triage's labels as stored on arrival, overridden by the latest correction of each field.
/// The file holds tip text in clear; the export is recorded in the audit log. Returns how many
/// tips were written.
pub async fn export_corrections(core: &crate::app::Core, output: &Path) -> anyhow::Result<usize> {
    use std::collections::BTreeMap;
    let mut by_tip: BTreeMap<i64, Vec<crate::store::CorrectionRow>> = BTreeMap::new();
    for c in core.store.triage_corrections(None).await? {
        by_tip.entry(c.tip_id.get()).or_default().push(c);
    }
    let file =
        std::fs::File::create(output).with_context(|| format!("creating {}", output.display()))?;
    let mut out = BufWriter::new(file);
    let mut written = 0;
    for (id, fixes) in &by_tip {
        let tip_id = crate::domain::TipId::from_db(*id);
        let Some(record) = core.store.tip(tip_id).await? else {
            continue;
        };
        let text = crate::intake::open_text_of(core, &record)?;
        let mut labels: Labels = crate::intake::open_triage_of(core, &record)?
            .and_then(|a| serde_json::from_value(a).ok())
            .unwrap_or_default();
        for f in fixes {
            let value = f.new_value.clone();
            match f.field.as_str() {
                "category" => labels.category = value.unwrap_or_default(),
                "station" => {
                    labels.station = value;
                    if labels.station.is_some() {
                        labels.district = record.district_id.clone();
                    }
                }
                "urgent" => labels.urgent = value.as_deref() == Some("true"),
                "police_involvement" => {
                    labels.police_involvement = value.as_deref() == Some("true");
                    if !labels.police_involvement {
                        labels.named_station = None;
                    }
                }
                _ => {}
            }
        }
        let line = CorrectedTip {
            id: format!("tip-{}", record.tip_number),
            channel: &record.channel,
            hotline_district: record.district_id.as_deref(),
            text,
            labels,
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
        written += 1;
    }
    out.flush()?;
    core.store
        .record_audit(crate::store::AuditDraft {
            actor: "admin:cli".into(),
            action: "triage.export_corrections".into(),
            subject: "triage_correction".into(),
            detail: serde_json::json!({ "tips": written }).to_string(),
            created_at: core.clock.now_ms(),
        })
        .await?;
    Ok(written)
}
