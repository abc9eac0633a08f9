//! The officer console's SQL, written once and expanded for each backend inside the same module as
//! `backend_queries!` (so both share `append_audit` and the other helpers).

macro_rules! console_queries {
    ($db:ty, $contains_before:literal, $contains_after:literal, $skip_locked:literal, $open_all_index:literal) => {
        /// Row locks skipped by a claim (PostgreSQL; SQLite has one writer).
        const SKIP_LOCKED: &str = $skip_locked;
        /// Names the index of every district's open queue for the planner where it needs telling
        /// (SQLite, which has no statistics, would otherwise sort all open tips for one page).
        const OPEN_ALL_INDEX: &str = $open_all_index;

        use crate::store::console::{
            ActionReportRow, AssignmentRow, AuditFilter, CorrectionRow, Delivery, DeliveryReport, DigestRow, DueTip, Escalation, NewOutbox,
            NewShift, OutboxRow, ShiftRow, NewOfficer, TriageCorrection, TriageField, OfficerChange, OfficerRow, QueueFilter, QueueRow, SessionRow,
            TipChange,
        };

        const OFFICER_COLUMNS: &str = "officer_id, username, display_name, role, district_id, desk_id, password_hash, \
             totp_sealed, totp_enrolled, totp_last_step, disabled, failed_logins, locked_until, created_at, phone, email";

        fn officer_row(r: &<$db as sqlx::Database>::Row) -> Result<OfficerRow, sqlx::Error> {
            use sqlx::Row;
            Ok(OfficerRow {
                officer_id: r.try_get("officer_id")?,
                username: r.try_get("username")?,
                display_name: r.try_get("display_name")?,
                role: r.try_get("role")?,
                district_id: r.try_get("district_id")?,
                desk_id: r.try_get("desk_id")?,
                password_hash: r.try_get("password_hash")?,
                totp_sealed: r.try_get("totp_sealed")?,
                totp_enrolled: r.try_get("totp_enrolled")?,
                totp_last_step: r.try_get("totp_last_step")?,
                disabled: r.try_get("disabled")?,
                failed_logins: r.try_get("failed_logins")?,
                locked_until: r.try_get("locked_until")?,
                created_at: r.try_get("created_at")?,
                phone: r.try_get("phone")?,
                email: r.try_get("email")?,
            })
        }

        /// An officer by id or by login name.
        pub async fn officer(c: &mut Conn, id: Option<i64>, username: Option<&str>) -> Result<Option<OfficerRow>, StoreError> {
            let sql = format!("SELECT {OFFICER_COLUMNS} FROM officer WHERE officer_id = $1 OR username = $2");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(username).fetch_optional(&mut *c).await?;
            Ok(row.map(|r| officer_row(&r)).transpose()?)
        }

        /// Every officer, by district and name.
        pub async fn officers(c: &mut Conn) -> Result<Vec<OfficerRow>, StoreError> {
            let sql = format!("SELECT {OFFICER_COLUMNS} FROM officer ORDER BY district_id, username");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *c).await?;
            Ok(rows.iter().map(officer_row).collect::<Result<_, _>>()?)
        }

        /// Adds an officer and its audit entry; returns the id.
        pub async fn create_officer(c: &mut Conn, keys: &Keys, o: &NewOfficer) -> Result<i64, StoreError> {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO officer (username, display_name, role, district_id, desk_id, password_hash, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING officer_id",
            )
            .bind(&o.username)
            .bind(&o.display_name)
            .bind(&o.role)
            .bind(&o.district_id)
            .bind(&o.desk_id)
            .bind(&o.password_hash)
            .bind(o.created_at)
            .fetch_one(&mut *c)
            .await
            .map_err(|e| map_unique(e, "username"))?;
            let detail = serde_json::json!({
                "username": o.username, "role": o.role, "district": o.district_id, "desk": o.desk_id,
            });
            let draft = AuditDraft {
                actor: o.actor.clone(),
                action: "officer.create".into(),
                subject: format!("officer:{id}"),
                detail: detail.to_string(),
                created_at: o.created_at,
            };
            append_audit(c, keys, &[&draft]).await?;
            Ok(id)
        }

        /// Applies a change to an account with its audit entry.
        pub async fn change_officer(
            c: &mut Conn,
            keys: &Keys,
            id: i64,
            change: &OfficerChange,
            audit: &AuditDraft,
        ) -> Result<(), StoreError> {
            let now = audit.created_at;
            let ends_sessions = match change {
                OfficerChange::LoginFailed { failed_logins, locked_until } => {
                    sqlx::query("UPDATE officer SET failed_logins = $2, locked_until = $3, updated_at = $4 WHERE officer_id = $1")
                        .bind(id).bind(failed_logins).bind(locked_until).bind(now).execute(&mut *c).await?;
                    false
                }
                OfficerChange::LoginSucceeded { totp_step } | OfficerChange::TotpEnrolled { totp_step } => {
                    let done = sqlx::query(
                        "UPDATE officer SET failed_logins = 0, locked_until = 0, totp_enrolled = $3, totp_last_step = $2, \
                         updated_at = $4 WHERE officer_id = $1 AND totp_last_step < $2",
                    )
                    .bind(id).bind(totp_step).bind(true).bind(now).execute(&mut *c).await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::Conflict("second-factor code"));
                    }
                    false
                }
                OfficerChange::TotpGenerated { totp_sealed } => {
                    sqlx::query("UPDATE officer SET totp_sealed = $2, totp_enrolled = $3, updated_at = $4 WHERE officer_id = $1")
                        .bind(id).bind(totp_sealed).bind(false).bind(now).execute(&mut *c).await?;
                    false
                }
                OfficerChange::PasswordReset { password_hash } => {
                    sqlx::query(
                        "UPDATE officer SET password_hash = $2, totp_sealed = NULL, totp_enrolled = $3, failed_logins = 0, \
                         locked_until = 0, updated_at = $4 WHERE officer_id = $1",
                    )
                    .bind(id).bind(password_hash).bind(false).bind(now).execute(&mut *c).await?;
                    true
                }
                OfficerChange::Disabled(disabled) => {
                    sqlx::query("UPDATE officer SET disabled = $2, updated_at = $3 WHERE officer_id = $1")
                        .bind(id).bind(disabled).bind(now).execute(&mut *c).await?;
                    *disabled
                }
            };
            if ends_sessions {
                sqlx::query("DELETE FROM officer_session WHERE officer_id = $1").bind(id).execute(&mut *c).await?;
            }
            append_audit(c, keys, &[audit]).await
        }

        /// Starts a session (the caller has checked the credentials for `stage`). Any session
        /// `replacing` is removed in the same transaction: the id rotates at every login step.
        pub async fn create_session(
            c: &mut Conn,
            hash: &[u8],
            officer_id: i64,
            stage: &str,
            now: i64,
            replacing: Option<&[u8]>,
        ) -> Result<(), StoreError> {
            if let Some(old) = replacing {
                sqlx::query("DELETE FROM officer_session WHERE session_hash = $1").bind(old).execute(&mut *c).await?;
            }
            sqlx::query(
                "INSERT INTO officer_session (session_hash, officer_id, stage, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(hash)
            .bind(officer_id)
            .bind(stage)
            .bind(now)
            .execute(&mut *c)
            .await?;
            Ok(())
        }

        /// A session and its officer, by the hash of the cookie value.
        pub async fn session(c: &mut Conn, hash: &[u8]) -> Result<Option<(SessionRow, OfficerRow)>, StoreError> {
            use sqlx::Row;
            let cols = OFFICER_COLUMNS.split(", ").map(|col| format!("o.{col}")).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "SELECT s.stage, s.created_at AS session_created_at, s.last_seen_at, {cols} FROM officer_session s \
                 JOIN officer o ON o.officer_id = s.officer_id WHERE s.session_hash = $1"
            );
            let Some(r) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(hash).fetch_optional(&mut *c).await? else {
                return Ok(None);
            };
            let officer = officer_row(&r)?;
            let session = SessionRow {
                officer_id: officer.officer_id,
                stage: r.try_get("stage")?,
                created_at: r.try_get("session_created_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
            };
            Ok(Some((session, officer)))
        }

        /// Marks a session as used now.
        pub async fn touch_session(c: &mut Conn, hash: &[u8], now: i64) -> Result<(), StoreError> {
            sqlx::query("UPDATE officer_session SET last_seen_at = $2 WHERE session_hash = $1")
                .bind(hash).bind(now).execute(&mut *c).await?;
            Ok(())
        }

        /// Ends a session.
        pub async fn end_session(c: &mut Conn, hash: &[u8]) -> Result<(), StoreError> {
            sqlx::query("DELETE FROM officer_session WHERE session_hash = $1").bind(hash).execute(&mut *c).await?;
            Ok(())
        }

        /// After a status or deadline change: the ladder's clock restarts at the running step's
        /// deadline (none once the tip is past action).
        fn reset_escalation_due() -> String {
            format!("UPDATE tip SET escalation_due_at = {} WHERE tip_id = $1", crate::store::CURRENT_DUE_SQL)
        }

        /// Tips due to climb the escalation ladder, most overdue first.
        pub async fn late_tips(c: &mut Conn, now: i64, limit: i64) -> Result<Vec<DueTip>, StoreError> {
            use sqlx::Row;
            let rows = sqlx::query(
                "SELECT tip_id, status, district_id, police_involvement, created_at, ack_due_at, action_due_at, \
                 report_due_at, escalation_step, escalation_level FROM tip \
                 WHERE escalation_due_at IS NOT NULL AND escalation_due_at <= $1 ORDER BY escalation_due_at LIMIT $2",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let Some(deadlines) = deadlines_of(&r)? else { continue };
                out.push(DueTip {
                    tip_id: TipId::from_db(r.try_get("tip_id")?),
                    status: r.try_get("status")?,
                    district_id: r.try_get("district_id")?,
                    police_involvement: r.try_get("police_involvement")?,
                    created_at: r.try_get("created_at")?,
                    deadlines,
                    escalation_step: r.try_get("escalation_step")?,
                    escalation_level: r.try_get("escalation_level")?,
                });
            }
            Ok(out)
        }

        /// Takes a rung of the ladder if the tip is still where the job saw it; false if not (it
        /// changed, or another node took the rung first).
        pub async fn escalate(c: &mut Conn, keys: &Keys, e: &Escalation) -> Result<bool, StoreError> {
            let done = sqlx::query(
                "UPDATE tip SET escalation_step = $2, escalation_level = $3, escalation_due_at = $4 \
                 WHERE tip_id = $1 AND status = $5 AND escalation_level = $6 \
                 AND escalation_step IS NOT DISTINCT FROM $7",
            )
            .bind(e.tip_id.get())
            .bind(&e.step)
            .bind(e.level)
            .bind(e.next_due)
            .bind(&e.status)
            .bind(e.from_level)
            .bind(e.from_step.clone())
            .execute(&mut *c)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            insert_outbox(c, &e.outbox).await?;
            if let Some(audit) = &e.audit {
                append_audit(c, keys, &[audit]).await?;
            }
            Ok(true)
        }

        /// Stores messages to send; one already stored under the same key is left as it is.
        async fn insert_outbox(c: &mut Conn, items: &[NewOutbox]) -> Result<(), StoreError> {
            for o in items {
                sqlx::query(
                    "INSERT INTO outbox (outbox_key, purpose, channel, tip_id, officer_id, payload_sealed, status, \
                     next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7) \
                     ON CONFLICT (outbox_key) DO NOTHING",
                )
                .bind(&o.outbox_key).bind(&o.purpose).bind(&o.channel).bind(o.tip_id.map(|t| t.get()))
                .bind(o.officer_id).bind(&o.payload_sealed).bind(o.created_at)
                .execute(&mut *c)
                .await?;
            }
            Ok(())
        }

        /// New urgent tips since a time whose alerts are not yet stored.
        pub async fn tips_to_alert(c: &mut Conn, since: i64, limit: i64) -> Result<Vec<TipId>, StoreError> {
            let rows: Vec<(i64,)> = sqlx::query_as(
                "SELECT tip_id FROM tip WHERE alerted_at IS NULL AND urgent AND created_at >= $1 ORDER BY created_at LIMIT $2",
            )
            .bind(since)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?;
            Ok(rows.into_iter().map(|(id,)| TipId::from_db(id)).collect())
        }

        /// Stores the alerts of a pass and marks their tips alerted, each once: a tip already
        /// marked (by another node) keeps its alerts as they are. One statement marks up to 64
        /// tips. Returns how many tips this call marked.
        pub async fn store_alerts(c: &mut Conn, batch: &[(TipId, Vec<NewOutbox>)], now: i64) -> Result<usize, StoreError> {
            let ids: Vec<i64> = batch.iter().map(|(tip_id, _)| tip_id.get()).collect();
            let mut marked = std::collections::HashSet::new();
            for piece in super::pieces(&ids) {
                let mut q = sqlx::QueryBuilder::<$db>::new("UPDATE tip SET alerted_at = ");
                q.push_bind(now).push(" WHERE alerted_at IS NULL AND tip_id IN (");
                let mut list = q.separated(", ");
                for id in piece {
                    list.push_bind(*id);
                }
                q.push(") RETURNING tip_id");
                let rows: Vec<(i64,)> = q.build_query_as().fetch_all(&mut *c).await?;
                marked.extend(rows.into_iter().map(|(id,)| id));
            }
            for (tip_id, items) in batch {
                if marked.contains(&tip_id.get()) {
                    insert_outbox(c, items).await?;
                }
            }
            Ok(marked.len())
        }

        const OUTBOX_COLUMNS: &str = "outbox_id, outbox_key, purpose, channel, tip_id, officer_id, payload_sealed, status, \
             attempts, last_error, created_at, sent_at, delivery, delivery_error";

        fn outbox_row(r: &<$db as sqlx::Database>::Row) -> Result<OutboxRow, sqlx::Error> {
            use sqlx::Row;
            Ok(OutboxRow {
                outbox_id: r.try_get("outbox_id")?,
                outbox_key: r.try_get("outbox_key")?,
                purpose: r.try_get("purpose")?,
                channel: r.try_get("channel")?,
                tip_id: r.try_get::<Option<i64>, _>("tip_id")?.map(TipId::from_db),
                officer_id: r.try_get("officer_id")?,
                payload_sealed: r.try_get("payload_sealed")?,
                status: r.try_get("status")?,
                attempts: r.try_get("attempts")?,
                last_error: r.try_get("last_error")?,
                created_at: r.try_get("created_at")?,
                sent_at: r.try_get("sent_at")?,
                delivery: r.try_get("delivery")?,
                delivery_error: r.try_get("delivery_error")?,
            })
        }

        /// Is any message due (to send, or left by a node whose lease ran out)?
        pub async fn outbox_due(c: &mut Conn, now: i64) -> Result<bool, StoreError> {
            let row: Option<(i64,)> = sqlx::query_as(
                "SELECT outbox_id FROM outbox WHERE (status = 'pending' AND next_attempt_at <= $1) \
                 OR (status = 'sending' AND lease_until < $1) LIMIT 1",
            )
            .bind(now)
            .fetch_optional(&mut *c)
            .await?;
            Ok(row.is_some())
        }

        /// Claims due messages for this node until `lease_until` (a node that dies leaves them to
        /// be claimed again when the lease runs out).
        pub async fn claim_outbox(c: &mut Conn, now: i64, lease_until: i64, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
            let sql = format!(
                "UPDATE outbox SET status = 'sending', lease_until = $2, attempts = attempts + 1 WHERE outbox_id IN \
                 (SELECT outbox_id FROM outbox WHERE (status = 'pending' AND next_attempt_at <= $1) \
                 OR (status = 'sending' AND lease_until < $1) ORDER BY next_attempt_at LIMIT $3{SKIP_LOCKED}) \
                 RETURNING {OUTBOX_COLUMNS}"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).bind(lease_until).bind(limit).fetch_all(&mut *c).await?;
            Ok(rows.iter().map(outbox_row).collect::<Result<_, _>>()?)
        }

        /// Records how a delivery attempt ended, if the message is still this attempt's (see
        /// `Store::finish_outbox`).
        pub async fn finish_outbox(c: &mut Conn, outbox_id: i64, attempt: i64, result: &Delivery, now: i64) -> Result<(), StoreError> {
            const MINE: &str = "WHERE outbox_id = $1 AND attempts = $2 AND status = 'sending'";
            let q = match result {
                // A message that is done needs no destination any more: its sealed payload (a
                // tipster's reply address, a caller's number to ring back) is erased with it.
                Delivery::Sent => sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE outbox SET status = 'sent', sent_at = $3, lease_until = NULL, payload_sealed = $4 {MINE}"
                )))
                .bind(outbox_id).bind(attempt).bind(now).bind(Vec::<u8>::new()),
                Delivery::SentAs { provider_ref, recipient_ref, at } => sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE outbox SET status = 'sent', sent_at = $3, lease_until = NULL, payload_sealed = $4, \
                     provider_ref = $5, recipient_ref = $6 {MINE}"
                )))
                .bind(outbox_id).bind(attempt).bind(*at).bind(Vec::<u8>::new())
                .bind(provider_ref.clone()).bind(recipient_ref.clone()),
                Delivery::Retry { error, at } => sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE outbox SET status = 'pending', next_attempt_at = $3, last_error = $4, lease_until = NULL {MINE}"
                )))
                .bind(outbox_id).bind(attempt).bind(*at).bind(error.clone()),
                Delivery::Failed { error } => sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE outbox SET status = 'failed', last_error = $3, lease_until = NULL, payload_sealed = $4 {MINE}"
                )))
                .bind(outbox_id).bind(attempt).bind(error.clone()).bind(Vec::<u8>::new()),
            };
            if q.execute(&mut *c).await?.rows_affected() == 0 {
                tracing::warn!(outbox_id, attempt, "delivery result came after the lease ran out; the later claim decides");
            }
            Ok(())
        }

        /// Messages about a tip, or every one that did not arrive (`None`: given up here, or
        /// reported failed by its provider), newest first.
        pub async fn outbox_about(c: &mut Conn, tip_id: Option<TipId>, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
            // Two statements, so that each reads one index (a parameter test would hide the
            // partial index `outbox_undelivered` from both planners).
            let sql = match tip_id {
                Some(_) => format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE tip_id = $1 ORDER BY outbox_id DESC LIMIT $2"),
                None => format!(
                    "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE (status = 'failed' OR delivery = 'failed') AND $1 IS NULL \
                     ORDER BY outbox_id DESC LIMIT $2"
                ),
            };
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tip_id.map(|t| t.get()))
                .bind(limit)
                .fetch_all(&mut *c)
                .await?;
            Ok(rows.iter().map(outbox_row).collect::<Result<_, _>>()?)
        }

        /// The newest outbox messages, whatever became of them.
        pub async fn outbox_recent(c: &mut Conn, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
            let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY outbox_id DESC LIMIT $1");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(&mut *c).await?;
            Ok(rows.iter().map(outbox_row).collect::<Result<_, _>>()?)
        }

        /// Records a provider's report of the message it named `provider_ref`, unless a report of
        /// the same or a higher rank came first (callbacks come out of order). Returns how many
        /// messages it changed (none for an unknown id).
        pub async fn record_delivery(c: &mut Conn, provider_ref: &str, report: &DeliveryReport) -> Result<u64, StoreError> {
            let done = sqlx::query(
                "UPDATE outbox SET delivery = $2, delivery_rank = $3, delivery_error = $4, delivery_at = $5 \
                 WHERE provider_ref = $1 AND delivery_rank < $3",
            )
            .bind(provider_ref).bind(report.status).bind(report.rank).bind(report.error.clone()).bind(report.at)
            .execute(&mut *c)
            .await?;
            Ok(done.rows_affected())
        }

        /// Records a Messenger watermark: every message to `recipient_ref` handed over at or
        /// before `watermark` was delivered (or read), unless it stands higher already.
        pub async fn record_watermark(c: &mut Conn, recipient_ref: &str, watermark: i64, report: &DeliveryReport) -> Result<u64, StoreError> {
            let done = sqlx::query(
                "UPDATE outbox SET delivery = $3, delivery_rank = $4, delivery_error = NULL, delivery_at = $5 \
                 WHERE recipient_ref = $1 AND sent_at <= $2 AND delivery_rank < $4",
            )
            .bind(recipient_ref).bind(watermark).bind(report.status).bind(report.rank).bind(report.at)
            .execute(&mut *c)
            .await?;
            Ok(done.rows_affected())
        }

        /// Open tips per district: how many, how many late on their running step, how many
        /// escalated.
        pub async fn district_stats(c: &mut Conn, now: i64) -> Result<Vec<(Option<String>, i64, i64, i64)>, StoreError> {
            let sql = format!(
                "SELECT district_id, COUNT(*), \
                 COALESCE(SUM(CASE WHEN escalation_due_at IS NOT NULL AND escalation_due_at <= $1 THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN escalation_level > 0 THEN 1 ELSE 0 END), 0) \
                 FROM tip WHERE status IN ({}) GROUP BY district_id",
                crate::store::open_statuses_sql()
            );
            let rows: Vec<(Option<String>, i64, i64, i64)> =
                sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).fetch_all(&mut *c).await?;
            Ok(rows)
        }

        /// The digest's counts per district (`None`: tips with no district) for the tips and
        /// actions from `from` to `until`, and the open tips overdue at `now`.
        pub async fn digest_counts(c: &mut Conn, from: i64, until: i64, now: i64) -> Result<Vec<DigestRow>, StoreError> {
            let mut out: Vec<DigestRow> = Vec::new();
            let mut add = |district: Option<String>, f: &dyn Fn(&mut DigestRow)| {
                let scope = district.unwrap_or_default();
                match out.iter_mut().find(|r| r.scope == scope) {
                    Some(r) => f(r),
                    None => {
                        let mut r = DigestRow { scope, ..DigestRow::default() };
                        f(&mut r);
                        out.push(r);
                    }
                }
            };
            let received: Vec<(Option<String>, i64)> = sqlx::query_as(
                "SELECT district_id, COUNT(*) FROM tip WHERE created_at >= $1 AND created_at < $2 GROUP BY district_id",
            )
            .bind(from).bind(until)
            .fetch_all(&mut *c)
            .await?;
            for (d, n) in received {
                add(d, &|r| r.received = n);
            }
            // Audit subjects are `tip:<id>`; only tip actions are read.
            let acted: Vec<(Option<String>, i64, i64)> = sqlx::query_as(
                "SELECT t.district_id, \
                 COALESCE(SUM(CASE WHEN a.action = 'tip.acknowledge' AND t.ack_due_at IS NOT NULL AND a.created_at > t.ack_due_at THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN a.action = 'tip.escalate' THEN 1 ELSE 0 END), 0) \
                 FROM audit_log a JOIN tip t ON t.tip_id = CAST(substr(a.subject, 5) AS BIGINT) \
                 WHERE a.created_at >= $1 AND a.created_at < $2 AND a.action IN ('tip.acknowledge', 'tip.escalate') \
                 GROUP BY t.district_id",
            )
            .bind(from).bind(until)
            .fetch_all(&mut *c)
            .await?;
            for (d, late, escalated) in acted {
                add(d, &|r| {
                    r.acknowledged_late = late;
                    r.escalated = escalated;
                });
            }
            let sql = format!(
                "SELECT district_id, COUNT(*) FROM tip WHERE {} <= $1 GROUP BY district_id",
                crate::store::CURRENT_DUE_SQL
            );
            let overdue: Vec<(Option<String>, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).fetch_all(&mut *c).await?;
            for (d, n) in overdue {
                add(d, &|r| r.overdue = n);
            }
            Ok(out)
        }

        /// Whether the digest of `day` is stored.
        pub async fn digest_done(c: &mut Conn, day: &str) -> Result<bool, StoreError> {
            let row: Option<(String,)> = sqlx::query_as("SELECT scope FROM digest WHERE day = $1 AND scope = 'range'")
                .bind(day)
                .fetch_optional(&mut *c)
                .await?;
            Ok(row.is_some())
        }

        /// Stores a day's digest (the `range` row first: a conflict means another node did the
        /// day, and nothing is stored) and its emails; false if it was done already.
        pub async fn store_digest(c: &mut Conn, rows: &[DigestRow], mail: &[NewOutbox], now: i64) -> Result<bool, StoreError> {
            let mut ordered: Vec<&DigestRow> = rows.iter().filter(|r| r.scope == "range").collect();
            ordered.extend(rows.iter().filter(|r| r.scope != "range"));
            for (i, r) in ordered.into_iter().enumerate() {
                let done = sqlx::query(
                    "INSERT INTO digest (day, scope, received, acknowledged_late, overdue, escalated, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (day, scope) DO NOTHING",
                )
                .bind(&r.day).bind(&r.scope).bind(r.received).bind(r.acknowledged_late)
                .bind(r.overdue).bind(r.escalated).bind(now)
                .execute(&mut *c)
                .await?;
                if i == 0 && done.rows_affected() == 0 {
                    return Ok(false);
                }
            }
            insert_outbox(c, mail).await?;
            Ok(true)
        }

        /// Stored digests of these scopes, newest day first.
        pub async fn digests(c: &mut Conn, scopes: &[String], limit: i64) -> Result<Vec<DigestRow>, StoreError> {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "SELECT day, scope, received, acknowledged_late, overdue, escalated FROM digest WHERE scope IN (",
            );
            let mut sep = q.separated(", ");
            for s in scopes {
                sep.push_bind(s.clone());
            }
            q.push(") ORDER BY day DESC, scope LIMIT ").push_bind(limit);
            let rows: Vec<(String, String, i64, i64, i64, i64)> = q.build_query_as().fetch_all(&mut *c).await?;
            Ok(rows
                .into_iter()
                .map(|(day, scope, received, acknowledged_late, overdue, escalated)| DigestRow {
                    day, scope, received, acknowledged_late, overdue, escalated,
                })
                .collect())
        }

        /// Adds a duty shift with its audit entry.
        pub async fn add_shift(c: &mut Conn, keys: &Keys, s: &NewShift) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO duty_shift (duty, district_id, desk_id, officer_id, starts_at, ends_at, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&s.duty).bind(s.district_id.clone()).bind(s.desk_id.clone()).bind(s.officer_id)
            .bind(s.starts_at).bind(s.ends_at).bind(&s.audit.actor).bind(s.audit.created_at)
            .execute(&mut *c)
            .await?;
            append_audit(c, keys, &[&s.audit]).await
        }

        /// Shifts that have not ended by `from` and start before `until`, with the officers'
        /// contacts (disabled officers left out).
        pub async fn shifts(c: &mut Conn, from: i64, until: i64) -> Result<Vec<ShiftRow>, StoreError> {
            #[allow(clippy::type_complexity)]
            let rows: Vec<(i64, String, Option<String>, Option<String>, i64, String, Option<String>, Option<String>, i64, i64)> =
                sqlx::query_as(
                    "SELECT s.shift_id, s.duty, s.district_id, s.desk_id, s.officer_id, o.display_name, o.phone, o.email, \
                     s.starts_at, s.ends_at FROM duty_shift s JOIN officer o ON o.officer_id = s.officer_id \
                     WHERE s.ends_at > $1 AND s.starts_at < $2 AND o.disabled = $3 ORDER BY s.starts_at, s.shift_id",
                )
                .bind(from)
                .bind(until)
                .bind(false)
                .fetch_all(&mut *c)
                .await?;
            Ok(rows
                .into_iter()
                .map(|(shift_id, duty, district_id, desk_id, officer_id, display_name, phone, email, starts_at, ends_at)| {
                    ShiftRow { shift_id, duty, district_id, desk_id, officer_id, display_name, phone, email, starts_at, ends_at }
                })
                .collect())
        }

        /// Sets an officer's alert contacts, with the audit entry.
        pub async fn set_contacts(
            c: &mut Conn,
            keys: &Keys,
            officer_id: i64,
            phone: Option<&str>,
            email: Option<&str>,
            audit: &AuditDraft,
        ) -> Result<(), StoreError> {
            sqlx::query("UPDATE officer SET phone = $2, email = $3, updated_at = $4 WHERE officer_id = $1")
                .bind(officer_id).bind(phone).bind(email).bind(audit.created_at)
                .execute(&mut *c)
                .await?;
            append_audit(c, keys, &[audit]).await
        }

        /// A term is rare below this many tips: a search starts from its set of tips.
        const RARE_TERM: i64 = 2000;

        /// How many tips have a term, counted up to `RARE_TERM`.
        async fn term_count(c: &mut Conn, term: &[u8; 16]) -> Result<i64, StoreError> {
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM (SELECT 1 FROM tip_term WHERE term = $1 LIMIT $2) AS x")
                .bind(term.to_vec())
                .bind(RARE_TERM)
                .fetch_one(&mut *c)
                .await?;
            Ok(n)
        }

        /// The queue: tips matching the filter by priority, then oldest first, from a paging key.
        pub async fn queue(c: &mut Conn, f: &QueueFilter) -> Result<Vec<QueueRow>, StoreError> {
            use sqlx::Row;
            // A word search: the rarest term (if it is rare) gives a small set to start from; every
            // other term is checked tip by tip along the queue's own order, so the cost is bounded
            // by the tips in scope, not by how common a word is over all years.
            let mut terms = Vec::with_capacity(f.terms.len());
            for term in &f.terms {
                terms.push((term_count(c, term).await?, term));
            }
            terms.sort_by_key(|(n, _)| *n);
            let starts_from_set = terms.first().is_some_and(|(n, _)| *n < RARE_TERM);
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "SELECT t.tip_id, t.tip_number, t.status, t.priority, t.priority_rank, t.district_id, t.station_id, \
                 t.category, t.channel, t.urgent, t.police_involvement, t.created_at, t.ack_due_at, t.action_due_at, \
                 t.report_due_at, t.escalation_level FROM tip t",
            );
            if f.district_id.is_none() && f.statuses.is_empty() && !starts_from_set {
                q.push(OPEN_ALL_INDEX);
            }
            q.push(" WHERE 1 = 1");
            if let Some(d) = &f.district_id {
                q.push(" AND t.district_id = ").push_bind(d.clone());
            }
            if let Some(desk) = &f.desk_id {
                q.push(" AND t.tip_id IN (SELECT tip_id FROM tip_assignment WHERE desk_id = ").push_bind(desk.clone()).push(")");
            }
            if f.statuses.is_empty() {
                // The open queue, written out (not bound) so that the planner can use the partial
                // index of open tips, which is already in queue order (migration 0010).
                q.push(" AND t.status IN (");
                q.push(crate::store::open_statuses_sql());
                q.push(")");
            } else {
                q.push(" AND t.status IN (");
                let mut sep = q.separated(", ");
                for s in &f.statuses {
                    sep.push_bind(s.clone());
                }
                q.push(")");
            }
            if let Some(cat) = &f.category {
                q.push(" AND t.category = ").push_bind(cat.clone());
            }
            if let Some(st) = &f.station_id {
                q.push(" AND (t.station_id = ").push_bind(st.clone())
                    .push(" OR t.tip_id IN (SELECT tip_id FROM tip_assignment WHERE desk_id = ").push_bind(st.clone()).push("))");
            }
            if let Some(ch) = &f.channel {
                q.push(" AND t.channel = ").push_bind(ch.clone());
            }
            if f.urgent_only {
                q.push(" AND t.urgent = ").push_bind(true);
            }
            if f.police_only {
                q.push(" AND t.police_involvement = ").push_bind(true);
            }
            if f.exclude_police {
                q.push(" AND t.police_involvement = ").push_bind(false);
            }
            for (i, (_, term)) in terms.iter().enumerate() {
                let term = term.to_vec();
                let from_set = i == 0 && starts_from_set;
                if from_set {
                    q.push(" AND t.tip_id IN (SELECT tip_id FROM tip_term WHERE term = ").push_bind(term.clone()).push(" UNION ");
                } else {
                    q.push(" AND (EXISTS (SELECT 1 FROM tip_term tt WHERE tt.tip_id = t.tip_id AND tt.term = ")
                        .push_bind(term.clone())
                        .push(") OR t.tip_id IN (");
                }
                q.push("SELECT tip_id FROM term_pending WHERE ").push($contains_before).push_bind(term).push($contains_after);
                q.push(if from_set { ")" } else { "))" });
            }
            if let Some((rank, id)) = f.after {
                // A row value, which both planners turn into one range of the queue's index (the
                // same test written with OR made PostgreSQL filter every row before the page).
                q.push(" AND (t.priority_rank, t.tip_id) > (").push_bind(rank).push(", ").push_bind(id).push(")");
            }
            q.push(" ORDER BY t.priority_rank, t.tip_id LIMIT ").push_bind(f.limit);
            let rows = q.build().fetch_all(&mut *c).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(QueueRow {
                    tip_id: TipId::from_db(r.try_get("tip_id")?),
                    tip_number: r.try_get("tip_number")?,
                    status: r.try_get("status")?,
                    priority: r.try_get("priority")?,
                    priority_rank: r.try_get("priority_rank")?,
                    district_id: r.try_get("district_id")?,
                    station_id: r.try_get("station_id")?,
                    category: r.try_get("category")?,
                    channel: r.try_get("channel")?,
                    urgent: r.try_get("urgent")?,
                    police_involvement: r.try_get("police_involvement")?,
                    created_at: r.try_get("created_at")?,
                    deadlines: deadlines_of(&r)?,
                    escalation_level: r.try_get("escalation_level")?,
                });
            }
            Ok(out)
        }

        /// A tip's dispatches.
        pub async fn assignments(c: &mut Conn, tip_id: TipId) -> Result<Vec<AssignmentRow>, StoreError> {
            let rows: Vec<(String, String, String, Vec<u8>, i64, i64)> = sqlx::query_as(
                "SELECT desk_id, desk_kind, district_id, brief_sealed, assigned_by, created_at FROM tip_assignment \
                 WHERE tip_id = $1 ORDER BY created_at, desk_id",
            )
            .bind(tip_id.get())
            .fetch_all(&mut *c)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(desk_id, desk_kind, district_id, brief_sealed, assigned_by, created_at)| AssignmentRow {
                    desk_id, desk_kind, district_id, brief_sealed, assigned_by, created_at,
                })
                .collect())
        }

        /// A tip's action-taken reports, oldest first.
        pub async fn action_reports(c: &mut Conn, tip_id: TipId) -> Result<Vec<ActionReportRow>, StoreError> {
            let rows: Vec<(i64, String, i64, Vec<u8>, i64)> = sqlx::query_as(
                "SELECT action_report_id, desk_id, officer_id, report_sealed, created_at FROM action_report \
                 WHERE tip_id = $1 ORDER BY created_at, action_report_id",
            )
            .bind(tip_id.get())
            .fetch_all(&mut *c)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(action_report_id, desk_id, officer_id, report_sealed, created_at)| ActionReportRow {
                    action_report_id, desk_id, officer_id, report_sealed, created_at,
                })
                .collect())
        }

        /// Applies one state change of a tip if it is still in the status the officer saw.
        pub async fn change_tip(c: &mut Conn, keys: &Keys, t: &TipChange) -> Result<(), StoreError> {
            let done = sqlx::query(
                "UPDATE tip SET status = $3, updated_at = $4, duplicate_of = COALESCE($5, duplicate_of) \
                 WHERE tip_id = $1 AND status = $2",
            )
            .bind(t.tip_id.get())
            .bind(&t.from_status)
            .bind(&t.to_status)
            .bind(t.now)
            .bind(t.duplicate_of.map(|d| d.get()))
            .execute(&mut *c)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict("tip status"));
            }
            sqlx::query(sqlx::AssertSqlSafe(reset_escalation_due())).bind(t.tip_id.get()).execute(&mut *c).await?;
            for a in &t.assignments {
                sqlx::query(
                    "INSERT INTO tip_assignment (tip_id, desk_id, desk_kind, district_id, brief_sealed, assigned_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tip_id, desk_id) DO UPDATE SET \
                     brief_sealed = excluded.brief_sealed, assigned_by = excluded.assigned_by, created_at = excluded.created_at",
                )
                .bind(t.tip_id.get())
                .bind(&a.desk_id)
                .bind(&a.desk_kind)
                .bind(&a.district_id)
                .bind(&a.brief_sealed)
                .bind(a.assigned_by)
                .bind(t.now)
                .execute(&mut *c)
                .await?;
            }
            if let Some(r) = &t.report {
                sqlx::query(
                    "INSERT INTO action_report (tip_id, desk_id, officer_id, report_sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(t.tip_id.get())
                .bind(&r.desk_id)
                .bind(r.officer_id)
                .bind(&r.report_sealed)
                .bind(t.now)
                .execute(&mut *c)
                .await?;
            }
            if let Some(m) = &t.message {
                insert_message_row(c, m).await?;
            }
            append_audit(c, keys, &[&t.audit]).await
        }

        /// Applies an officer's triage correction: the tip's fields, one row per field, the audit entry.
        pub async fn correct_triage(c: &mut Conn, keys: &Keys, t: &TriageCorrection) -> Result<(), StoreError> {
            let now = t.audit.created_at;
            let tip = t.tip_id.get();
            for fix in &t.fixes {
                let flag = fix.new_value.as_deref() == Some("true");
                let update = match fix.field {
                    TriageField::Category => sqlx::query("UPDATE tip SET category = $2, updated_at = $3 WHERE tip_id = $1")
                        .bind(tip).bind(fix.new_value.clone()).bind(now),
                    TriageField::Station => sqlx::query("UPDATE tip SET station_id = $2, updated_at = $3 WHERE tip_id = $1")
                        .bind(tip).bind(fix.new_value.clone()).bind(now),
                    TriageField::Urgent => sqlx::query("UPDATE tip SET urgent = $2, updated_at = $3 WHERE tip_id = $1")
                        .bind(tip).bind(flag).bind(now),
                    TriageField::PoliceInvolvement => {
                        sqlx::query("UPDATE tip SET police_involvement = $2, updated_at = $3 WHERE tip_id = $1")
                            .bind(tip).bind(flag).bind(now)
                    }
                };
                if update.execute(&mut *c).await?.rows_affected() == 0 {
                    return Err(StoreError::Conflict("tip status"));
                }
                sqlx::query(
                    "INSERT INTO triage_correction (tip_id, field, old_value, new_value, officer_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(tip).bind(fix.field.as_str()).bind(fix.old_value.clone()).bind(fix.new_value.clone())
                .bind(t.officer_id).bind(now)
                .execute(&mut *c)
                .await?;
            }
            if let Some((priority, d)) = &t.priority {
                sqlx::query(
                    "UPDATE tip SET priority = $2, ack_due_at = $3, action_due_at = $4, report_due_at = $5 WHERE tip_id = $1",
                )
                .bind(tip).bind(priority).bind(d.acknowledge).bind(d.action).bind(d.report)
                .execute(&mut *c)
                .await?;
                sqlx::query(sqlx::AssertSqlSafe(reset_escalation_due())).bind(tip).execute(&mut *c).await?;
            }
            append_audit(c, keys, &[&t.audit]).await
        }

        /// Triage corrections of one tip, or of all tips, oldest first.
        pub async fn triage_corrections(c: &mut Conn, tip_id: Option<TipId>) -> Result<Vec<CorrectionRow>, StoreError> {
            #[allow(clippy::type_complexity)]
            let rows: Vec<(i64, String, Option<String>, Option<String>, i64, i64)> = sqlx::query_as(
                "SELECT tip_id, field, old_value, new_value, officer_id, created_at FROM triage_correction \
                 WHERE tip_id = $1 OR $1 IS NULL ORDER BY correction_id",
            )
            .bind(tip_id.map(|t| t.get()))
            .fetch_all(&mut *c)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(tip_id, field, old_value, new_value, officer_id, created_at)| CorrectionRow {
                    tip_id: TipId::from_db(tip_id), field, old_value, new_value, officer_id, created_at,
                })
                .collect())
        }

        /// Appends an audit entry on its own (a view of a tip's text, a login).
        pub async fn record_audit(c: &mut Conn, keys: &Keys, draft: &AuditDraft) -> Result<(), StoreError> {
            append_audit(c, keys, &[draft]).await
        }

        /// The newest audit entries about a subject (a tip's history), oldest first.
        pub async fn audit_about(c: &mut Conn, subject: &str, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
            let filter = AuditFilter { subject: Some(subject.to_owned()), limit, ..Default::default() };
            let mut entries = audit_search(c, &filter).await?;
            entries.reverse();
            Ok(entries)
        }

        /// Audit entries matching a filter, newest first.
        pub async fn audit_search(c: &mut Conn, f: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "SELECT audit_seq, created_at, actor, action, subject, detail, prev_mac, entry_mac FROM audit_log WHERE 1 = 1",
            );
            if let Some(actor) = &f.actor {
                q.push(" AND actor = ").push_bind(actor.clone());
            }
            if let Some(subject) = &f.subject {
                q.push(" AND subject = ").push_bind(subject.clone());
            }
            if let Some(since) = f.since {
                q.push(" AND created_at >= ").push_bind(since);
            }
            if let Some(until) = f.until {
                q.push(" AND created_at < ").push_bind(until);
            }
            q.push(" ORDER BY audit_seq DESC LIMIT ").push_bind(f.limit);
            let rows = q.build().fetch_all(&mut *c).await?;
            Ok(rows.iter().map(audit_entry).collect::<Result<_, _>>()?)
        }

        fn audit_entry(r: &<$db as sqlx::Database>::Row) -> Result<AuditEntry, sqlx::Error> {
            use sqlx::Row;
            Ok(AuditEntry {
                seq: r.try_get("audit_seq")?,
                created_at: r.try_get("created_at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                subject: r.try_get("subject")?,
                detail: r.try_get("detail")?,
                prev_mac: r.try_get("prev_mac")?,
                entry_mac: r.try_get("entry_mac")?,
            })
        }

        /// How many times an actor did an action since a time (e.g. views of tip text).
        pub async fn count_actions(c: &mut Conn, actor: &str, action: &str, since: i64) -> Result<i64, StoreError> {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM audit_log WHERE actor = $1 AND created_at >= $2 AND action = $3",
            )
            .bind(actor)
            .bind(since)
            .bind(action)
            .fetch_one(&mut *c)
            .await?;
            Ok(n)
        }
    };
}
