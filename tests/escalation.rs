//! The escalation ladder on both backends, driven by the injected clock: a late tip climbs one
//! rung per missed allowance, once even when two passes run at once; acknowledging it starts the
//! next step's clock; a tip alleging police involvement starts at the SP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use tipline::clock::Clock;
use tipline::domain::{Role, TipId};

async fn escalations(app: &TestApp, tip_id: TipId) -> Vec<String> {
    app.core
        .store
        .audit_about(&format!("tip:{}", tip_id.get()), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "tip.escalate")
        .map(|e| e.detail)
        .collect()
}

on_both_backends!(late_tips_climb_the_ladder_once, |app: TestApp| async move {
    let (number, _) = app
        .submit_tip(
            "Sarkanda me roz shaam ganja bikta hai, bazaar ke peeche",
            Some("bilaspur"),
        )
        .await;
    let tip_id = app.tip_id_of(&number).await;
    let tip = app.core.store.tip(tip_id).await.unwrap().unwrap();
    let d = tip.deadlines.unwrap();
    let allowance = d.acknowledge - tip.created_at;

    // Not late yet: nothing happens.
    let report = tipline::escalation::run(&app.core).await.unwrap();
    assert_eq!(report.escalated, 0);

    // Late: two passes at once (two nodes) climb the first rung once.
    app.clock.advance(d.acknowledge - app.clock.now_ms());
    let (a, b) = tokio::join!(
        tipline::escalation::run(&app.core),
        tipline::escalation::run(&app.core)
    );
    assert_eq!(a.unwrap().escalated + b.unwrap().escalated, 1);
    assert_eq!(
        escalations(&app, tip_id).await,
        [r#"{"step":"acknowledge","to":"station"}"#]
    );
    assert_eq!(
        tipline::escalation::run(&app.core).await.unwrap().escalated,
        0
    );

    // One more allowance: the ASP.
    app.clock.advance(allowance);
    assert_eq!(
        tipline::escalation::run(&app.core).await.unwrap().escalated,
        1
    );
    assert!(escalations(&app, tip_id).await[1].contains(r#""to":"asp""#));
    // The queue shows how far up it went.
    let ig = app
        .officer("ig.range", Role::RangeSupervisor, None, None)
        .await;
    let queue = ig.get("/console/").await.text().await.unwrap();
    assert!(queue.contains("↑ एएसपी"), "escalation shown in the queue");

    // Acknowledged: the clock of the next step runs; nothing until its deadline.
    let asp = app
        .officer(
            "asp.bilaspur",
            Role::DistrictSupervisor,
            Some("bilaspur"),
            None,
        )
        .await;
    assert_eq!(
        asp.step(&number, "new", "acknowledge", &[]).await.status(),
        303
    );
    if app.clock.now_ms() < d.action {
        assert_eq!(
            tipline::escalation::run(&app.core).await.unwrap().escalated,
            0
        );
        app.clock.advance(d.action - app.clock.now_ms());
    }
    assert_eq!(
        tipline::escalation::run(&app.core).await.unwrap().escalated,
        1
    );
    assert!(
        escalations(&app, tip_id).await[2].starts_with(r#"{"step":"action""#),
        "the action step starts again at the station"
    );
});

on_both_backends!(
    police_involvement_starts_at_the_sp,
    |app: TestApp| async move {
        let (number, _) = app
            .submit_tip(
                "Kotwali thana ka munshi har hafte paisa leta hai aur satta chalne deta hai",
                Some("bilaspur"),
            )
            .await;
        let tip_id = app.tip_id_of(&number).await;
        let tip = app.core.store.tip(tip_id).await.unwrap().unwrap();
        assert!(tip.police_involvement, "triage found police involvement");
        app.clock
            .advance(tip.deadlines.unwrap().acknowledge - app.clock.now_ms());
        assert_eq!(
            tipline::escalation::run(&app.core).await.unwrap().escalated,
            1
        );
        assert_eq!(
            escalations(&app, tip_id).await,
            [r#"{"step":"acknowledge","to":"sp"}"#]
        );
    }
);
