//! `tipline generate --tips N`: fills the configured database with N synthetic tips, for the
//! console benchmark (issue 3: a million tips). Every tip is made by intake's own code: triaged,
//! indexed, sealed under its district's data key with its row identity as associated data, with a
//! fresh tip number and a keyed hash of a fresh secret. The texts are the labelled sample tips
//! with small neutral variations; the tips are spread over two years and over the districts,
//! mostly closed, some open, some dispatched to a station with a sealed brief. Their terms go
//! straight into the blind index (as the indexer would leave them), and each import batch is one
//! audit entry by `admin:generate`.
//!
//! Triage and the terms depend only on a tip's words and the tipster's choices, so they are
//! computed once per distinct text and reused: the run is bound by sealing and inserting.
//! Sealing the next batch overlaps with storing the last one.
//!
//! Must never: add tips to a database that already has some unless asked (`--append`), since a
//! generated tip cannot be told from a real one; or print anything it sealed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::json;

use crate::app::Core;
use crate::demo::{Sample, language_of, samples};
use crate::domain::{Channel, NewPassword, OfficerScope, Role, TipStatus, TipText, Username};
use crate::intake::{self, Indexed, Submission, Triaged};
use crate::jurisdiction::DistrictId;
use crate::officers::{self, OfficerInput};
use crate::store::{AuditDraft, ImportedTip, NewAssignment, StoreError};

/// The audit actor of generated data.
pub const ACTOR: &str = "admin:generate";
/// The disabled account recorded as having dispatched the generated tips (a dispatch names an
/// officer).
pub const DISPATCHER: &str = "generated.dispatch";
/// Tips stored per transaction (and per audit entry).
const BATCH: usize = 10_000;
/// Progress is printed every this many tips.
const PROGRESS: u64 = 50_000;
/// A day in milliseconds.
const DAY_MS: i64 = 24 * 3600 * 1000;
/// The generated tips arrive over this long before now (about two years).
const SPAN_MS: i64 = 730 * DAY_MS;

/// `tipline generate`.
#[derive(clap::Args)]
pub struct GenerateArgs {
    /// How many tips to add.
    #[arg(long)]
    pub tips: u64,
    /// Add to a database that already has tips (refused otherwise).
    #[arg(long)]
    pub append: bool,
}

/// Openings and endings a tipster adds around what they report. Neutral on purpose: they change
/// the text (and its terms) but not what triage decides, so triage runs once per sample.
const OPENINGS: [&str; 5] = [
    "नमस्ते सर,",
    "sir,",
    "सूचना:",
    "main batana chahta hun ki",
    "एक बात बतानी है,",
];
const ENDINGS: [&str; 7] = [
    "धन्यवाद।",
    "thank you",
    "मेरा नाम मत बताना।",
    "naam gupt rakhna",
    "ये बात सच है।",
    "pls dekh lijiye",
    "कृपया ध्यान दें।",
];
/// Dispatch briefs as a supervisor writes them.
const BRIEFS: [&str; 4] = [
    "सूचना की गोपनीय जाँच कर कार्रवाई करें, सूचनाकर्ता की पहचान न खोजें।",
    "मौके पर जाकर तस्दीक करें और की गई कार्रवाई की रिपोर्ट दें।",
    "Verify discreetly and report action taken within 48 hours.",
    "बीट स्टाफ से जाँच कराएं, आवश्यक हो तो FIR दर्ज करें।",
];

/// Runs `tipline generate`.
pub async fn run(core: Arc<Core>, args: GenerateArgs) -> anyhow::Result<()> {
    let existing = core.store.tip_count().await?;
    if existing > 0 && !args.append {
        bail!(
            "the database already has {existing} tips; generated tips cannot be told from real \
             ones, so `generate` fills only an empty database (pass --append to add to it anyway)"
        );
    }
    let dispatcher = dispatcher(&core).await?;
    let mut maker = Maker::new(core.clone(), dispatcher, args.tips)?;
    let started = Instant::now();
    let mut stored: u64 = 0;
    let mut made: u64 = 0;
    let mut next_report = PROGRESS;
    let mut batch = Vec::new();
    while stored < args.tips {
        // Seal the next batch on a blocking thread while this one is stored.
        let want = (args.tips - stored - batch.len() as u64).min(BATCH as u64) as usize;
        let sealing = tokio::task::spawn_blocking(move || {
            let next = maker.batch(made, want);
            (maker, next)
        });
        stored += store_batch(&core, std::mem::take(&mut batch)).await?;
        let (m, next) = sealing.await.context("sealing stopped")?;
        maker = m;
        made += next.as_ref().map_or(0, |b| b.len() as u64);
        batch = next?;
        if stored >= next_report || stored == args.tips {
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{stored} tips stored, {:.0} tips/s",
                stored as f64 / secs.max(1e-9)
            );
            next_report = stored - stored % PROGRESS + PROGRESS;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "generated {stored} tips in {secs:.1} s ({:.0} tips/s); the database has {} tips",
        stored as f64 / secs.max(1e-9),
        core.store.tip_count().await?
    );
    Ok(())
}

/// Stores a batch with its one audit entry; returns how many tips it stored. A tip number that an
/// earlier tip already has (only possible with `--append`) fails the batch: the tips holding
/// taken numbers are dropped (the caller makes more) and the rest stored.
async fn store_batch(core: &Core, mut tips: Vec<ImportedTip>) -> anyhow::Result<u64> {
    while !tips.is_empty() {
        let audit = batch_audit(core, &tips);
        match core.store.import_tips(tips.clone(), audit).await {
            Ok(()) => return Ok(tips.len() as u64),
            Err(StoreError::Conflict(_)) => {
                let before = tips.len();
                let mut kept = Vec::with_capacity(before);
                for t in tips {
                    if core.store.tip_auth(&t.tip.tip_number).await?.is_none() {
                        kept.push(t);
                    }
                }
                if kept.len() == before {
                    bail!("a generated tip collided with a stored one and the cause is unknown");
                }
                tips = kept;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(0)
}

fn batch_audit(core: &Core, tips: &[ImportedTip]) -> AuditDraft {
    let ids = tips.iter().map(|t| t.tip.tip_id.get());
    AuditDraft {
        actor: ACTOR.to_owned(),
        action: "tip.generate".into(),
        subject: "tips".into(),
        detail: json!({
            "tips": tips.len(),
            "first_tip": ids.clone().min(),
            "last_tip": ids.max(),
        })
        .to_string(),
        created_at: core.clock.now_ms(),
    }
}

/// The disabled account that dispatches generated tips: made on the first run (with a password
/// nobody is shown), reused after.
async fn dispatcher(core: &Core) -> anyhow::Result<i64> {
    if let Some(o) = core.store.officer_named(DISPATCHER).await? {
        return Ok(o.officer_id);
    }
    let username = Username::parse(DISPATCHER)?;
    let password = officers::cli::generate_password()?;
    let input = OfficerInput {
        password: NewPassword::parse(&password, &username)?,
        username,
        display_name: "Generated data (benchmark)".into(),
        scope: OfficerScope::new(Role::RangeSupervisor, None, None)?,
    };
    let id = officers::add_officer(core, input, ACTOR).await?;
    officers::set_disabled(core, id, true, ACTOR).await?;
    Ok(id)
}

/// Chooses the shape of the data (which sample, district, status). Not for secrets: ids, tip
/// numbers, secrets, keys and nonces all come from the operating system through intake.
struct Dice(u64);

impl Dice {
    fn seeded() -> anyhow::Result<Self> {
        Ok(Self(crate::crypto::random_below(u64::MAX)?))
    }

    /// SplitMix64.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True with probability `p` in 1000.
    fn per_mille(&mut self, p: u64) -> bool {
        self.next() % 1000 < p
    }

    /// One of `choices`, by weight.
    fn weighted<T: Copy>(&mut self, choices: &[(T, u64)]) -> Option<T> {
        let total: u64 = choices.iter().map(|(_, w)| w).sum();
        let mut roll = self.next() % total.max(1);
        for (item, weight) in choices {
            if roll < *weight {
                return Some(*item);
            }
            roll -= weight;
        }
        None
    }
}

/// Triage's decision for a sample, keyed by (sample, chosen district, happening now).
type TriageKey = (usize, Option<usize>, bool);
/// The terms of a variant, keyed by (sample, opening, ending); 0 is none.
type TextKey = (usize, usize, usize);

/// Makes tips: holds the samples, the caches and the numbers already used.
struct Maker {
    core: Arc<Core>,
    samples: Vec<(Sample, TipText)>,
    districts: Vec<DistrictId>,
    triaged: HashMap<TriageKey, Triaged>,
    indexed: HashMap<TextKey, Indexed>,
    numbers: HashSet<u64>,
    dice: Dice,
    dispatcher: i64,
    total: u64,
    start: i64,
    now: i64,
}

/// One tip's choices before sealing.
struct Choice {
    sample: usize,
    district: Option<usize>,
    happening_now: bool,
    opening: usize,
    ending: usize,
    channel: Channel,
}

impl Maker {
    fn new(core: Arc<Core>, dispatcher: i64, total: u64) -> anyhow::Result<Self> {
        let samples: Vec<(Sample, TipText)> = samples()?
            .into_iter()
            .filter_map(|s| TipText::parse(&s.text).ok().map(|t| (s, t)))
            .collect();
        if samples.is_empty() {
            bail!("no sample tips to generate from");
        }
        let districts = core
            .jurisdiction
            .districts
            .iter()
            .map(|d| d.id.clone())
            .collect();
        let now = core.clock.now_ms();
        Ok(Self {
            core,
            samples,
            districts,
            triaged: HashMap::new(),
            indexed: HashMap::new(),
            numbers: HashSet::new(),
            dice: Dice::seeded()?,
            dispatcher,
            total: total.max(1),
            start: now - SPAN_MS,
            now,
        })
    }

    /// Tips number `first..first + count` of the run, oldest first.
    fn batch(&mut self, first: u64, count: usize) -> anyhow::Result<Vec<ImportedTip>> {
        (first..first + count as u64).map(|i| self.tip(i)).collect()
    }

    /// The `i`th tip: created at its place in the two years, sealed, given the state its age
    /// makes likely.
    fn tip(&mut self, i: u64) -> anyhow::Result<ImportedTip> {
        let step = (SPAN_MS / self.total as i64).max(1);
        let slot = self.start + (i % self.total) as i64 * SPAN_MS / self.total as i64;
        let created_at = slot + (self.dice.next() % step as u64) as i64;
        let choice = self.choose();
        let mut tip = loop {
            let tip = self.seal(&choice, created_at)?;
            let number: u64 = tip.tip_number.parse().context("tip number")?;
            if self.numbers.insert(number) {
                break tip;
            }
        };
        let age_days = (self.now - created_at) / DAY_MS;
        let mut status = status_for(&mut self.dice, age_days);
        let needs_desk = matches!(
            status,
            TipStatus::Assigned | TipStatus::InAction | TipStatus::ActionTaken
        ) || (status == TipStatus::Closed && self.dice.per_mille(600));
        let updated_at = self.updated_at(created_at, status);
        let assignment = if needs_desk {
            self.dispatch(&tip, created_at, updated_at)?
        } else {
            None
        };
        if needs_desk && assignment.is_none() && status != TipStatus::Closed {
            // No district to dispatch in: the supervisor has only seen it.
            status = TipStatus::Acknowledged;
        }
        tip.status = status.as_str().to_owned();
        // History, not live work: generated tips carry no running deadlines, so the escalation
        // ladder and the alerts do not page anyone through two years of synthetic backlog.
        tip.deadlines = None;
        Ok(ImportedTip {
            tip,
            updated_at,
            assignment,
        })
    }

    fn choose(&mut self) -> Choice {
        let d = &mut self.dice;
        let sample = d.below(self.samples.len());
        // Most came in on a district's hotline; many through the web form without a district
        // (triage places them); a few with a district the tipster chose.
        let district = match d.below(100) {
            0..55 => self.samples[sample]
                .0
                .hotline_district
                .as_deref()
                .and_then(|h| self.districts.iter().position(|x| x.as_str() == h)),
            55..90 => None,
            _ => Some(d.below(self.districts.len())),
        };
        Choice {
            sample,
            district,
            happening_now: d.per_mille(30),
            opening: d.below(OPENINGS.len() + 1),
            ending: d.below(ENDINGS.len() + 1),
            channel: d
                .weighted(&[(Channel::Web, 55), (Channel::Api, 15), (Channel::Phone, 30)])
                .unwrap_or(Channel::Web),
        }
    }

    /// Seals the chosen variant with intake's code, from the cached triage and terms.
    fn seal(&mut self, c: &Choice, created_at: i64) -> anyhow::Result<crate::store::NewTip> {
        let (sample, base) = &self.samples[c.sample];
        let mut text = base.as_str().to_owned();
        if c.opening > 0 {
            text = format!("{} {text}", OPENINGS[c.opening - 1]);
        }
        if c.ending > 0 {
            text = format!("{text} {}", ENDINGS[c.ending - 1]);
        }
        let mut s = Submission {
            text: base.clone(),
            district: c.district.map(|d| self.districts[d].clone()),
            place: None,
            when: None,
            happening_now: c.happening_now,
            category: None,
            language: language_of(&sample.text),
            channel: c.channel,
            station: None,
            entered_by: None,
            photos: Vec::new(),
            documents: Vec::new(),
        };
        let core = &self.core;
        let triaged = self
            .triaged
            .entry((c.sample, c.district, c.happening_now))
            .or_insert_with(|| intake::triage(core, &s));
        s.text = TipText::parse(&text).unwrap_or_else(|_| base.clone());
        let indexed = self
            .indexed
            .entry((c.sample, c.opening, c.ending))
            .or_insert_with(|| intake::index(core.keyring.keys(), &s));
        let (tip, _) = intake::seal(core, &s, triaged, indexed, created_at)?;
        Ok(tip)
    }

    /// When a tip in `status` last changed: soon after arrival for open tips, days to weeks for
    /// finished ones; never in the future.
    fn updated_at(&mut self, created_at: i64, status: TipStatus) -> i64 {
        let days = match status {
            TipStatus::New => 0,
            TipStatus::Acknowledged | TipStatus::Assigned => 1 + self.dice.below(2),
            TipStatus::InAction | TipStatus::ActionTaken => 2 + self.dice.below(10),
            _ => 3 + self.dice.below(45),
        } as i64;
        let jitter = (self.dice.next() % DAY_MS as u64) as i64;
        (created_at + days * DAY_MS + jitter).min(self.now)
    }

    /// A dispatch to triage's station, or another station of the district; never the accused
    /// one. None for a tip without a district.
    fn dispatch(
        &mut self,
        tip: &crate::store::NewTip,
        created_at: i64,
        updated_at: i64,
    ) -> anyhow::Result<Option<(NewAssignment, i64)>> {
        let Some(district) = tip
            .district_id
            .as_deref()
            .and_then(|d| self.core.jurisdiction.district(d))
        else {
            return Ok(None);
        };
        let barred = tip.barred_station_id.as_deref();
        let desk = match &tip.station_id {
            Some(st) => st.clone(),
            None => {
                let open: Vec<&str> = district
                    .stations
                    .iter()
                    .map(|s| s.id.as_str())
                    .filter(|s| Some(*s) != barred)
                    .collect();
                match open.get(self.dice.below(open.len())) {
                    Some(s) => (*s).to_owned(),
                    None => return Ok(None),
                }
            }
        };
        let (_, key) = self.core.keyring.current(&tip.key_scope)?;
        let brief = BRIEFS[self.dice.below(BRIEFS.len())];
        // The associated data of `cases::brief_aad`, so the station's brief opens on the tip page.
        let aad = format!("tip_assignment.brief|{}|{desk}", tip.tip_id.get());
        let at = created_at + (updated_at - created_at) / 2;
        Ok(Some((
            NewAssignment {
                brief_sealed: key.seal(aad.as_bytes(), brief.as_bytes())?,
                desk_id: desk,
                desk_kind: "station".into(),
                district_id: district.id.to_string(),
                assigned_by: self.dispatcher,
            },
            at,
        )))
    }
}

/// A status for a tip `age_days` old: recent tips are mostly open, old ones mostly finished, with
/// a tail of old tips still open (about 7 % of all tips over two years).
fn status_for(dice: &mut Dice, age_days: i64) -> TipStatus {
    use TipStatus::*;
    let table: &[(TipStatus, u64)] = match age_days {
        0..3 => &[
            (New, 400),
            (Acknowledged, 250),
            (Assigned, 200),
            (InAction, 100),
            (ActionTaken, 50),
        ],
        3..60 => &[
            (New, 30),
            (Acknowledged, 50),
            (Assigned, 120),
            (InAction, 150),
            (ActionTaken, 150),
            (Closed, 350),
            (NotActionable, 120),
            (Duplicate, 30),
        ],
        _ => &[
            (New, 1),
            (Acknowledged, 3),
            (Assigned, 6),
            (InAction, 10),
            (ActionTaken, 10),
            (Closed, 780),
            (NotActionable, 150),
            (Duplicate, 40),
        ],
    };
    dice.weighted(table).unwrap_or(Closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_tips_are_mostly_closed_and_new_ones_open() {
        let mut dice = Dice(7);
        let open = |dice: &mut Dice, age| {
            (0..10_000)
                .filter(|_| crate::store::OPEN_STATUSES.contains(&status_for(dice, age).as_str()))
                .count()
        };
        assert_eq!(open(&mut dice, 1), 10_000);
        let old = open(&mut dice, 400);
        assert!((200..500).contains(&old), "{old}");
    }

    #[test]
    fn dice_weights_are_respected() {
        let mut dice = Dice(1);
        let heads = (0..10_000)
            .filter(|_| dice.weighted(&[(true, 1), (false, 3)]) == Some(true))
            .count();
        assert!((2_200..2_800).contains(&heads), "{heads}");
    }
}
