//! The SQL, written once and expanded for each backend by `backend_queries!`. Only `$N`
//! placeholders and types both backends share (i64, bool, text, bytes) are used, so each query
//! means the same on SQLite and PostgreSQL. The differences are passed in: row locking (SQLite has
//! a single writer, PostgreSQL needs `FOR UPDATE` on the audit head) and the byte-string search
//! function.

/// Most rows in one multi-row statement of the intake path.
const MAX_ROWS: usize = 64;

/// Cuts rows into pieces of 64, 32, 16 ... 1 rows (largest first), so that a multi-row INSERT
/// has only a few distinct shapes: each is prepared once and then served from the connection's
/// statement cache, instead of being parsed again for every new row count.
fn pieces<T>(rows: &[T]) -> Vec<&[T]> {
    pieces_of(rows, MAX_ROWS)
}

/// [`pieces`] with another largest size (a power of two).
fn pieces_of<T>(mut rows: &[T], max: usize) -> Vec<&[T]> {
    let mut out = Vec::new();
    while !rows.is_empty() {
        let n = max.min(1 << rows.len().ilog2());
        let (piece, rest) = rows.split_at(n);
        out.push(piece);
        rows = rest;
    }
    out
}

macro_rules! backend_queries {
    ($db:ty, $lock:literal, $contains:literal) => {
        use crate::crypto::Keys;
        use crate::domain::TipId;
        use crate::store::{
            AttachmentCopy,
            AuditDraft, AuditEntry, ImportedTip, MediaDone, MediaRow, NewInbound, NewMessage, NewTip, PendingTerms, SenderRow, StoreError, StoredDataKey, StoredMessage, TipAuth, TipLink, TipRecord,
            chain,
        };

        type Conn = <$db as sqlx::Database>::Connection;

        fn map_unique(e: sqlx::Error, what: &'static str) -> StoreError {
            match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what),
                _ => StoreError::Db(e),
            }
        }

        /// Appends entries to the audit chain, in order, inside the caller's transaction: the head
        /// is read once, the entries are chained in memory and written with few statements.
        pub async fn append_audit(c: &mut Conn, keys: &Keys, drafts: &[&AuditDraft]) -> Result<(), StoreError> {
            if drafts.is_empty() {
                return Ok(());
            }
            let head: (i64, Vec<u8>) =
                sqlx::query_as(concat!("SELECT last_seq, last_mac FROM audit_head WHERE audit_head_id = 1", $lock))
                    .fetch_one(&mut *c)
                    .await?;
            let rows = chain(keys, head, drafts.iter().copied());
            for piece in super::pieces(&rows) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO audit_log (audit_seq, created_at, actor, action, subject, detail, prev_mac, entry_mac) ",
                );
                q.push_values(piece, |mut row, e| {
                    row.push_bind(e.seq)
                        .push_bind(e.draft.created_at)
                        .push_bind(e.draft.actor.clone())
                        .push_bind(e.draft.action.clone())
                        .push_bind(e.draft.subject.clone())
                        .push_bind(e.draft.detail.clone())
                        .push_bind(e.prev_mac.clone())
                        .push_bind(e.entry_mac.clone());
                });
                q.build().execute(&mut *c).await?;
            }
            let Some(last) = rows.last() else {
                return Ok(());
            };
            sqlx::query("UPDATE audit_head SET last_seq = $1, last_mac = $2 WHERE audit_head_id = 1")
                .bind(last.seq)
                .bind(last.entry_mac.clone())
                .execute(&mut *c)
                .await?;
            Ok(())
        }

        /// Queues texts' terms for the background indexer: one appended row per text, packed.
        /// Rows are (source id, tip id, packed terms).
        async fn insert_pending(c: &mut Conn, rows: &[(i64, i64, Vec<u8>)]) -> Result<(), StoreError> {
            for piece in super::pieces(rows) {
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO term_pending (source_id, tip_id, terms) ");
                q.push_values(piece, |mut row, (source_id, tip_id, terms)| {
                    row.push_bind(*source_id).push_bind(*tip_id).push_bind(terms.clone());
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *c).await?;
            }
            Ok(())
        }

        /// Texts waiting for the blind index, oldest first.
        pub async fn pending_terms(c: &mut Conn, limit: i64) -> Result<Vec<PendingTerms>, StoreError> {
            let rows: Vec<(i64, i64, Vec<u8>)> =
                sqlx::query_as("SELECT source_id, tip_id, terms FROM term_pending ORDER BY source_id LIMIT $1")
                    .bind(limit)
                    .fetch_all(&mut *c)
                    .await?;
            Ok(rows
                .into_iter()
                .map(|(source_id, tip_id, terms)| PendingTerms { source_id, tip_id: TipId::from_db(tip_id), terms })
                .collect())
        }

        /// Moves texts' terms into the index (sorted, so each index page is written once per
        /// batch), stores links, and removes the texts from the queue. Safe to repeat. Pieces of
        /// fixed sizes keep these statements in the statement cache too.
        pub async fn finish_pending(
            c: &mut Conn,
            done: &[PendingTerms],
            links: &[(TipId, TipLink)],
            now: i64,
        ) -> Result<(), StoreError> {
            let mut entries: Vec<(&[u8], i64)> = done
                .iter()
                .flat_map(|p| p.terms.chunks_exact(16).map(move |t| (t, p.tip_id.get())))
                .collect();
            insert_index_terms(c, &mut entries, 512).await?;
            for chunk in super::pieces_of(links, 256) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO tip_link (tip_id, related_tip_id, kind, score, created_at) ",
                );
                q.push_values(chunk, |mut row, (tip_id, l)| {
                    row.push_bind(tip_id.get())
                        .push_bind(l.related_tip_id.get())
                        .push_bind(l.kind.clone())
                        .push_bind(l.score)
                        .push_bind(now);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *c).await?;
            }
            for chunk in super::pieces_of(done, 128) {
                let mut q = sqlx::QueryBuilder::<$db>::new("DELETE FROM term_pending WHERE ");
                for (i, p) in chunk.iter().enumerate() {
                    if i > 0 {
                        q.push(" OR ");
                    }
                    q.push("(source_id = ").push_bind(p.source_id).push(" AND tip_id = ").push_bind(p.tip_id.get()).push(")");
                }
                q.build().execute(&mut *c).await?;
            }
            Ok(())
        }

        /// Adds (term, tip id) entries to the blind index, sorted first so that each index page
        /// is written once per call, in statements of up to `max` rows (a power of two).
        async fn insert_index_terms(c: &mut Conn, entries: &mut Vec<(&[u8], i64)>, max: usize) -> Result<(), StoreError> {
            entries.sort_unstable();
            entries.dedup();
            for chunk in super::pieces_of(entries, max) {
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO tip_term (term, tip_id) ");
                q.push_values(chunk, |mut row, (term, tip_id)| {
                    row.push_bind(term.to_vec()).push_bind(*tip_id);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *c).await?;
            }
            Ok(())
        }

        /// Indexes fingerprint bands: rows are (band, tip id), in statements of up to `max` rows.
        async fn insert_bands(c: &mut Conn, rows: &[(&Vec<u8>, i64)], max: usize) -> Result<(), StoreError> {
            for piece in super::pieces_of(rows, max) {
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO tip_band (band, tip_id) ");
                q.push_values(piece, |mut row, (band, tip_id)| {
                    row.push_bind((*band).clone()).push_bind(*tip_id);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *c).await?;
            }
            Ok(())
        }

        /// The newest tips (ids from `since_id` on) sharing any of the bands: at most `per_band`
        /// per band, read newest first from the (band, tip_id) index, so the cost stays bounded
        /// even when thousands of tips share a band (a flood of one message). One round trip.
        pub async fn tips_sharing_bands(
            c: &mut Conn,
            bands: &[Vec<u8>],
            since_id: i64,
            per_band: i64,
        ) -> Result<Vec<(TipId, Vec<u8>)>, StoreError> {
            if bands.is_empty() {
                return Ok(Vec::new());
            }
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "SELECT tip_id, fingerprint FROM tip WHERE fingerprint IS NOT NULL AND tip_id IN (",
            );
            for (i, band) in bands.iter().enumerate() {
                if i > 0 {
                    q.push(" UNION ");
                }
                q.push("SELECT tip_id FROM (SELECT tip_id FROM tip_band WHERE band = ")
                    .push_bind(band.clone())
                    .push(" AND tip_id >= ")
                    .push_bind(since_id)
                    .push(" ORDER BY tip_id DESC LIMIT ")
                    .push_bind(per_band)
                    .push(format!(") AS band_{i}"));
            }
            q.push(")");
            let rows: Vec<(i64, Vec<u8>)> = q.build_query_as().fetch_all(&mut *c).await?;
            Ok(rows.into_iter().map(|(id, fp)| (TipId::from_db(id), fp)).collect())
        }

        /// Tips about a station and category since a time.
        pub async fn tips_at_station(
            c: &mut Conn,
            station_id: &str,
            category: &str,
            since: i64,
            limit: i64,
        ) -> Result<Vec<TipId>, StoreError> {
            let rows: Vec<(i64,)> = sqlx::query_as(
                "SELECT tip_id FROM tip WHERE station_id = $1 AND category = $2 AND created_at >= $3 \
                 ORDER BY created_at DESC LIMIT $4",
            )
            .bind(station_id)
            .bind(category)
            .bind(since)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?;
            Ok(rows.into_iter().map(|(id,)| TipId::from_db(id)).collect())
        }

        /// Tips at a station in a category closed after an action-taken report since `since`
        /// (by last change), newest first.
        pub async fn tips_acted_at_station(
            c: &mut Conn,
            station_id: &str,
            category: &str,
            since: i64,
            limit: i64,
        ) -> Result<Vec<TipId>, StoreError> {
            let rows: Vec<(i64,)> = sqlx::query_as(
                "SELECT t.tip_id FROM tip t WHERE t.station_id = $1 AND t.category = $2 AND t.status = 'closed' \
                 AND t.updated_at >= $3 AND EXISTS (SELECT 1 FROM action_report a WHERE a.tip_id = t.tip_id) \
                 ORDER BY t.updated_at DESC LIMIT $4",
            )
            .bind(station_id)
            .bind(category)
            .bind(since)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?;
            Ok(rows.into_iter().map(|(id,)| TipId::from_db(id)).collect())
        }

        /// Tips since `since` with a link of `kind`: (tip number, district, arrival), newest first.
        pub async fn linked_alarms(c: &mut Conn, kind: &str, since: i64, limit: i64) -> Result<Vec<(String, Option<String>, i64)>, StoreError> {
            Ok(sqlx::query_as(
                "SELECT t.tip_number, t.district_id, t.created_at FROM tip t WHERE t.created_at >= $2 \
                 AND EXISTS (SELECT 1 FROM tip_link l WHERE l.tip_id = t.tip_id AND l.kind = $1) \
                 ORDER BY t.created_at DESC LIMIT $3",
            )
            .bind(kind)
            .bind(since)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?)
        }

        /// The keyed terms of the people a tip names.
        pub async fn persons_of(c: &mut Conn, tip_id: TipId) -> Result<Vec<Vec<u8>>, StoreError> {
            let rows: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT term FROM tip_person WHERE tip_id = $1")
                .bind(tip_id.get())
                .fetch_all(&mut *c)
                .await?;
            Ok(rows.into_iter().map(|(t,)| t).collect())
        }

        /// Tips since a time naming a person, newest first.
        pub async fn tips_naming(c: &mut Conn, term: &[u8], since: i64, limit: i64) -> Result<Vec<TipId>, StoreError> {
            let rows: Vec<(i64,)> = sqlx::query_as(
                "SELECT tip_id FROM tip_person WHERE term = $1 AND created_at >= $2 ORDER BY tip_id DESC LIMIT $3",
            )
            .bind(term)
            .bind(since)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?;
            Ok(rows.into_iter().map(|(id,)| TipId::from_db(id)).collect())
        }

        /// A tip's links to earlier tips.
        pub async fn tip_links(c: &mut Conn, tip_id: TipId) -> Result<Vec<TipLink>, StoreError> {
            let rows: Vec<(i64, String, i64)> = sqlx::query_as(
                "SELECT related_tip_id, kind, score FROM tip_link WHERE tip_id = $1 ORDER BY score DESC, related_tip_id",
            )
            .bind(tip_id.get())
            .fetch_all(&mut *c)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(id, kind, score)| TipLink { related_tip_id: TipId::from_db(id), kind, score })
                .collect())
        }

        /// Stores tips, their queued terms, their fingerprint bands and their audit entries, with
        /// a few multi-row statements for the lot (a group commit passes many). A taken tip number
        /// fails the whole call with [`StoreError::Conflict`].
        #[allow(dead_code, reason = "SQLite stores a group's tips with sqlite_intake::create_tips")]
        pub async fn create_tips(c: &mut Conn, keys: &Keys, tips: &[&NewTip]) -> Result<(), StoreError> {
            let rows: Vec<_> = tips.iter().map(|t| (*t, t.created_at)).collect();
            insert_tips(c, &rows, super::MAX_ROWS).await?;
            let pending: Vec<_> = tips
                .iter()
                .filter(|t| !t.terms.is_empty())
                .map(|t| (t.tip_id.get(), t.tip_id.get(), t.terms.as_flattened().to_vec()))
                .collect();
            insert_pending(c, &pending).await?;
            let bands: Vec<_> = tips
                .iter()
                .flat_map(|t| t.bands.iter().map(move |b| (b, t.tip_id.get())))
                .collect();
            insert_bands(c, &bands, super::MAX_ROWS).await?;
            let persons: Vec<_> = tips
                .iter()
                .flat_map(|t| t.persons.iter().map(move |p| (p, t.tip_id.get(), t.created_at)))
                .collect();
            for piece in super::pieces(&persons) {
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO tip_person (term, tip_id, created_at) ");
                q.push_values(piece, |mut row, (term, tip_id, at)| {
                    row.push_bind(term.to_vec()).push_bind(*tip_id).push_bind(*at);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *c).await?;
            }
            insert_tip_extras(c, tips).await?;
            let drafts: Vec<&AuditDraft> = tips.iter().map(|t| &t.audit).collect();
            append_audit(c, keys, &drafts).await
        }

        /// The rows new tips brought besides themselves: a provider message and its sender, and
        /// attachments.
        pub async fn insert_tip_extras(c: &mut Conn, tips: &[&NewTip]) -> Result<(), StoreError> {
            for t in tips {
                if let Some(inbound) = &t.inbound {
                    insert_inbound(c, inbound, t.tip_id, t.created_at).await?;
                }
                for a in &t.attachments {
                    sqlx::query(
                        "INSERT INTO attachment (attachment_id, tip_id, original_sealed, clean_sealed, facts_sealed, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(a.attachment_id).bind(t.tip_id.get()).bind(&a.original_sealed)
                    .bind(&a.clean_sealed).bind(&a.facts_sealed).bind(t.created_at)
                    .execute(&mut *c)
                    .await
                    .map_err(|e| map_unique(e, "attachment id"))?;
                }
            }
            Ok(())
        }

        /// Records a provider message (once: a second copy is a conflict) and its sender.
        async fn insert_inbound(c: &mut Conn, m: &NewInbound, tip_id: TipId, now: i64) -> Result<(), StoreError> {
            let done = sqlx::query(
                "INSERT INTO inbound_message (channel, provider_id, tip_id, answer_sealed, pseudonym, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel, provider_id) DO NOTHING",
            )
            .bind(&m.channel).bind(&m.provider_id).bind(tip_id.get()).bind(&m.answer_sealed).bind(&m.pseudonym).bind(now)
            .execute(&mut *c)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict("provider message"));
            }
            sqlx::query(
                "INSERT INTO tip_sender (channel, pseudonym, tip_id, reply_sealed, created_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (channel, pseudonym, tip_id) DO UPDATE SET \
                 reply_sealed = excluded.reply_sealed, last_seen_at = excluded.last_seen_at",
            )
            .bind(&m.channel).bind(&m.pseudonym).bind(tip_id.get()).bind(&m.reply_sealed).bind(now)
            .execute(&mut *c)
            .await?;
            if m.flood {
                sqlx::query("UPDATE tip SET flooded = $2 WHERE tip_id = $1")
                    .bind(tip_id.get())
                    .bind(true)
                    .execute(&mut *c)
                    .await?;
            }
            for media in &m.media {
                sqlx::query(
                    "INSERT INTO media_pending (media_id, tip_id, provider, ref_sealed, next_attempt_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $5)",
                )
                .bind(media.media_id).bind(tip_id.get()).bind(&media.provider).bind(&media.ref_sealed).bind(now)
                .execute(&mut *c)
                .await?;
            }
            insert_outbox(c, &m.answer_outbox).await
        }

        /// Photos due to be fetched, oldest first.
        pub async fn media_due(c: &mut Conn, now: i64, limit: i64) -> Result<Vec<MediaRow>, StoreError> {
            let rows: Vec<(i64, i64, String, Vec<u8>, i64)> = sqlx::query_as(
                "SELECT media_id, tip_id, provider, ref_sealed, attempts FROM media_pending \
                 WHERE next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
            )
            .bind(now).bind(limit)
            .fetch_all(&mut *c)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(media_id, tip_id, provider, ref_sealed, attempts)| MediaRow {
                    media_id, tip_id: TipId::from_db(tip_id), provider, ref_sealed, attempts,
                })
                .collect())
        }

        /// Ends a fetch once: the row is taken (or pushed back) only if still as it was read.
        pub async fn finish_media(c: &mut Conn, row: &MediaRow, done: &MediaDone, now: i64) -> Result<bool, StoreError> {
            let taken = match done {
                MediaDone::Retry(at) => sqlx::query(
                    "UPDATE media_pending SET attempts = attempts + 1, next_attempt_at = $3 WHERE media_id = $1 AND attempts = $2",
                )
                .bind(row.media_id).bind(row.attempts).bind(*at)
                .execute(&mut *c)
                .await?,
                _ => sqlx::query("DELETE FROM media_pending WHERE media_id = $1 AND attempts = $2")
                    .bind(row.media_id).bind(row.attempts)
                    .execute(&mut *c)
                    .await?,
            };
            if taken.rows_affected() == 0 {
                return Ok(false);
            }
            if let MediaDone::Stored(a) = done {
                sqlx::query(
                    "INSERT INTO attachment (attachment_id, tip_id, original_sealed, clean_sealed, facts_sealed, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(a.attachment_id).bind(row.tip_id.get()).bind(&a.original_sealed)
                .bind(&a.clean_sealed).bind(&a.facts_sealed).bind(now)
                .execute(&mut *c)
                .await?;
            }
            Ok(true)
        }

        /// When the outbox message with this key was stored.
        pub async fn outbox_created_at(c: &mut Conn, outbox_key: &str) -> Result<Option<i64>, StoreError> {
            let row: Option<(i64,)> = sqlx::query_as("SELECT created_at FROM outbox WHERE outbox_key = $1")
                .bind(outbox_key)
                .fetch_optional(&mut *c)
                .await?;
            Ok(row.map(|(at,)| at))
        }

        /// Messages a sender (pseudonym) sent since a time, on every channel.
        pub async fn sender_messages_since(c: &mut Conn, pseudonym: &[u8], since: i64) -> Result<i64, StoreError> {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM inbound_message WHERE pseudonym = $1 AND created_at >= $2",
            )
            .bind(pseudonym)
            .bind(since)
            .fetch_one(&mut *c)
            .await?;
            Ok(n)
        }

        /// A tip's attachments: (id, sealed facts).
        pub async fn attachments(c: &mut Conn, tip_id: TipId) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
            Ok(sqlx::query_as("SELECT attachment_id, facts_sealed FROM attachment WHERE tip_id = $1 ORDER BY attachment_id")
                .bind(tip_id.get())
                .fetch_all(&mut *c)
                .await?)
        }

        /// One attachment's cleaned copy and facts, sealed.
        pub async fn attachment_copy(c: &mut Conn, tip_id: TipId, attachment_id: i64, copy: AttachmentCopy) -> Result<Option<(Vec<u8>, Vec<u8>)>, StoreError> {
            Ok(sqlx::query_as(match copy {
                AttachmentCopy::Clean => "SELECT clean_sealed, facts_sealed FROM attachment WHERE tip_id = $1 AND attachment_id = $2",
                AttachmentCopy::Original => "SELECT original_sealed, facts_sealed FROM attachment WHERE tip_id = $1 AND attachment_id = $2",
            })
            .bind(tip_id.get()).bind(attachment_id)
            .fetch_optional(&mut *c)
            .await?)
        }

        /// Stores outbox messages on their own.
        pub async fn enqueue(c: &mut Conn, items: &[crate::store::NewOutbox]) -> Result<(), StoreError> {
            insert_outbox(c, items).await
        }

        /// A provider message seen before: its tip and sealed answer.
        pub async fn inbound_answer(c: &mut Conn, channel: &str, provider_id: &str) -> Result<Option<(TipId, Option<Vec<u8>>)>, StoreError> {
            let row: Option<(i64, Option<Vec<u8>>)> = sqlx::query_as(
                "SELECT tip_id, answer_sealed FROM inbound_message WHERE channel = $1 AND provider_id = $2",
            )
            .bind(channel).bind(provider_id)
            .fetch_optional(&mut *c)
            .await?;
            Ok(row.map(|(id, answer)| (TipId::from_db(id), answer)))
        }

        /// The newest open tip of a sender on a channel.
        pub async fn sender_tip(c: &mut Conn, channel: &str, pseudonym: &[u8]) -> Result<Option<TipId>, StoreError> {
            let sql = format!(
                "SELECT s.tip_id FROM tip_sender s JOIN tip t ON t.tip_id = s.tip_id \
                 WHERE s.channel = $1 AND s.pseudonym = $2 AND t.status IN ({}) ORDER BY s.tip_id DESC LIMIT 1",
                crate::store::open_statuses_sql()
            );
            let row: Option<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(channel).bind(pseudonym)
                .fetch_optional(&mut *c)
                .await?;
            Ok(row.map(|(id,)| TipId::from_db(id)))
        }

        /// The ways back to a tip's senders.
        pub async fn senders_of(c: &mut Conn, tip_id: TipId) -> Result<Vec<SenderRow>, StoreError> {
            let rows: Vec<(String, i64, Option<Vec<u8>>, i64)> = sqlx::query_as(
                "SELECT channel, tip_id, reply_sealed, last_seen_at FROM tip_sender WHERE tip_id = $1 ORDER BY last_seen_at DESC",
            )
            .bind(tip_id.get())
            .fetch_all(&mut *c)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(channel, id, reply_sealed, last_seen_at)| SenderRow {
                    channel, tip_id: TipId::from_db(id), reply_sealed, last_seen_at,
                })
                .collect())
        }

        /// Empties the answers kept for provider retries, older than `before`.
        pub async fn forget_answers(c: &mut Conn, before: i64) -> Result<u64, StoreError> {
            let done = sqlx::query(
                "UPDATE inbound_message SET answer_sealed = NULL WHERE answer_sealed IS NOT NULL AND created_at < $1",
            )
            .bind(before)
            .execute(&mut *c)
            .await?;
            Ok(done.rows_affected())
        }

        /// Generated tips (`tipline generate`): the rows with their status and last change, their
        /// terms straight into the blind index, their bands and dispatches, and one audit entry
        /// for the lot. Statements are large (bulk, not latency, matters here) but stay under
        /// both backends' limits on bound values.
        pub async fn import_tips(c: &mut Conn, keys: &Keys, tips: &[ImportedTip], audit: &AuditDraft) -> Result<(), StoreError> {
            let rows: Vec<_> = tips.iter().map(|t| (&t.tip, t.updated_at)).collect();
            insert_tips(c, &rows, 512).await?;
            let mut entries: Vec<(&[u8], i64)> = tips
                .iter()
                .flat_map(|t| t.tip.terms.iter().map(move |term| (&term[..], t.tip.tip_id.get())))
                .collect();
            insert_index_terms(c, &mut entries, 4096).await?;
            let bands: Vec<_> = tips
                .iter()
                .flat_map(|t| t.tip.bands.iter().map(move |b| (b, t.tip.tip_id.get())))
                .collect();
            insert_bands(c, &bands, 4096).await?;
            let dispatches: Vec<_> = tips
                .iter()
                .filter_map(|t| t.assignment.as_ref().map(|(a, at)| (t.tip.tip_id.get(), a, *at)))
                .collect();
            for piece in super::pieces_of(&dispatches, 1024) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO tip_assignment (tip_id, desk_id, desk_kind, district_id, brief_sealed, assigned_by, created_at) ",
                );
                q.push_values(piece, |mut row, (tip_id, a, at)| {
                    row.push_bind(*tip_id)
                        .push_bind(a.desk_id.clone())
                        .push_bind(a.desk_kind.clone())
                        .push_bind(a.district_id.clone())
                        .push_bind(a.brief_sealed.clone())
                        .push_bind(a.assigned_by)
                        .push_bind(*at);
                });
                q.build().execute(&mut *c).await?;
            }
            append_audit(c, keys, &[audit]).await
        }

        /// Tip rows with their last change (`updated_at`), in statements of up to `max` rows.
        async fn insert_tips(c: &mut Conn, rows: &[(&NewTip, i64)], max: usize) -> Result<(), StoreError> {
            for piece in super::pieces_of(rows, max) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO tip (tip_id, tip_number, secret_mac, channel, district_id, station_id, category, status, \
                     happening_now, language, key_scope, text_sealed, place_sealed, when_sealed, created_at, updated_at, \
                     priority, urgent, police_involvement, barred_station_id, triage_sealed, fingerprint, \
                     ack_due_at, action_due_at, report_due_at, escalation_due_at) ",
                );
                q.push_values(piece, |mut row, (t, updated_at)| {
                    row.push_bind(t.tip_id.get())
                        .push_bind(t.tip_number.clone())
                        .push_bind(t.secret_mac.clone())
                        .push_bind(t.channel.clone())
                        .push_bind(t.district_id.clone())
                        .push_bind(t.station_id.clone())
                        .push_bind(t.category.clone())
                        .push_bind(t.status.clone())
                        .push_bind(t.happening_now)
                        .push_bind(t.language.clone())
                        .push_bind(t.key_scope.clone())
                        .push_bind(t.text_sealed.clone())
                        .push_bind(t.place_sealed.clone())
                        .push_bind(t.when_sealed.clone())
                        .push_bind(t.created_at)
                        .push_bind(*updated_at)
                        .push_bind(t.priority.clone())
                        .push_bind(t.urgent)
                        .push_bind(t.police_involvement)
                        .push_bind(t.barred_station_id.clone())
                        .push_bind(t.triage_sealed.clone())
                        .push_bind(t.fingerprint.clone())
                        .push_bind(t.deadlines.map(|d| d.acknowledge))
                        .push_bind(t.deadlines.map(|d| d.action))
                        .push_bind(t.deadlines.map(|d| d.report))
                        .push_bind(t.deadlines.map(|d| d.acknowledge));
                });
                q.build().execute(&mut *c).await.map_err(|e| map_unique(e, "tip number"))?;
            }
            Ok(())
        }

        /// Stores a message, its terms and its audit entry, and touches the tip.
        pub async fn add_message(c: &mut Conn, keys: &Keys, m: &NewMessage) -> Result<(), StoreError> {
            if let Some(inbound) = &m.inbound {
                insert_inbound(c, inbound, m.tip_id, m.created_at).await?;
            }
            insert_message_row(c, m).await?;
            insert_outbox(c, &m.outbox).await?;
            append_audit(c, keys, &[&m.audit]).await
        }

        /// Stores a message and its terms and touches the tip (the caller writes the audit entry).
        async fn insert_message_row(c: &mut Conn, m: &NewMessage) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO tip_message (tip_message_id, tip_id, author, body_sealed, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(m.message_id)
            .bind(m.tip_id.get())
            .bind(&m.author)
            .bind(&m.body_sealed)
            .bind(m.created_at)
            .execute(&mut *c)
            .await
            .map_err(|e| map_unique(e, "message id"))?;
            sqlx::query("UPDATE tip SET updated_at = $1 WHERE tip_id = $2")
                .bind(m.created_at)
                .bind(m.tip_id.get())
                .execute(&mut *c)
                .await?;
            if !m.terms.is_empty() {
                insert_pending(c, &[(m.message_id, m.tip_id.get(), m.terms.as_flattened().to_vec())]).await?;
            }
            Ok(())
        }

        /// Adds a data key unless it exists.
        pub async fn add_data_key(c: &mut Conn, k: &StoredDataKey) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO data_key (scope, version, wrapped, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (scope, version) DO NOTHING",
            )
            .bind(&k.scope)
            .bind(k.version)
            .bind(&k.wrapped)
            .bind(k.created_at)
            .execute(&mut *c)
            .await?;
            Ok(())
        }

        /// Counts a wrong guess; a window older than `window_ms` starts again at 1.
        pub async fn record_failed_guess(c: &mut Conn, tip_id: TipId, now: i64, window_ms: i64) -> Result<(), StoreError> {
            sqlx::query(
                "UPDATE tip SET \
                 guess_failures = CASE WHEN guess_window_start < $2 THEN 1 ELSE guess_failures + 1 END, \
                 guess_window_start = CASE WHEN guess_window_start < $2 THEN $3 ELSE guess_window_start END \
                 WHERE tip_id = $1",
            )
            .bind(tip_id.get())
            .bind(now - window_ms)
            .bind(now)
            .execute(&mut *c)
            .await?;
            Ok(())
        }

        /// Clears the wrong-guess count.
        pub async fn clear_failed_guesses(c: &mut Conn, tip_id: TipId) -> Result<(), StoreError> {
            sqlx::query("UPDATE tip SET guess_failures = 0, guess_window_start = 0 WHERE tip_id = $1 AND guess_failures <> 0")
                .bind(tip_id.get())
                .execute(&mut *c)
                .await?;
            Ok(())
        }

        /// All data keys.
        pub async fn data_keys(c: &mut Conn) -> Result<Vec<StoredDataKey>, StoreError> {
            let rows: Vec<(String, i64, Vec<u8>, i64)> =
                sqlx::query_as("SELECT scope, version, wrapped, created_at FROM data_key ORDER BY scope, version")
                    .fetch_all(&mut *c)
                    .await?;
            Ok(rows
                .into_iter()
                .map(|(scope, version, wrapped, created_at)| StoredDataKey { scope, version, wrapped, created_at })
                .collect())
        }

        /// The follow-up check's view of a tip.
        pub async fn tip_auth(c: &mut Conn, tip_number: &str) -> Result<Option<TipAuth>, StoreError> {
            let row: Option<(i64, Vec<u8>, i64, i64)> = sqlx::query_as(
                "SELECT tip_id, secret_mac, guess_failures, guess_window_start FROM tip WHERE tip_number = $1",
            )
            .bind(tip_number)
            .fetch_optional(&mut *c)
            .await?;
            Ok(row.map(|(id, secret_mac, guess_failures, guess_window_start)| TipAuth {
                tip_id: TipId::from_db(id),
                secret_mac,
                guess_failures,
                guess_window_start,
            }))
        }

        const TIP_COLUMNS: &str = "SELECT tip_id, tip_number, status, district_id, category, station_id, priority, urgent, \
             police_involvement, barred_station_id, channel, key_scope, text_sealed, triage_sealed, fingerprint, \
             created_at, updated_at, ack_due_at, action_due_at, report_due_at, flooded FROM tip WHERE ";

        /// A tip by id.
        pub async fn tip(c: &mut Conn, tip_id: TipId) -> Result<Option<TipRecord>, StoreError> {
            Ok(tips(c, &[tip_id]).await?.pop())
        }

        /// Tips by id, in id order; ids without a tip are left out. One round trip per piece of
        /// up to 64 ids, instead of one per tip.
        pub async fn tips(c: &mut Conn, ids: &[TipId]) -> Result<Vec<TipRecord>, StoreError> {
            let mut out = Vec::with_capacity(ids.len());
            for piece in super::pieces(ids) {
                let mut q = sqlx::QueryBuilder::<$db>::new(TIP_COLUMNS);
                q.push("tip_id IN (");
                let mut list = q.separated(", ");
                for id in piece {
                    list.push_bind(id.get());
                }
                q.push(")");
                for row in q.build().fetch_all(&mut *c).await? {
                    out.push(tip_record(&row)?);
                }
            }
            out.sort_unstable_by_key(|t| t.tip_id.get());
            Ok(out)
        }

        /// The three deadline columns, if the tip has them.
        fn deadlines_of(r: &<$db as sqlx::Database>::Row) -> Result<Option<crate::policy::TipDeadlines>, sqlx::Error> {
            use sqlx::Row;
            let (ack, action, report): (Option<i64>, Option<i64>, Option<i64>) =
                (r.try_get("ack_due_at")?, r.try_get("action_due_at")?, r.try_get("report_due_at")?);
            Ok(match (ack, action, report) {
                (Some(acknowledge), Some(action), Some(report)) => {
                    Some(crate::policy::TipDeadlines { acknowledge, action, report })
                }
                _ => None,
            })
        }

        fn tip_record(r: &<$db as sqlx::Database>::Row) -> Result<TipRecord, StoreError> {
            use sqlx::Row;
            Ok(TipRecord {
                tip_id: TipId::from_db(r.try_get("tip_id")?),
                tip_number: r.try_get("tip_number")?,
                status: r.try_get("status")?,
                district_id: r.try_get("district_id")?,
                category: r.try_get("category")?,
                station_id: r.try_get("station_id")?,
                priority: r.try_get("priority")?,
                urgent: r.try_get("urgent")?,
                police_involvement: r.try_get("police_involvement")?,
                flooded: r.try_get("flooded")?,
                barred_station_id: r.try_get("barred_station_id")?,
                channel: r.try_get("channel")?,
                key_scope: r.try_get("key_scope")?,
                text_sealed: r.try_get("text_sealed")?,
                triage_sealed: r.try_get("triage_sealed")?,
                deadlines: deadlines_of(r)?,
                fingerprint: r.try_get("fingerprint")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        }

        /// A tip's messages, oldest first.
        pub async fn messages(c: &mut Conn, tip_id: TipId) -> Result<Vec<StoredMessage>, StoreError> {
            let rows: Vec<(i64, String, Vec<u8>, i64)> = sqlx::query_as(
                "SELECT tip_message_id, author, body_sealed, created_at FROM tip_message \
                 WHERE tip_id = $1 ORDER BY created_at, tip_message_id",
            )
            .bind(tip_id.get())
            .fetch_all(&mut *c)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(message_id, author, body_sealed, created_at)| StoredMessage { message_id, author, body_sealed, created_at })
                .collect())
        }

        /// Tips having a term, newest first. Tip ids are time-ordered (creation time in the high
        /// bits), so the newest are the highest ids: read backwards from the (term, tip_id) key
        /// and stopped at `limit`, instead of fetching every tip with the term to sort it by
        /// `created_at` (a common word is in a third of all tips).
        pub async fn tips_with_term(c: &mut Conn, term: [u8; 16], limit: i64) -> Result<Vec<TipId>, StoreError> {
            let rows: Vec<(i64,)> = sqlx::query_as(concat!(
                "SELECT tip_id FROM (SELECT tip_id FROM tip_term WHERE term = $1 ORDER BY tip_id DESC LIMIT $2) AS indexed \
                 UNION SELECT tip_id FROM term_pending WHERE ",
                $contains,
                " ORDER BY tip_id DESC LIMIT $2"
            ))
            .bind(term.to_vec())
            .bind(limit)
            .fetch_all(&mut *c)
            .await?;
            Ok(rows.into_iter().map(|(id,)| TipId::from_db(id)).collect())
        }

        /// Audit entries after a position.
        pub async fn audit_entries(c: &mut Conn, after_seq: i64, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
            #[allow(clippy::type_complexity)]
            let rows: Vec<(i64, i64, String, String, String, String, Vec<u8>, Vec<u8>)> = sqlx::query_as(
                "SELECT audit_seq, created_at, actor, action, subject, detail, prev_mac, entry_mac FROM audit_log \
                 WHERE audit_seq > $1 ORDER BY audit_seq LIMIT $2",
            )
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(seq, created_at, actor, action, subject, detail, prev_mac, entry_mac)| AuditEntry {
                    seq,
                    created_at,
                    actor,
                    action,
                    subject,
                    detail,
                    prev_mac,
                    entry_mac,
                })
                .collect())
        }

        /// The recorded end of the chain.
        pub async fn audit_head(c: &mut Conn) -> Result<(i64, Vec<u8>), StoreError> {
            Ok(sqlx::query_as("SELECT last_seq, last_mac FROM audit_head WHERE audit_head_id = 1")
                .fetch_one(&mut *c)
                .await?)
        }

        /// Tip ids after `after`, in order.
        pub async fn tip_ids_after(c: &mut Conn, after: i64, limit: i64) -> Result<Vec<TipId>, StoreError> {
            let rows: Vec<(i64,)> = sqlx::query_as("SELECT tip_id FROM tip WHERE tip_id > $1 ORDER BY tip_id LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *c)
                .await?;
            Ok(rows.into_iter().map(|(id,)| TipId::from_db(id)).collect())
        }

        /// Number of tips.
        pub async fn tip_count(c: &mut Conn) -> Result<i64, StoreError> {
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tip").fetch_one(&mut *c).await?;
            Ok(n)
        }
    };
}

/// The queries on SQLite.
pub mod sqlite {
    backend_queries!(sqlx::Sqlite, "", "instr(terms, $1) > 0");
    console_queries!(
        sqlx::Sqlite,
        "instr(terms, ",
        ") > 0",
        "",
        " INDEXED BY tip_open_queue_all"
    );
}

/// The queries on PostgreSQL.
pub mod postgres {
    backend_queries!(sqlx::Postgres, " FOR UPDATE", "position($1 in terms) > 0");
    console_queries!(
        sqlx::Postgres,
        "position(",
        " in terms) > 0",
        " FOR UPDATE SKIP LOCKED",
        ""
    );
}

#[cfg(test)]
mod tests {
    use super::pieces_of;

    #[test]
    fn pieces_cover_every_row_once_in_few_shapes() {
        for n in 0..300usize {
            let rows: Vec<usize> = (0..n).collect();
            let parts = pieces_of(&rows, 64);
            let joined: Vec<usize> = parts.iter().flat_map(|p| p.iter().copied()).collect();
            assert_eq!(joined, rows);
            assert!(
                parts
                    .iter()
                    .all(|p| p.len().is_power_of_two() && p.len() <= 64)
            );
        }
    }
}
