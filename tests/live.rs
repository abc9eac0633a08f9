//! Live queue events across nodes: on PostgreSQL every node hears of every tip (LISTEN/NOTIFY,
//! the node that took it included), once; on SQLite the one node hears of it once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;

on_both_backends!(
    live_events_reach_every_node_once,
    |app: TestApp| async move {
        // On PostgreSQL a second node hears of tips taken by the first (LISTEN/NOTIFY); on
        // SQLite there is one node. Either way each node hears of each tip once.
        let other = match app.backend {
            common::Backend::Postgres => Some(app.second_node().await),
            common::Backend::Sqlite => None,
        };
        let mut here = app.core.events.subscribe();
        let mut there = other.as_ref().map(|o| o.events.subscribe());
        app.submit_tip("Korba me juaa chal raha hai har raat", Some("korba"))
            .await;
        let wait = std::time::Duration::from_secs(10);
        let event = tokio::time::timeout(wait, here.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(event.district_id.as_deref(), Some("korba"));
        if let Some(there) = there.as_mut() {
            let event = tokio::time::timeout(wait, there.recv())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(event.district_id.as_deref(), Some("korba"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(here.try_recv().is_err(), "heard once, not twice");
    }
);
