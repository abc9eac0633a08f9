//! The officer console over HTTP: login with password and TOTP, lock-out, session end, forged
//! forms, the case workflow with dispatch briefs, police-involvement exclusion, operator entry,
//! and the anonymous dialogue with the tipster. On SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::officer::{OfficerClient, PASSWORD, session_cookie};
use common::{TestApp, between};
use tipline::clock::Clock;
use tipline::domain::Role;

const TEXT: &str =
    "Sarkanda me roz shaam ganja bikta hai, Mahesh naam ka aadmi bechta hai. CANARY-TEXT-7731";

on_both_backends!(login_needs_password_and_code, |app: TestApp| async move {
    let id = app
        .add_officer(
            "asp.bilaspur",
            Role::DistrictSupervisor,
            Some("bilaspur"),
            None,
        )
        .await;
    // A wrong password and an unknown name get the same answer and no cookie.
    for (name, pw) in [
        ("asp.bilaspur", "wrong password here"),
        ("nobody.here", PASSWORD),
    ] {
        let resp = app.login_password(name, pw).await;
        assert_eq!(resp.status(), 401);
        assert!(session_cookie(&resp).is_none());
    }
    let resp = app.login_password("asp.bilaspur", PASSWORD).await;
    let half = session_cookie(&resp).unwrap();
    // Half logged in: the queue sends the officer to the code page.
    let queue = app
        .client
        .get(app.url("/console/"))
        .header("cookie", format!("tipline_sid={half}"))
        .send()
        .await
        .unwrap();
    assert_eq!(queue.status(), 303);
    assert_eq!(queue.headers()["location"], "/console/code");
    // First login shows the enrolment QR code and key.
    let page = app
        .client
        .get(app.url("/console/code"))
        .header("cookie", format!("tipline_sid={half}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<svg") && page.contains("otpauth://totp/"),
        "enrolment shows a QR code"
    );
    let post_code = |code: String, cookie: String| {
        let app = &app;
        async move {
            let page = app
                .client
                .get(app.url("/console/code"))
                .header("cookie", format!("tipline_sid={cookie}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let csrf = between(&page, "name=\"csrf\" value=\"", "\"");
            app.client
                .post(app.url("/console/code"))
                .header("cookie", format!("tipline_sid={cookie}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("csrf={csrf}&code={code}"))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(post_code("000000".into(), half.clone()).await.status(), 401);
    let code = app.totp_code(id).await;
    let resp = post_code(code.clone(), half.clone()).await;
    assert_eq!(resp.status(), 303);
    let full = session_cookie(&resp).unwrap();
    assert_ne!(full, half, "the session id rotates at login");
    // The half session is gone; the full one opens the queue.
    let old = app
        .client
        .get(app.url("/console/"))
        .header("cookie", format!("tipline_sid={half}"))
        .send()
        .await
        .unwrap();
    assert_eq!(old.headers()["location"], "/console/login");
    let ok = app
        .client
        .get(app.url("/console/"))
        .header("cookie", format!("tipline_sid={full}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    // The same code cannot be used again, even in a new login.
    let again = session_cookie(&app.login_password("asp.bilaspur", PASSWORD).await).unwrap();
    assert_eq!(
        post_code(code, again).await.status(),
        401,
        "a TOTP code is accepted once"
    );
});

on_both_backends!(
    wrong_passwords_lock_the_account,
    |app: TestApp| async move {
        app.add_officer("op.korba", Role::Operator, Some("korba"), None)
            .await;
        for _ in 0..5 {
            assert_eq!(
                app.login_password("op.korba", "not the password!")
                    .await
                    .status(),
                401
            );
        }
        // Locked: even the right password fails now ...
        assert_eq!(app.login_password("op.korba", PASSWORD).await.status(), 401);
        // ... and works again after 15 minutes.
        app.clock.advance(15 * 60 * 1000 + 1);
        assert_eq!(app.login_password("op.korba", PASSWORD).await.status(), 303);
    }
);

on_both_backends!(
    sessions_end_when_idle_or_disabled,
    |app: TestApp| async move {
        let asp = app
            .officer(
                "asp.raigarh",
                Role::DistrictSupervisor,
                Some("raigarh"),
                None,
            )
            .await;
        assert_eq!(asp.get("/console/").await.status(), 200);
        app.clock.advance(31 * 60 * 1000);
        assert_eq!(
            asp.get("/console/").await.headers()["location"],
            "/console/login",
            "idle timeout"
        );

        let admin = app.officer("admin", Role::Admin, None, None).await;
        let op = app
            .officer("op.raigarh", Role::Operator, Some("raigarh"), None)
            .await;
        assert_eq!(op.get("/console/").await.status(), 200);
        let resp = admin
            .post(
                &format!("/console/officers/{}", op.id),
                &[("op", "disable")],
            )
            .await;
        assert_eq!(resp.status(), 303);
        assert_eq!(
            op.get("/console/").await.headers()["location"],
            "/console/login",
            "disabled at once"
        );
        assert_eq!(
            app.login_password("op.raigarh", PASSWORD).await.status(),
            401
        );
    }
);

on_both_backends!(forged_forms_change_nothing, |app: TestApp| async move {
    let (number, _) = app.submit_tip(TEXT, Some("bilaspur")).await;
    let asp = app
        .officer(
            "asp.bilaspur",
            Role::DistrictSupervisor,
            Some("bilaspur"),
            None,
        )
        .await;
    let path = format!("/console/tips/{number}/step");
    let fields = [("seen", "new"), ("step", "acknowledge")];
    // No token, a wrong token, a token from another session.
    let other = app
        .officer(
            "asp.bilaspur2",
            Role::DistrictSupervisor,
            Some("bilaspur"),
            None,
        )
        .await;
    for token in [None, Some("00".repeat(32)), Some(other.csrf.clone())] {
        let mut f: Vec<(&str, &str)> = fields.to_vec();
        if let Some(t) = &token {
            f.push(("csrf", t));
        }
        assert_eq!(asp.post_raw(&path, &f).await.status(), 403);
    }
    // The right token from another site.
    let resp = app
        .client
        .post(app.url(&path))
        .header("cookie", format!("tipline_sid={}", asp.cookie))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}&seen=new&step=acknowledge", asp.csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(
        asp.tip_page(&number).await.contains("id=\"status\">नई<"),
        "still new"
    );
});

on_both_backends!(workflow_from_new_to_closed, |app: TestApp| async move {
    let (number, secret) = app.submit_tip(TEXT, Some("bilaspur")).await;
    let asp = app
        .officer(
            "asp.bilaspur",
            Role::DistrictSupervisor,
            Some("bilaspur"),
            None,
        )
        .await;
    let sho = app
        .officer(
            "sho.sarkanda",
            Role::StationOfficer,
            Some("bilaspur"),
            Some("bsp-sarkanda"),
        )
        .await;
    let sho_civil = app
        .officer(
            "sho.civil",
            Role::StationOfficer,
            Some("bilaspur"),
            Some("bsp-civil-line"),
        )
        .await;

    // Before dispatch the station does not know the tip exists.
    assert_eq!(
        sho.get(&format!("/console/tips/{number}")).await.status(),
        404
    );
    // The supervisor reads the text (and the read is recorded).
    assert!(asp.tip_page(&number).await.contains("CANARY-TEXT-7731"));
    // Closing a new tip is not a valid step.
    assert_eq!(asp.step(&number, "new", "close", &[]).await.status(), 409);
    assert_eq!(
        asp.step(&number, "new", "acknowledge", &[]).await.status(),
        303
    );
    // A stale form (status seen as new) is refused.
    assert_eq!(
        asp.step(&number, "new", "acknowledge", &[]).await.status(),
        409
    );
    let brief = "Sarkanda area: ganja sold every evening near the market. Verify and raid.";
    let resp = asp
        .step(
            &number,
            "acknowledged",
            "assign",
            &[("desk", "bsp-sarkanda"), ("brief", brief)],
        )
        .await;
    assert_eq!(resp.status(), 303);

    // The station sees the brief, never the text or the channel; another station sees nothing.
    let page = sho.tip_page(&number).await;
    assert!(page.contains(brief));
    assert!(
        !page.contains("CANARY-TEXT-7731") && !page.contains("Mahesh"),
        "no raw text for the station"
    );
    assert!(
        !page.contains("id=\"status\">नई")
            && !page.contains(">App / API<")
            && !page.contains(">ऐप / API<")
    );
    assert_eq!(
        sho_civil
            .get(&format!("/console/tips/{number}"))
            .await
            .status(),
        404
    );
    assert!(
        sho.get("/console/")
            .await
            .text()
            .await
            .unwrap()
            .contains(&number),
        "in the station's list"
    );
    // The station cannot close or acknowledge; it can start and report.
    assert_eq!(
        sho.step(&number, "assigned", "close", &[]).await.status(),
        403
    );
    assert_eq!(
        sho.step(&number, "assigned", "start_action", &[])
            .await
            .status(),
        303
    );
    let report = [
        ("raid_done", "yes"),
        ("found", "yes"),
        ("seizure_item", "गांजा"),
        ("seizure_quantity", "२.५"),
        ("seizure_unit", "kg"),
        ("seizure_item", ""),
        ("seizure_quantity", ""),
        ("seizure_unit", ""),
        ("arrests", "1"),
        ("fir_number", "FIR 123/2026"),
        ("remarks", "NDPS"),
    ];
    assert_eq!(
        sho.step(&number, "in_action", "report_action", &report)
            .await
            .status(),
        303
    );
    // The supervisor reviews the report and closes.
    let page = asp.tip_page(&number).await;
    assert!(
        page.contains("123/2026") && page.contains("गांजा"),
        "the report is shown"
    );
    assert_eq!(
        asp.step(&number, "action_taken", "close", &[])
            .await
            .status(),
        303
    );
    assert!(asp.tip_page(&number).await.contains("id=\"status\">बंद<"));

    // The tipster's follow-up shows the new status; every step is in the verified audit chain.
    let follow = app.followup(&number, &secret).await.text().await.unwrap();
    assert!(
        !follow.contains("NDPS"),
        "the report is not shown to the tipster"
    );
    let verdict = tipline::audit::verify(app.core.store.as_ref(), app.core.keyring.keys(), |_| {})
        .await
        .unwrap();
    assert!(matches!(verdict, tipline::audit::Verdict::Intact { .. }));
    let tip_id = app.tip_id_of(&number).await;
    let actions: Vec<String> = app
        .core
        .store
        .audit_about(&format!("tip:{}", tip_id.get()), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "tip.create",
        "tip.view",
        "tip.acknowledge",
        "tip.assign",
        "tip.view_brief",
        "tip.start_action",
        "tip.report_action",
        "tip.close",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} recorded: {actions:?}");
    }
    // A new tip about the same station and trade after the action: a repeat alarm, linked to the
    // closed tip and listed on the range dashboard (and not before the indexer has seen it).
    let (repeat, _) = app
        .submit_tip(
            "Sarkanda market ke paas phir se ganja bikne laga hai",
            Some("bilaspur"),
        )
        .await;
    while tipline::jobs::index_batch(&app.core, 100).await.unwrap() > 0 {}
    let page = asp.tip_page(&repeat).await;
    assert!(
        page.contains(&format!("/console/tips/{number}")) && page.contains("दोबारा"),
        "linked to the closed tip as a repeat"
    );
    let ig = app
        .officer("ig.range", Role::RangeSupervisor, None, None)
        .await;
    let range = ig.get("/console/range").await.text().await.unwrap();
    let listed = common::between(&range, "id=\"repeats\"", "</table>");
    assert!(
        listed.contains(&repeat) && !listed.contains(&number),
        "{listed}"
    );
});

on_both_backends!(
    police_involvement_bypasses_the_accused_station,
    |app: TestApp| async move {
        let text = "Torwa me satta chalta hai. Torwa thana wale paisa lete hai isliye koi karwai nahi hoti.";
        let (number, _) = app.submit_tip(text, Some("bilaspur")).await;
        let asp = app
            .officer(
                "asp.bilaspur",
                Role::DistrictSupervisor,
                Some("bilaspur"),
                None,
            )
            .await;
        let op = app
            .officer("op.bilaspur", Role::Operator, Some("bilaspur"), None)
            .await;
        let page = asp.tip_page(&number).await;
        assert!(
            page.contains("id=\"barred\""),
            "the accused station is shown as barred"
        );
        assert!(
            !page.contains("value=\"bsp-torwa\""),
            "and is not offered for dispatch"
        );
        // Operators never see such tips.
        assert_eq!(
            op.get(&format!("/console/tips/{number}")).await.status(),
            404
        );
        assert!(
            !op.get("/console/")
                .await
                .text()
                .await
                .unwrap()
                .contains(&number)
        );
        // A forged dispatch to the accused station is refused and changes nothing.
        let resp = asp
            .step(
                &number,
                "new",
                "assign",
                &[
                    ("desk", "bsp-torwa"),
                    ("brief", "Check the satta operation at Torwa."),
                ],
            )
            .await;
        assert_eq!(resp.status(), 400);
        assert!(asp.tip_page(&number).await.contains("id=\"status\">नई<"));
        // The range supervisor sees it.
        let ig = app
            .officer("ig.range", Role::RangeSupervisor, None, None)
            .await;
        assert!(
            ig.get("/console/?flag=police")
                .await
                .text()
                .await
                .unwrap()
                .contains(&number)
        );
    }
);

on_both_backends!(
    questions_reach_the_tipster_and_answers_come_back,
    |app: TestApp| async move {
        let (number, secret) = app.submit_tip(TEXT, Some("bilaspur")).await;
        let asp = app
            .officer(
                "asp.bilaspur",
                Role::DistrictSupervisor,
                Some("bilaspur"),
                None,
            )
            .await;
        let resp = asp
            .post(
                &format!("/console/tips/{number}/message"),
                &[("text", "Kis samay bikta hai? QUESTION-1")],
            )
            .await;
        assert_eq!(resp.status(), 303);
        let follow = app.followup(&number, &secret).await.text().await.unwrap();
        assert!(follow.contains("QUESTION-1"));
        let add = app
            .post_form(
                "/hi/followup/add",
                &[
                    ("number", &number),
                    ("secret", &secret),
                    ("text", "Shaam 7 baje ANSWER-1"),
                ],
            )
            .await;
        assert!(add.status().is_success() || add.status().is_redirection());
        assert!(asp.tip_page(&number).await.contains("ANSWER-1"));
        // A station officer may not write to the tipster.
        let sho = app
            .officer(
                "sho.sarkanda",
                Role::StationOfficer,
                Some("bilaspur"),
                Some("bsp-sarkanda"),
            )
            .await;
        assert_eq!(
            sho.post(
                &format!("/console/tips/{number}/message"),
                &[("text", "hello there")]
            )
            .await
            .status(),
            404
        );
    }
);

on_both_backends!(operator_enters_a_phone_tip, |app: TestApp| async move {
    let op = app
        .officer("op.korba", Role::Operator, Some("korba"), None)
        .await;
    let resp = op
        .post(
            "/console/entry",
            &[
                (
                    "text",
                    "Gaon me kachchi sharab ban rahi hai, bhatti jal rahi hai",
                ),
                ("category", "illicit_liquor"),
                ("station", "Bankimongra"),
                ("district", "bilaspur"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 201);
    let page = resp.text().await.unwrap();
    let number = between(&page, "id=\"tip-number\" aria-label=\"", "\"").replace(' ', "");
    let secret = between(&page, "id=\"tip-secret\" aria-label=\"", "\"").replace(' ', "");
    assert_eq!(number.len(), 10);
    assert_eq!(secret.len(), 15);
    let tip = app
        .core
        .store
        .tip(app.tip_id_of(&number).await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tip.channel, "phone");
    assert_eq!(
        tip.district_id.as_deref(),
        Some("korba"),
        "an operator's tips stay in their district"
    );
    assert_eq!(tip.station_id.as_deref(), Some("krb-bankimongra"));
    assert_eq!(tip.category.as_deref(), Some("illicit_liquor"));
    // The creation itself is audited as the operator's entry (one entry, same transaction).
    let history = app
        .core
        .store
        .audit_about(&format!("tip:{}", tip.tip_id.get()), 10)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].action, "tip.entered");
    assert_eq!(history[0].actor, format!("officer:{}", op.id));
    // The caller can follow up with what was read out.
    assert_eq!(app.followup(&number, &secret).await.status(), 200);
    // An unknown station is refused with a message and nothing stored.
    let before = app.core.store.tip_count().await.unwrap();
    let resp = op
        .post(
            "/console/entry",
            &[
                ("text", "Some tip text about theft"),
                ("station", "Nowhere Thana"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(app.core.store.tip_count().await.unwrap(), before);
});

on_both_backends!(
    many_failed_logins_slow_every_login_for_a_minute,
    |app: TestApp| async move {
        app.add_officer(
            "asp.mungeli",
            Role::DistrictSupervisor,
            Some("mungeli"),
            None,
        )
        .await;
        // Someone tries many names: no single account reaches its lock, but the node pauses logins.
        for i in 0..tipline::officers::FAILED_LOGINS_PER_MINUTE {
            let resp = app
                .login_password(&format!("guess.{i}"), "some password")
                .await;
            assert_eq!(resp.status(), 401);
        }
        assert_eq!(
            app.login_password("asp.mungeli", PASSWORD).await.status(),
            401
        );
        app.clock.advance(61_000);
        assert_eq!(
            app.login_password("asp.mungeli", PASSWORD).await.status(),
            303
        );
    }
);

/// The queue page with a query string, as one officer sees it.
async fn queue(who: &OfficerClient<'_>, query: &str) -> String {
    let path = format!("/console/?{query}");
    let resp = who.get(&path).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.unwrap()
}

on_both_backends!(
    queue_shows_deadlines_filters_and_searches,
    |app: TestApp| async move {
        let (number, _) = app.submit_tip(TEXT, Some("bilaspur")).await;
        let (other, _) = app
            .submit_tip("Korba me juaa chal raha hai har raat", Some("korba"))
            .await;
        let asp = app
            .officer(
                "asp.bilaspur",
                Role::DistrictSupervisor,
                Some("bilaspur"),
                None,
            )
            .await;
        let ig = app
            .officer("ig.range", Role::RangeSupervisor, None, None)
            .await;

        // The deadline to acknowledge runs from arrival, by the tip's priority.
        let auth = app.core.store.tip_auth(&number).await.unwrap().unwrap();
        let record = app.core.store.tip(auth.tip_id).await.unwrap().unwrap();
        let due = record
            .deadlines
            .expect("deadlines set on arrival")
            .acknowledge;
        let limits = tipline::policy::Deadlines::default().limits(&record.priority);
        assert_eq!(
            due,
            record.created_at + i64::from(limits.acknowledge) * 60_000
        );
        let left = (due - app.clock.now_ms()) / 60_000;
        let expected = if left < 60 {
            format!("पावती: {left} मिनट बाकी")
        } else {
            format!("पावती: {} घंटे बाकी", left / 60)
        };
        let page = queue(&asp, "").await;
        assert!(page.contains(&expected), "{expected}: {page}");
        // Two minutes past the deadline (in steps shorter than the idle timeout, with a request
        // now and then, so the sessions live).
        while app.clock.now_ms() < due + 120_000 {
            app.clock
                .advance((due + 120_000 - app.clock.now_ms()).min(10 * 60_000));
            queue(&ig, "").await;
            queue(&asp, "").await;
        }
        let page = queue(&asp, "").await;
        assert!(
            page.contains("class=\"late\">पावती: 2 मिनट देर"),
            "late in red"
        );
        // Acknowledging moves the clock on to the next step.
        asp.step(&number, "new", "acknowledge", &[]).await;
        assert!(asp.tip_page(&number).await.contains("पहली कार्रवाई: "));

        // Filters: channel and district (the range supervisor's).
        assert!(queue(&asp, "channel=api").await.contains(&number));
        assert!(!queue(&asp, "channel=phone").await.contains(&number));
        let korba = queue(&ig, "district=korba").await;
        assert!(korba.contains(&other) && !korba.contains(&number));
        // A district supervisor's district filter is ignored: the scope comes from the session.
        assert!(!queue(&asp, "district=korba").await.contains(&other));

        // Word search, before and after the indexer has moved the terms out of the pending set.
        for indexed in [false, true] {
            if indexed {
                tipline::jobs::index_batch(&app.core, 1000).await.unwrap();
            }
            assert!(queue(&asp, "q=ganja").await.contains(&number), "{indexed}");
            assert!(queue(&asp, "q=ganja+mahesh").await.contains(&number));
            assert!(!queue(&asp, "q=ganja+juaa").await.contains(&number));
            assert!(queue(&ig, "q=juaa").await.contains(&other));
            assert!(!queue(&asp, "q=juaa").await.contains(&other), "scope kept");
        }
    }
);

on_both_backends!(
    officers_correct_triage_and_each_change_is_kept,
    |app: TestApp| async move {
        let (number, _) = app.submit_tip(TEXT, Some("bilaspur")).await;
        let asp = app
            .officer(
                "asp.bilaspur",
                Role::DistrictSupervisor,
                Some("bilaspur"),
                None,
            )
            .await;
        let op = app
            .officer("op.bilaspur", Role::Operator, Some("bilaspur"), None)
            .await;
        let tip_id = app.tip_id_of(&number).await;
        let before = app.core.store.tip(tip_id).await.unwrap().unwrap();
        let path = format!("/console/tips/{number}/triage");
        let fields = |category: &'static str, station: &'static str| {
            vec![
                ("category", category),
                ("station", station),
                ("urgent", "yes"),
            ]
        };

        // The operator may read the tip but not correct it; nothing changes.
        assert_eq!(
            op.post(&path, &fields("gambling_betting", "bsp-civil-line"))
                .await
                .status(),
            403
        );
        // A station of another district, or an unknown category, is refused with a message.
        let resp = asp
            .post(&path, &fields("gambling_betting", "krb-bankimongra"))
            .await;
        assert_eq!(resp.status(), 400);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("इस सूचना के ज़िले का थाना नहीं है")
        );
        assert_eq!(
            asp.post(&path, &fields("smuggling_of_dreams", ""))
                .await
                .status(),
            400
        );
        let unchanged = app.core.store.tip(tip_id).await.unwrap().unwrap();
        assert_eq!(
            (unchanged.category, unchanged.station_id, unchanged.urgent),
            (
                before.category.clone(),
                before.station_id.clone(),
                before.urgent
            )
        );

        // The supervisor's correction: category, station and urgency.
        assert_eq!(
            asp.post(&path, &fields("gambling_betting", "bsp-civil-line"))
                .await
                .status(),
            303
        );
        let after = app.core.store.tip(tip_id).await.unwrap().unwrap();
        assert_eq!(after.category.as_deref(), Some("gambling_betting"));
        assert_eq!(after.station_id.as_deref(), Some("bsp-civil-line"));
        assert!(after.urgent && after.priority == "urgent");
        assert_eq!(
            after.deadlines,
            Some(tipline::policy::Deadlines::default().for_tip("urgent", after.created_at)),
            "urgent deadlines from arrival"
        );
        let fixes = app
            .core
            .store
            .triage_corrections(Some(tip_id))
            .await
            .unwrap();
        let fields_changed: Vec<&str> = fixes.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields_changed, ["category", "station", "urgent"]);
        assert_eq!(fixes[0].old_value, before.category);
        assert_eq!(fixes[0].new_value.as_deref(), Some("gambling_betting"));
        assert!(fixes.iter().all(|f| f.officer_id == asp.id));
        let history = app
            .core
            .store
            .audit_about(&format!("tip:{}", tip_id.get()), 50)
            .await
            .unwrap();
        assert_eq!(
            history
                .iter()
                .filter(|e| e.action == "tip.correct_triage")
                .count(),
            1
        );
        // The tip page lists the correction; the same form again changes nothing.
        assert!(asp.tip_page(&number).await.contains("id=\"corrections\""));
        asp.post(&path, &fields("gambling_betting", "bsp-civil-line"))
            .await;
        assert_eq!(
            app.core.store.triage_corrections(None).await.unwrap().len(),
            3
        );
    }
);

on_both_backends!(
    a_burst_of_tips_against_one_person_is_flagged,
    |app: TestApp| async move {
        let index =
            || async { while tipline::jobs::index_batch(&app.core, 100).await.unwrap() > 0 {} };
        let (first, _) = app
            .submit_tip(
                "Torwa me Ramesh naam ka aadmi satta chalata hai",
                Some("bilaspur"),
            )
            .await;
        let (second, _) = app
            .submit_tip(
                "रमेश नाम का आदमी रोज़ शाम जुआ खिलाता है, तोरवा में",
                Some("bilaspur"),
            )
            .await;
        let (other, _) = app
            .submit_tip(
                "Sirgitti me Suresh naam ka aadmi sharab bechta hai",
                Some("bilaspur"),
            )
            .await;
        index().await;
        let ig = app
            .officer("ig.range", Role::RangeSupervisor, None, None)
            .await;
        let range = ig.get("/console/range").await.text().await.unwrap();
        assert!(!range.contains("id=\"bursts\""), "two tips are no burst");
        // A third tip naming Ramesh, in other words: a possible campaign.
        let (third, _) = app
            .submit_tip(
                "Ramesh naam ka vyakti ladkiyon ko pareshan karta hai",
                Some("bilaspur"),
            )
            .await;
        index().await;
        let range = ig.get("/console/range").await.text().await.unwrap();
        let listed = common::between(&range, "id=\"bursts\"", "</table>");
        assert!(listed.contains(&third), "{listed}");
        assert!(!listed.contains(&other));
        let page = ig.tip_page(&third).await;
        for earlier in [&first, &second] {
            assert!(
                page.contains(&format!("/console/tips/{earlier}")),
                "linked to {earlier}"
            );
        }
        assert!(!page.contains(&format!("/console/tips/{other}")));
        assert!(
            page.contains("उत्पीड़न"),
            "named as a possible harassment campaign"
        );
    }
);
