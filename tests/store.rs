//! Store behaviour under concurrency on both backends: a write that fails never takes others
//! down with it (on SQLite they may share one group commit).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use tipline::domain::TipId;
use tipline::store::{AuditDraft, NewMessage, NewTip, StoreError};

fn message(i: i64, tip_id: TipId) -> NewMessage {
    NewMessage {
        message_id: 1_000 + i,
        tip_id,
        author: "tipster".into(),
        body_sealed: vec![1, 2, 3],
        terms: Vec::new(),
        created_at: common::START_MS,
        inbound: None,
        outbox: Vec::new(),
        audit: AuditDraft {
            actor: "tipster:web".into(),
            action: "message.tipster".into(),
            subject: format!("tip:{tip_id}"),
            detail: "{}".into(),
            created_at: common::START_MS,
        },
    }
}

on_both_backends!(
    a_failing_write_does_not_undo_its_neighbours,
    |app: TestApp| async move {
        let (number, _) = app.submit_tip("the one tip", None).await;
        let tip = app.tip_id_of(&number).await;
        let mut tasks = Vec::new();
        for i in 0..400 {
            let store = app.core.store.clone();
            // Every third message names a tip that does not exist: the foreign key refuses it inside
            // the writer, among the others.
            let target = if i % 3 == 0 { TipId::from_db(42) } else { tip };
            tasks.push(tokio::spawn(async move {
                store.add_message(message(i, target)).await.is_ok()
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), i % 3 != 0, "message {i}");
        }
        assert_eq!(app.core.store.messages(tip).await.unwrap().len(), 266);
        let verdict =
            tipline::audit::verify(app.core.store.as_ref(), app.core.keyring.keys(), |_| {})
                .await
                .unwrap();
        assert_eq!(verdict, tipline::audit::Verdict::Intact { entries: 267 });
    }
);

fn tip(i: i64, number: &str) -> NewTip {
    NewTip {
        tip_id: TipId::from_db(5_000 + i),
        tip_number: number.into(),
        secret_mac: vec![7; 32],
        channel: "web".into(),
        district_id: None,
        station_id: None,
        category: Some("other".into()),
        status: "new".into(),
        happening_now: false,
        language: "hi".into(),
        key_scope: "_range".into(),
        text_sealed: vec![1, 2, 3],
        place_sealed: None,
        when_sealed: None,
        priority: "normal".into(),
        urgent: false,
        police_involvement: false,
        barred_station_id: None,
        triage_sealed: None,
        terms: vec![[i as u8; 16]],
        fingerprint: Some(vec![9; 16]),
        bands: vec![vec![1, 2, 3, 4], vec![i as u8; 4]],
        deadlines: Some(
            tipline::policy::Deadlines::default().for_tip("normal", common::START_MS + i),
        ),
        created_at: common::START_MS,
        inbound: None,
        attachments: Vec::new(),
        persons: Vec::new(),
        audit: AuditDraft {
            actor: "tipster:web".into(),
            action: "tip.create".into(),
            subject: format!("tip:{i}"),
            detail: "{}".into(),
            created_at: common::START_MS,
        },
    }
}

on_both_backends!(
    a_taken_tip_number_fails_only_its_own_tip,
    |app: TestApp| async move {
        let mut tasks = Vec::new();
        for i in 0..300 {
            let store = app.core.store.clone();
            // Every fifth tip wants the same number: exactly one of them may have it. On SQLite
            // they meet inside group commits, batched with the others.
            let number = if i % 5 == 0 {
                "1111122222".to_owned()
            } else {
                format!("{:010}", 3_000_000_000i64 + i)
            };
            tasks.push(tokio::spawn(async move {
                store.create_tip(tip(i, &number)).await
            }));
        }
        let mut stored = 0;
        let mut conflicts = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => stored += 1,
                Err(StoreError::Conflict(_)) => conflicts += 1,
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!((stored, conflicts), (241, 59));
        assert_eq!(app.core.store.tip_count().await.unwrap(), 241);
        // Each tip keeps the deadlines it arrived with.
        let one = app
            .core
            .store
            .tip(TipId::from_db(5_001))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            one.deadlines,
            Some(tipline::policy::Deadlines::default().for_tip("normal", common::START_MS + 1))
        );
        let verdict =
            tipline::audit::verify(app.core.store.as_ref(), app.core.keyring.keys(), |_| {})
                .await
                .unwrap();
        assert_eq!(verdict, tipline::audit::Verdict::Intact { entries: 241 });
    }
);

on_both_backends!(
    a_history_shows_the_newest_entries_in_order,
    |app: TestApp| async move {
        for i in 0..5 {
            let draft = AuditDraft {
                actor: "officer:1".into(),
                action: format!("step.{i}"),
                subject: "tip:42".into(),
                detail: "{}".into(),
                created_at: common::START_MS + i,
            };
            app.core.store.record_audit(draft).await.unwrap();
        }
        let history = app.core.store.audit_about("tip:42", 3).await.unwrap();
        let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["step.2", "step.3", "step.4"],
            "the newest three, oldest first"
        );
    }
);

on_both_backends!(
    a_delivery_result_after_the_lease_ran_out_changes_nothing,
    |app: TestApp| async move {
        use tipline::store::{Delivery, NewOutbox};
        let store = &app.core.store;
        let t0 = common::START_MS;
        store
            .enqueue(vec![NewOutbox {
                outbox_key: "lease-test".into(),
                purpose: "alert".into(),
                channel: "sms".into(),
                tip_id: None,
                officer_id: None,
                payload_sealed: vec![1, 2, 3],
                created_at: t0,
            }])
            .await
            .unwrap();
        // Node A claims it with a 1 s lease and hangs; node B claims it after the lease.
        let a = store.claim_outbox(t0, t0 + 1_000, 10).await.unwrap();
        assert_eq!(a.len(), 1);
        assert!(
            store
                .claim_outbox(t0 + 500, t0 + 1_500, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let b = store
            .claim_outbox(t0 + 2_000, t0 + 3_000, 10)
            .await
            .unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!((a[0].attempts, b[0].attempts), (1, 2));
        // B delivers; A's late failure must not put the message back or mark it failed.
        store
            .finish_outbox(b[0].outbox_id, b[0].attempts, Delivery::Sent, t0 + 2_100)
            .await
            .unwrap();
        store
            .finish_outbox(
                a[0].outbox_id,
                a[0].attempts,
                Delivery::Failed {
                    error: "late".into(),
                },
                t0 + 2_200,
            )
            .await
            .unwrap();
        let rows = store.outbox_about(None, 10).await.unwrap();
        assert!(rows.is_empty(), "nothing failed: {rows:?}");
        assert!(
            store
                .claim_outbox(t0 + 60_000, t0 + 61_000, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
);

on_both_backends!(
    every_field_of_a_new_tip_is_stored_as_given,
    |app: TestApp| async move {
        let store = &app.core.store;
        let mut full = tip(1, "4444455555");
        full.channel = "sms".into();
        full.district_id = Some("korba".into());
        full.station_id = Some("korba_kotwali".into());
        full.category = Some("ganja".into());
        full.happening_now = true;
        full.language = "en".into();
        full.key_scope = "korba".into();
        full.text_sealed = (0..=255).collect();
        full.place_sealed = Some(vec![4, 5, 6]);
        full.when_sealed = Some(vec![0, 255]);
        full.priority = "urgent".into();
        full.urgent = true;
        full.police_involvement = true;
        full.barred_station_id = Some("korba_civil_lines".into());
        full.triage_sealed = Some(vec![10; 40]);
        full.persons = vec![[3; 16], [4; 16]];
        full.terms = vec![[1; 16], [2; 16]];
        full.created_at = common::START_MS + 7;
        // Stored together with a plain one, so on SQLite they share a group commit.
        let (a, b) = tokio::join!(
            store.create_tip(full.clone()),
            store.create_tip(tip(2, "4444466666"))
        );
        a.unwrap();
        b.unwrap();

        let got = store.tip(full.tip_id).await.unwrap().unwrap();
        assert_eq!(got.tip_number, full.tip_number);
        assert_eq!(got.status, full.status);
        assert_eq!(got.district_id, full.district_id);
        assert_eq!(got.category, full.category);
        assert_eq!(got.station_id, full.station_id);
        assert_eq!(got.priority, full.priority);
        assert!(got.urgent && got.police_involvement && !got.flooded);
        assert_eq!(got.barred_station_id, full.barred_station_id);
        assert_eq!(got.channel, full.channel);
        assert_eq!(got.key_scope, full.key_scope);
        assert_eq!(got.text_sealed, full.text_sealed);
        assert_eq!(got.triage_sealed, full.triage_sealed);
        assert_eq!(got.deadlines, full.deadlines);
        assert_eq!(got.fingerprint, full.fingerprint);
        assert_eq!(
            (got.created_at, got.updated_at),
            (full.created_at, full.created_at)
        );
        let auth = store.tip_auth(&full.tip_number).await.unwrap().unwrap();
        assert_eq!(
            (auth.tip_id, auth.secret_mac),
            (full.tip_id, full.secret_mac.clone())
        );

        let pending = store.pending_terms(10).await.unwrap();
        let mine = pending.iter().find(|p| p.tip_id == full.tip_id).unwrap();
        assert_eq!(mine.source_id, full.tip_id.get());
        assert_eq!(mine.terms, full.terms.as_flattened());
        let sharing = store
            .tips_sharing_bands(&full.bands[1..], 0, 10)
            .await
            .unwrap();
        assert_eq!(
            sharing,
            vec![(full.tip_id, full.fingerprint.clone().unwrap())]
        );
        assert_eq!(
            store.persons_of(full.tip_id).await.unwrap(),
            vec![vec![3; 16], vec![4; 16]]
        );
        assert_eq!(
            store.tips_naming(&[4; 16], 0, 10).await.unwrap(),
            vec![full.tip_id]
        );
        let verdict = tipline::audit::verify(store.as_ref(), app.core.keyring.keys(), |_| {})
            .await
            .unwrap();
        assert_eq!(verdict, tipline::audit::Verdict::Intact { entries: 2 });

        // Columns no query of the service reads back yet.
        let sql = "SELECT place_sealed, when_sealed, happening_now, language, escalation_due_at \
                   FROM tip WHERE tip_id = $1";
        type Raw = (Option<Vec<u8>>, Option<Vec<u8>>, bool, String, Option<i64>);
        let raw: Raw = match app.backend {
            common::Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
                sqlx::query_as(sql)
                    .bind(full.tip_id.get())
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
            common::Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
                sqlx::query_as(sql)
                    .bind(full.tip_id.get())
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        let due = full.deadlines.map(|d| d.acknowledge);
        assert_eq!(
            raw,
            (
                full.place_sealed,
                full.when_sealed,
                true,
                "en".to_owned(),
                due
            )
        );
    }
);

on_both_backends!(
    tips_and_other_writes_sharing_a_group_each_land_or_fail_alone,
    |app: TestApp| async move {
        let (number, _) = app.submit_tip("the first tip", None).await;
        let first = app.tip_id_of(&number).await;
        let mut tasks = Vec::new();
        for i in 0..240i64 {
            let store = app.core.store.clone();
            // A mix, so that on SQLite groups hold tips and other writes together: messages to
            // the first tip, tips that all want one number (one may have it), and plain tips.
            tasks.push(tokio::spawn(async move {
                match i % 4 {
                    0 => store.add_message(message(i, first)).await,
                    1 => store.create_tip(tip(i, "7777788888")).await,
                    _ => {
                        store
                            .create_tip(tip(i, &format!("{:010}", 6_000_000_000i64 + i)))
                            .await
                    }
                }
            }));
        }
        let (mut ok, mut conflicts) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => ok += 1,
                Err(StoreError::Conflict("tip number")) => conflicts += 1,
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!((ok, conflicts), (181, 59));
        assert_eq!(app.core.store.messages(first).await.unwrap().len(), 60);
        assert_eq!(app.core.store.tip_count().await.unwrap(), 1 + 121);
        let verdict =
            tipline::audit::verify(app.core.store.as_ref(), app.core.keyring.keys(), |_| {})
                .await
                .unwrap();
        assert_eq!(verdict, tipline::audit::Verdict::Intact { entries: 182 });
    }
);

on_both_backends!(
    queue_pages_walk_every_open_tip_once_in_order,
    |app: TestApp| async move {
        use tipline::store::QueueFilter;
        // 37 open tips over four priorities, runs of five ids sharing one (so a page can end inside
        // a run, where only the id tells the next tip), some in one
        // district, and three closed ones that no page may show.
        let priorities = ["urgent", "high", "normal", "low"];
        for i in 0..40i64 {
            let mut t = tip(i, &format!("{:010}", 4_000_000_000i64 + i));
            t.priority = priorities[(i / 5 % 4) as usize].into();
            t.district_id = (i % 3 == 0).then(|| "korba".to_owned());
            if i >= 37 {
                t.status = "closed".into();
            }
            app.core.store.create_tip(t).await.unwrap();
        }
        for district in [None, Some("korba".to_owned())] {
            let all = app
                .core
                .store
                .queue(QueueFilter {
                    district_id: district.clone(),
                    limit: 100,
                    ..QueueFilter::default()
                })
                .await
                .unwrap();
            let keys: Vec<(i64, i64)> = all
                .iter()
                .map(|r| (r.priority_rank, r.tip_id.get()))
                .collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted, "one page is in queue order");
            let expected = if district.is_some() { 13 } else { 37 };
            assert_eq!(keys.len(), expected, "every open tip, no closed one");
            // Page by four through the same tips, each page continuing after the last row.
            let mut walked = Vec::new();
            let mut after = None;
            loop {
                let page = app
                    .core
                    .store
                    .queue(QueueFilter {
                        district_id: district.clone(),
                        after,
                        limit: 4,
                        ..QueueFilter::default()
                    })
                    .await
                    .unwrap();
                let Some(last) = page.last() else { break };
                after = Some((last.priority_rank, last.tip_id.get()));
                walked.extend(page.iter().map(|r| (r.priority_rank, r.tip_id.get())));
            }
            assert_eq!(
                walked, keys,
                "paging shows each tip once, in order ({district:?})"
            );
        }
    }
);

on_both_backends!(
    a_finished_message_keeps_no_destination,
    |app: TestApp| async move {
        use tipline::store::{Delivery, NewOutbox};
        let store = &app.core.store;
        let t0 = common::START_MS;
        let rows = ["sent", "failed", "pending"].map(|key| NewOutbox {
            outbox_key: key.into(),
            purpose: "relay".into(),
            channel: "sms".into(),
            tip_id: None,
            officer_id: None,
            payload_sealed: vec![7; 40],
            created_at: t0,
        });
        store.enqueue(rows.to_vec()).await.unwrap();
        let claimed = store.claim_outbox(t0, t0 + 60_000, 2).await.unwrap();
        assert_eq!(claimed.len(), 2);
        store
            .finish_outbox(claimed[0].outbox_id, 1, Delivery::Sent, t0 + 1)
            .await
            .unwrap();
        let failed = Delivery::Failed {
            error: "refused".into(),
        };
        store
            .finish_outbox(claimed[1].outbox_id, 1, failed, t0 + 1)
            .await
            .unwrap();
        // The sent and the given-up message keep no sealed destination; the waiting one does.
        let sql = "SELECT outbox_key, length(payload_sealed) FROM outbox ORDER BY outbox_key";
        let sizes: Vec<(String, i64)> = match app.backend {
            common::Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
                sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
            }
            common::Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
                let rows: Vec<(String, i32)> = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
                rows.into_iter().map(|(k, n)| (k, i64::from(n))).collect()
            }
        };
        let expected =
            [("failed", 0), ("pending", 40), ("sent", 0)].map(|(k, n)| (k.to_owned(), n));
        assert_eq!(sizes, expected);
    }
);
