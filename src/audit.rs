//! The audit log's reader side: verifying the chain. Entries are appended by the store in the
//! same transaction as the change they record (see `store::queries::append_audit`); each entry's
//! MAC covers the previous entry's MAC, its position and all its fields, under a key derived from
//! the master key. So an edited, removed, inserted or reordered row breaks the chain, and someone
//! holding only the database cannot forge a new one.

use crate::crypto::{Keys, ct_eq};
use crate::store::{AuditEntry, Store, StoreError, audit_mac};

/// What `verify` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every entry checks out.
    Intact {
        /// Number of entries.
        entries: i64,
    },
    /// The first place where the chain breaks.
    Broken {
        /// The sequence number where it breaks.
        at_seq: i64,
        /// What is wrong there.
        reason: String,
    },
}

/// Walks the whole chain in order, `page` entries at a time, calling `progress` after each page.
pub async fn verify(
    store: &dyn Store,
    keys: &Keys,
    mut progress: impl FnMut(i64),
) -> Result<Verdict, StoreError> {
    let mut prev_mac = vec![0u8; 32];
    let mut expected_seq = 1;
    loop {
        let page = store.audit_entries(expected_seq - 1, 5000).await?;
        if page.is_empty() {
            break;
        }
        for entry in &page {
            if let Some(reason) = check_entry(keys, entry, expected_seq, &prev_mac) {
                return Ok(Verdict::Broken {
                    at_seq: entry.seq,
                    reason,
                });
            }
            prev_mac.clone_from(&entry.entry_mac);
            expected_seq += 1;
        }
        progress(expected_seq - 1);
    }
    let (head_seq, head_mac) = store.audit_head().await?;
    let last = expected_seq - 1;
    if head_seq != last || !ct_eq(&head_mac, &prev_mac) {
        return Ok(Verdict::Broken {
            at_seq: last + 1,
            reason: format!(
                "the chain ends at {last} but its recorded end is {head_seq}: entries were removed from the end"
            ),
        });
    }
    Ok(Verdict::Intact { entries: last })
}

fn check_entry(keys: &Keys, e: &AuditEntry, expected_seq: i64, prev_mac: &[u8]) -> Option<String> {
    if e.seq != expected_seq {
        return Some(format!(
            "expected entry {expected_seq}, found {}: entries are missing",
            e.seq
        ));
    }
    if !ct_eq(&e.prev_mac, prev_mac) {
        return Some("does not follow the entry before it: removed or reordered".into());
    }
    let draft = crate::store::AuditDraft {
        actor: e.actor.clone(),
        action: e.action.clone(),
        subject: e.subject.clone(),
        detail: e.detail.clone(),
        created_at: e.created_at,
    };
    let mac = audit_mac(keys, &e.prev_mac, e.seq, &draft);
    (!ct_eq(&mac, &e.entry_mac)).then(|| "its content was changed after it was written".into())
}
