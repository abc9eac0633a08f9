//! Store behaviour under concurrency on both backends: a write that fails never takes others
//! down with it (on SQLite they may share one group commit).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use tipline::domain::TipId;
use tipline::store::{AuditDraft, NewMessage};

fn message(i: i64, tip_id: TipId) -> NewMessage {
    NewMessage {
        message_id: 1_000 + i,
        tip_id,
        author: "tipster".into(),
        body_sealed: vec![1, 2, 3],
        terms: Vec::new(),
        created_at: common::START_MS,
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
        let tip = app
            .core
            .store
            .tip_auth(&number)
            .await
            .unwrap()
            .unwrap()
            .tip_id;
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
