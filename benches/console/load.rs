//! The officers' load: each officer loops, as fast as answers come back (or with a think time),
//! over the queue page (plain, filtered by category, status or flag, a few pages deep through
//! the "next" link, and word searches with common and rare words of the sample tips) and the tip
//! pages of tips its queue pages showed. Every page is asked for with `Accept-Encoding: br`, as a
//! browser would, and timed to its last byte.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::officer::{Officer, next_link, tip_numbers};

/// The page kinds, in the order they are printed.
pub const KINDS: [&str; 5] = [
    "queue (plain)",
    "queue (filter)",
    "queue (next page)",
    "queue (search)",
    "tip page",
];

/// What the officers may ask for: filter values and search words.
pub struct Menu {
    pub categories: Vec<String>,
    pub common_words: Vec<String>,
    pub rare_words: Vec<String>,
}

/// Latencies (µs) and failures per page kind.
#[derive(Default)]
pub struct Stats {
    pub latencies: BTreeMap<&'static str, Vec<u32>>,
    pub errors: BTreeMap<&'static str, u64>,
    pub first_error: Option<String>,
    /// From the start to the last officer's end.
    pub elapsed: Duration,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        for (k, v) in other.latencies {
            self.latencies.entry(k).or_default().extend(v);
        }
        for (k, n) in other.errors {
            *self.errors.entry(k).or_default() += n;
        }
        self.first_error = self.first_error.take().or(other.first_error);
    }

    /// The sorted latencies of the kinds whose name starts with `prefix`, in milliseconds.
    pub fn sorted_ms(&self, prefix: &str) -> Vec<f64> {
        let mut all: Vec<f64> = self
            .latencies
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .flat_map(|(_, v)| v.iter().map(|us| f64::from(*us) / 1000.0))
            .collect();
        all.sort_by(f64::total_cmp);
        all
    }

    pub fn errors_of(&self, prefix: &str) -> u64 {
        self.errors
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    }

    pub fn requests(&self) -> usize {
        self.latencies.values().map(Vec::len).sum()
    }
}

/// The value at quantile `q` of sorted values (NaN when empty).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs every officer until `deadline`, each with `think` between pages.
pub async fn run(
    officers: Vec<Officer>,
    menu: Arc<Menu>,
    deadline: Instant,
    think: Duration,
) -> anyhow::Result<Stats> {
    let started = Instant::now();
    let tasks: Vec<_> = officers
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            let menu = menu.clone();
            tokio::spawn(async move { officer_loop(o, &menu, i as u64, deadline, think).await })
        })
        .collect();
    let mut total = Stats::default();
    for t in tasks {
        total.merge(t.await?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// A small generator for the officers' choices (not for anything secret).
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &'a [String]) -> &'a str {
        items
            .get(self.below(items.len()))
            .map_or("", String::as_str)
    }
}

struct Session<'a> {
    officer: Officer,
    menu: &'a Menu,
    dice: Dice,
    /// Tip numbers seen on this officer's queue pages (the newest few hundred).
    seen: Vec<String>,
    stats: Stats,
    think: Duration,
}

async fn officer_loop(
    officer: Officer,
    menu: &Menu,
    seed: u64,
    deadline: Instant,
    think: Duration,
) -> Stats {
    let mut s = Session {
        officer,
        menu,
        dice: Dice(0x2545_f491_4f6c_dd1d ^ (seed + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        seen: Vec::new(),
        stats: Stats::default(),
        think,
    };
    while Instant::now() < deadline {
        s.one_step(deadline).await;
    }
    s.stats
}

impl Session<'_> {
    /// One thing an officer does: a page, or a walk of a few pages.
    async fn one_step(&mut self, deadline: Instant) {
        let roll = self.dice.below(100);
        if roll < 30 && !self.seen.is_empty() {
            let number = self.seen[self.dice.below(self.seen.len())].clone();
            self.fetch("tip page", &format!("/console/tips/{number}"))
                .await;
        } else if roll < 50 {
            self.fetch("queue (plain)", "/console/").await;
        } else if roll < 65 {
            let path = self.filter();
            self.fetch("queue (filter)", &path).await;
        } else if roll < 80 {
            let path = self.search();
            self.fetch("queue (search)", &path).await;
        } else {
            self.walk(deadline).await;
        }
    }

    fn filter(&mut self) -> String {
        match self.dice.below(3) {
            0 => format!(
                "/console/?category={}",
                self.dice.pick(&self.menu.categories)
            ),
            1 => {
                let statuses = ["new", "acknowledged", "assigned", "in_action", "closed"];
                format!(
                    "/console/?status={}",
                    statuses[self.dice.below(statuses.len())]
                )
            }
            _ => ["/console/?flag=urgent", "/console/?flag=police"][self.dice.below(2)].to_owned(),
        }
    }

    fn search(&mut self) -> String {
        let enc = |w: &str| {
            percent_encoding::utf8_percent_encode(w, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let q = match self.dice.below(20) {
            0..10 => self.dice.pick(&self.menu.common_words).to_owned(),
            10..17 => self.dice.pick(&self.menu.rare_words).to_owned(),
            _ => format!(
                "{} {}",
                self.dice.pick(&self.menu.common_words),
                self.dice.pick(&self.menu.rare_words)
            ),
        };
        format!("/console/?q={}", enc(&q))
    }

    /// The queue (plain or filtered), then 1 to 4 pages deeper through its "next" links.
    async fn walk(&mut self, deadline: Instant) {
        let (kind, first) = if self.dice.below(2) == 0 {
            ("queue (plain)", "/console/".to_owned())
        } else {
            ("queue (filter)", self.filter())
        };
        let mut next = self.fetch(kind, &first).await.and_then(|p| next_link(&p));
        for _ in 0..=self.dice.below(4) {
            let Some(path) = next.take() else { break };
            if Instant::now() >= deadline {
                break;
            }
            next = self
                .fetch("queue (next page)", &path)
                .await
                .and_then(|p| next_link(&p));
        }
    }

    /// Fetches and times a page; keeps the tip numbers a queue page shows. Returns the text of
    /// a 200 page.
    async fn fetch(&mut self, kind: &'static str, path: &str) -> Option<String> {
        let result = self.officer.get(path, Some("br")).await;
        if !self.think.is_zero() {
            tokio::time::sleep(self.think).await;
        }
        let page = match result {
            Ok(p) if p.status == 200 => p,
            Ok(p) => return self.failed(kind, format!("{kind} {path}: status {}", p.status)),
            Err(e) => return self.failed(kind, format!("{kind} {path}: {e:#}")),
        };
        let us = u32::try_from(page.elapsed.as_micros()).unwrap_or(u32::MAX);
        self.stats.latencies.entry(kind).or_default().push(us);
        if kind.starts_with("queue") {
            self.seen.extend(tip_numbers(&page.text));
            if self.seen.len() > 500 {
                self.seen.drain(..self.seen.len() - 500);
            }
        }
        Some(page.text)
    }

    fn failed(&mut self, kind: &'static str, why: String) -> Option<String> {
        *self.stats.errors.entry(kind).or_default() += 1;
        self.stats.first_error.get_or_insert(why);
        None
    }
}
