//! The intake path on SQLite: a group's new tips, with their index queue, near-duplicate bands,
//! named persons and audit entries, stored in two round trips to sqlx's worker thread whatever
//! the group's size: one that begins the transaction and reads the audit head, one for a single
//! fixed multi-statement text whose rows arrive as JSON arrays (`jsonb_each`, parsed once), blobs
//! in hex (`unhex`), and that also commits when the group holds nothing else. Under load the
//! writer's time goes to these round trips (each a hand-off to another thread and back, waiting
//! for a core), so a group costs about the same for one tip as for fifty. The texts never change,
//! so each is prepared once and then served from the connection's statement cache. PostgreSQL
//! keeps the multi-row statements of `queries.rs`: a prepared statement there holds one statement.

use std::fmt;

use serde::ser::SerializeTuple;
use serde::{Serialize, Serializer};
use sqlx::{Executor, SqliteConnection};

use super::queries::sqlite as q;
use super::{NewTip, StoreError, chain};
use crate::crypto::Keys;
use crate::policy::TipDeadlines;

/// Every row of a group in one text. `$1`..`$5` are JSON arrays of rows; `WHERE true` keeps
/// SQLite from reading `ON CONFLICT` as a join constraint.
macro_rules! store_group {
    () => {
        "\
INSERT INTO tip (tip_id, tip_number, secret_mac, channel, district_id, station_id, category, status, \
 happening_now, language, key_scope, text_sealed, place_sealed, when_sealed, created_at, updated_at, \
 priority, urgent, police_involvement, barred_station_id, triage_sealed, fingerprint, \
 ack_due_at, action_due_at, report_due_at, escalation_due_at) \
SELECT value->>0, value->>1, unhex(value->>2), value->>3, value->>4, value->>5, value->>6, value->>7, \
 value->>8, value->>9, value->>10, unhex(value->>11), unhex(value->>12), unhex(value->>13), value->>14, value->>14, \
 value->>15, value->>16, value->>17, value->>18, unhex(value->>19), unhex(value->>20), \
 value->>21, value->>22, value->>23, value->>21 \
FROM jsonb_each($1) WHERE true; \
INSERT INTO term_pending (source_id, tip_id, terms) \
SELECT value->>0, value->>0, unhex(value->>1) FROM jsonb_each($2) WHERE true ON CONFLICT DO NOTHING; \
INSERT INTO tip_band (band, tip_id) \
SELECT unhex(value->>0), value->>1 FROM jsonb_each($3) WHERE true ON CONFLICT DO NOTHING; \
INSERT INTO tip_person (term, tip_id, created_at) \
SELECT unhex(value->>0), value->>1, value->>2 FROM jsonb_each($4) WHERE true ON CONFLICT DO NOTHING; \
INSERT INTO audit_log (audit_seq, created_at, actor, action, subject, detail, prev_mac, entry_mac) \
SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, unhex(value->>6), unhex(value->>7) \
FROM jsonb_each($5) WHERE true; \
UPDATE audit_head SET last_seq = $6, last_mac = $7 WHERE audit_head_id = 1"
    };
}

const STORE_GROUP: &str = store_group!();
/// The same, for a group of tips alone: it also commits.
const STORE_GROUP_AND_COMMIT: &str = concat!(store_group!(), "; COMMIT");
const BEGIN_AND_READ_HEAD: &str =
    "BEGIN IMMEDIATE; SELECT last_seq, last_mac FROM audit_head WHERE audit_head_id = 1";

/// How [`begin_with_tips`] left the transaction.
pub(super) enum Begun {
    /// Open, for the group's other requests and the COMMIT.
    Open,
    /// Committed: the group was tips alone.
    Committed,
}

/// Begins the writer's transaction and stores the group's new tips in it (see the module
/// comment); commits too when `alone` (the group is these tips and nothing else) and no tip brought
/// a provider message or attachments, whose rows follow one statement each, as on PostgreSQL.
pub(super) async fn begin_with_tips(
    c: &mut SqliteConnection,
    keys: &Keys,
    tips: &[&NewTip],
    alone: bool,
) -> Result<Begun, StoreError> {
    if tips.is_empty() {
        c.execute("BEGIN IMMEDIATE").await?;
        return Ok(Begun::Open);
    }
    let head: (i64, Vec<u8>) = sqlx::query_as(BEGIN_AND_READ_HEAD)
        .fetch_one(&mut *c)
        .await?;
    let plain = tips
        .iter()
        .all(|t| t.inbound.is_none() && t.attachments.is_empty());
    let commit = alone && plain;
    let chained = chain(keys, head, tips.iter().map(|t| &t.audit));
    let audit: Vec<_> = chained
        .iter()
        .map(|e| {
            let d = e.draft;
            let (prev, entry) = (Hex(&e.prev_mac), Hex(&e.entry_mac));
            (
                e.seq,
                d.created_at,
                &d.actor,
                &d.action,
                &d.subject,
                &d.detail,
                prev,
                entry,
            )
        })
        .collect();
    let (seq, mac) = chained
        .last()
        .map(|e| (e.seq, e.entry_mac.clone()))
        .unwrap_or_default();
    let pending: Vec<_> = tips
        .iter()
        .filter(|t| !t.terms.is_empty())
        .map(|t| (t.tip_id.get(), Hex(t.terms.as_flattened())))
        .collect();
    let bands: Vec<_> = tips
        .iter()
        .flat_map(|t| t.bands.iter().map(move |b| (Hex(b), t.tip_id.get())))
        .collect();
    let persons: Vec<_> = tips
        .iter()
        .flat_map(|t| {
            t.persons
                .iter()
                .map(move |p| (Hex(p), t.tip_id.get(), t.created_at))
        })
        .collect();
    let rows: Vec<_> = tips.iter().map(|t| TipRow(t)).collect();
    sqlx::query(if commit {
        STORE_GROUP_AND_COMMIT
    } else {
        STORE_GROUP
    })
    .bind(json(&rows)?)
    .bind(json(&pending)?)
    .bind(json(&bands)?)
    .bind(json(&persons)?)
    .bind(json(&audit)?)
    .bind(seq)
    .bind(mac)
    .execute(&mut *c)
    .await
    .map_err(number_taken)?;
    if commit {
        return Ok(Begun::Committed);
    }
    q::insert_tip_extras(c, tips).await?;
    Ok(Begun::Open)
}

/// A tip number (or random tip id) already taken is a conflict the caller retries with new ones,
/// as on PostgreSQL; any other failure of the group's text (an audit sequence out of step, say)
/// is an error as it is.
fn number_taken(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d)
            if d.is_unique_violation()
                && (d.message().contains("tip.tip_number")
                    || d.message().contains("tip.tip_id")) =>
        {
            StoreError::Conflict("tip number")
        }
        _ => StoreError::Db(e),
    }
}

fn json<T: Serialize>(rows: &T) -> Result<String, StoreError> {
    serde_json::to_string(rows).map_err(|e| StoreError::Config(format!("rows as JSON: {e}")))
}

/// A tip as the JSON array `STORE_GROUP` reads (more fields than serde's tuples take).
struct TipRow<'a>(&'a NewTip);

impl Serialize for TipRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let deadline = |f: fn(&TipDeadlines) -> i64| t.deadlines.as_ref().map(f);
        let mut row = s.serialize_tuple(24)?;
        row.serialize_element(&t.tip_id.get())?;
        row.serialize_element(&t.tip_number)?;
        row.serialize_element(&Hex(&t.secret_mac))?;
        row.serialize_element(&t.channel)?;
        row.serialize_element(&t.district_id)?;
        row.serialize_element(&t.station_id)?;
        row.serialize_element(&t.category)?;
        row.serialize_element(&t.status)?;
        row.serialize_element(&t.happening_now)?;
        row.serialize_element(&t.language)?;
        row.serialize_element(&t.key_scope)?;
        row.serialize_element(&Hex(&t.text_sealed))?;
        row.serialize_element(&t.place_sealed.as_deref().map(Hex))?;
        row.serialize_element(&t.when_sealed.as_deref().map(Hex))?;
        row.serialize_element(&t.created_at)?;
        row.serialize_element(&t.priority)?;
        row.serialize_element(&t.urgent)?;
        row.serialize_element(&t.police_involvement)?;
        row.serialize_element(&t.barred_station_id)?;
        row.serialize_element(&t.triage_sealed.as_deref().map(Hex))?;
        row.serialize_element(&t.fingerprint.as_deref().map(Hex))?;
        row.serialize_element(&deadline(|d| d.acknowledge))?;
        row.serialize_element(&deadline(|d| d.action))?;
        row.serialize_element(&deadline(|d| d.report))?;
        row.end()
    }
}

/// Bytes written as hex digits into the JSON, for `unhex` on the other side.
struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 256];
        for chunk in self.0.chunks(buf.len() / 2) {
            for (pair, b) in buf.chunks_exact_mut(2).zip(chunk) {
                pair[0] = DIGITS[usize::from(b >> 4)];
                pair[1] = DIGITS[usize::from(b & 15)];
            }
            let digits = &buf[..chunk.len() * 2];
            f.write_str(std::str::from_utf8(digits).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

impl Serialize for Hex<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
