//! The audit chain on both backends: every tip and message writes an entry in the same
//! transaction, and verification catches edited, removed and reordered rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use tipline::audit::{Verdict, verify};

async fn verdict(app: &TestApp) -> Verdict {
    verify(app.core.store.as_ref(), app.core.keyring.keys(), |_| {})
        .await
        .unwrap()
}

async fn three_entries(app: &TestApp) {
    let (number, secret) = app.submit_tip("one", Some("korba")).await;
    app.submit_tip("two", None).await;
    let resp = app
        .post_form(
            "/hi/followup/add",
            &[("number", &number), ("secret", &secret), ("text", "more")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(verdict(app).await, Verdict::Intact { entries: 3 });
    let entries = app.core.store.audit_entries(0, 10).await.unwrap();
    let actions: Vec<_> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["tip.create", "tip.create", "message.tipster"]);
    assert!(
        entries
            .iter()
            .all(|e| !e.detail.contains("one") && !e.detail.contains("more")),
        "no text in the audit log"
    );
}

fn drop_guard(app: &TestApp) -> &'static str {
    match app.backend {
        common::Backend::Sqlite => {
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
        }
        common::Backend::Postgres => "DROP TRIGGER audit_log_no_change ON audit_log;",
    }
}

on_both_backends!(the_log_is_append_only, |app: TestApp| async move {
    three_entries(&app).await;
    use sqlx::Connection;
    let sql = "UPDATE audit_log SET detail = '{}' WHERE audit_seq = 1";
    let refused = match app.backend {
        common::Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&app.database_url)
                .await
                .unwrap();
            sqlx::query(sql).execute(&mut c).await.is_err()
        }
        common::Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&app.database_url)
                .await
                .unwrap();
            sqlx::query(sql).execute(&mut c).await.is_err()
        }
    };
    assert!(refused, "the database must refuse edits to the audit log");
});

on_both_backends!(an_edited_row_is_detected, |app: TestApp| async move {
    three_entries(&app).await;
    app.raw_sql(&format!(
        "{} UPDATE audit_log SET actor = 'officer:nobody' WHERE audit_seq = 2;",
        drop_guard(&app)
    ))
    .await;
    assert!(matches!(
        verdict(&app).await,
        Verdict::Broken { at_seq: 2, .. }
    ));
});

on_both_backends!(a_removed_row_is_detected, |app: TestApp| async move {
    three_entries(&app).await;
    app.raw_sql(&format!(
        "{} DELETE FROM audit_log WHERE audit_seq = 2;",
        drop_guard(&app)
    ))
    .await;
    assert!(matches!(
        verdict(&app).await,
        Verdict::Broken { at_seq: 3, .. }
    ));
});

on_both_backends!(a_removed_last_row_is_detected, |app: TestApp| async move {
    three_entries(&app).await;
    app.raw_sql(&format!(
        "{} DELETE FROM audit_log WHERE audit_seq = 3;",
        drop_guard(&app)
    ))
    .await;
    assert!(matches!(
        verdict(&app).await,
        Verdict::Broken { at_seq: 3, .. }
    ));
});

on_both_backends!(reordered_rows_are_detected, |app: TestApp| async move {
    three_entries(&app).await;
    // Swap the positions of entries 1 and 2 (every other column moves with its row).
    app.raw_sql(&format!(
        "{} UPDATE audit_log SET audit_seq = 100 WHERE audit_seq = 1; \
         UPDATE audit_log SET audit_seq = 1 WHERE audit_seq = 2; \
         UPDATE audit_log SET audit_seq = 2 WHERE audit_seq = 100;",
        drop_guard(&app)
    ))
    .await;
    assert!(matches!(
        verdict(&app).await,
        Verdict::Broken { at_seq: 1, .. }
    ));
});
