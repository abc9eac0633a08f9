//! Reading the data directory back offline, through the library, after the crashes: what the
//! clients were told against what the database holds.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Context;
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tipline::app::Core;
use tipline::audit::{self, Verdict};
use tipline::config::{Config, RawConfig};
use tipline::crypto::ct_eq;
use tipline::intake::open_tip_text;

/// What a client was told about one request, the Jepsen way.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// 201 with a tip number and secret: acknowledged.
    Ok {
        /// The tip number.
        number: String,
        /// The secret.
        secret: String,
    },
    /// A definite refusal (4xx): must not be stored.
    Fail(u16),
    /// Timeout, connection error or 5xx: may or may not be stored.
    Info(String),
}

/// One request: the marker its text carried and what came back.
#[derive(Clone, Debug)]
pub struct Record {
    /// The marker number (`marker-<n>` in the text).
    pub marker: u64,
    /// The outcome.
    pub outcome: Outcome,
}

/// The word that marks request `n`'s text.
pub fn marker_word(n: u64) -> String {
    format!("marker-{n}")
}

/// Every marker number in a text.
pub fn markers_in(text: &str) -> Vec<u64> {
    text.split_whitespace()
        .filter_map(|w| w.strip_prefix("marker-"))
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// The counts the test reports and judges.
#[derive(Debug, Default)]
pub struct Findings {
    /// Tips in the database.
    pub tips: usize,
    /// Acknowledged requests (with the negative control, info outcomes too).
    pub acknowledged: usize,
    /// Acknowledged but absent, unreadable, or with a wrong secret or marker.
    pub lost: Vec<String>,
    /// Markers found in more than one tip.
    pub duplicates: usize,
    /// Tips whose marker was never sent, or with no or several markers.
    pub unexpected: usize,
    /// Refused (4xx) but stored anyway.
    pub failed_but_stored: usize,
    /// Refused requests.
    pub failed: usize,
    /// Indeterminate requests.
    pub indeterminate: usize,
    /// Indeterminate requests whose tip is stored.
    pub recovered: usize,
    /// The audit chain's verdict.
    pub audit: String,
    /// Whether the chain is intact with one entry per tip.
    pub audit_ok: bool,
    /// `PRAGMA integrity_check` and the number of `foreign_key_check` rows.
    pub integrity: (String, usize),
    /// Files under the data directory, and the server log, that hold a marker in clear.
    pub plaintext_files: Vec<String>,
}

/// Opens `data_dir` offline and checks `records` against it. With `info_as_acked` (the negative
/// control) indeterminate requests count as acknowledged.
pub async fn check(
    data_dir: &Path,
    log: &Path,
    records: &[Record],
    info_as_acked: bool,
) -> anyhow::Result<Findings> {
    let mut f = Findings {
        integrity: integrity(&data_dir.join("tipline.db")).await?,
        plaintext_files: plaintext_files(data_dir, log)?,
        ..Findings::default()
    };
    let raw = RawConfig {
        data_dir: Some(data_dir.to_path_buf()),
        ..Default::default()
    };
    let core = Core::load(&Config::validate(raw, None)?).await?;
    let stored = stored_markers(&core, &mut f).await?;
    let sent: HashSet<u64> = records.iter().map(|r| r.marker).collect();
    f.duplicates = stored.values().filter(|&&n| n > 1).count();
    f.unexpected += stored.keys().filter(|m| !sent.contains(m)).count();
    for r in records {
        let present = stored.contains_key(&r.marker);
        match &r.outcome {
            Outcome::Ok { number, secret } => {
                f.acknowledged += 1;
                if let Err(why) = check_acked(&core, r.marker, number, secret).await {
                    f.lost.push(why);
                }
            }
            Outcome::Fail(_) => {
                f.failed += 1;
                f.failed_but_stored += usize::from(present);
            }
            Outcome::Info(_) => {
                f.indeterminate += 1;
                f.recovered += usize::from(present);
                if info_as_acked {
                    f.acknowledged += 1;
                    if !present {
                        f.lost
                            .push(format!("marker-{} (indeterminate): absent", r.marker));
                    }
                }
            }
        }
    }
    let keys = core.keyring.keys();
    let verdict = audit::verify(core.store.as_ref(), keys, |_| {}).await?;
    f.audit_ok = verdict
        == Verdict::Intact {
            entries: f.tips as i64,
        };
    f.audit = format!("{verdict:?}");
    Ok(f)
}

/// An acknowledged tip is there, its secret matches and its text opens with its marker.
async fn check_acked(core: &Core, marker: u64, number: &str, secret: &str) -> Result<(), String> {
    let what = format!("marker-{marker} (tip {number})");
    let auth = match core.store.tip_auth(number).await {
        Ok(Some(auth)) => auth,
        Ok(None) => return Err(format!("{what}: absent")),
        Err(e) => return Err(format!("{what}: lookup failed: {e}")),
    };
    let mac = core.keyring.keys().secret_mac(number, secret);
    if !ct_eq(&mac, &auth.secret_mac) {
        return Err(format!("{what}: the secret does not match"));
    }
    match open_tip_text(core, auth.tip_id).await {
        Ok(text) if markers_in(&text) == [marker] => Ok(()),
        Ok(_) => Err(format!("{what}: the text carries another marker")),
        Err(e) => Err(format!("{what}: the text does not open: {e}")),
    }
}

/// Walks every tip in id order, opens its text and counts each marker found.
async fn stored_markers(core: &Core, f: &mut Findings) -> anyhow::Result<HashMap<u64, usize>> {
    let mut seen = HashMap::new();
    let mut after = i64::MIN;
    loop {
        let ids = core.store.tip_ids_after(after, 1000).await?;
        let Some(last) = ids.last() else { break };
        after = last.get();
        for id in ids {
            f.tips += 1;
            let text = open_tip_text(core, id)
                .await
                .with_context(|| format!("tip {id} does not open"))?;
            let markers = markers_in(&text);
            if markers.len() != 1 {
                f.unexpected += 1;
            }
            for m in markers {
                *seen.entry(m).or_insert(0) += 1;
            }
        }
    }
    let counted = core.store.tip_count().await?;
    anyhow::ensure!(
        counted == f.tips as i64,
        "walked {} tips but the store counts {counted}",
        f.tips
    );
    Ok(seen)
}

/// `PRAGMA integrity_check` and `foreign_key_check` on a read-only connection.
async fn integrity(db: &Path) -> anyhow::Result<(String, usize)> {
    let opts = SqliteConnectOptions::new().filename(db).read_only(true);
    let mut c = SqliteConnection::connect_with(&opts).await?;
    let (ok,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut c)
        .await?;
    let fk = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut c)
        .await?
        .len();
    c.close().await?;
    Ok((ok, fk))
}

/// Files that hold a marker in clear: every file under the data directory, and the server log.
fn plaintext_files(data_dir: &Path, log: &Path) -> anyhow::Result<Vec<String>> {
    let mut files = vec![log.to_path_buf()];
    let mut dirs = vec![data_dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let mut found = Vec::new();
    for path in files {
        let bytes = std::fs::read(&path)?;
        if bytes.windows(7).any(|w| w == b"marker-") {
            found.push(path.display().to_string());
        }
    }
    Ok(found)
}
