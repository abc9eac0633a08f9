//! `POST /api/v1/tips` on both backends: success, every kind of bad input (nothing stored), and
//! that what is stored is sealed and searchable only through the blind index.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use serde_json::json;
use tipline::domain::{TipNumber, TipSecret};

on_both_backends!(
    accepts_a_tip_and_returns_number_and_secret,
    |app: TestApp| async move {
        let resp = app.post_json("/api/v1/tips", json!({"text": "गांजा बिक रहा है थाने के पीछे", "district": "korba", "happening_now": true})).await;
        assert_eq!(resp.status(), 201);
        let v: serde_json::Value = resp.json().await.unwrap();
        let number =
            TipNumber::parse(v["tip_number"].as_str().unwrap()).expect("a valid tip number");
        assert!(TipSecret::parse(v["secret"].as_str().unwrap()).is_some());
        assert_eq!(v["district"], "korba");
        assert_eq!(app.tip_count().await, 1);
        // The text is stored sealed: it opens with the key, and the row holds no plaintext.
        let auth = app
            .core
            .store
            .tip_auth(number.as_str())
            .await
            .unwrap()
            .unwrap();
        let record = app.core.store.tip(auth.tip_id).await.unwrap().unwrap();
        let needle = "गांजा".as_bytes();
        assert!(
            !record
                .text_sealed
                .windows(needle.len())
                .any(|w| w == needle)
        );
        assert_eq!(
            tipline::intake::open_tip_text(&app.core, auth.tip_id)
                .await
                .unwrap(),
            "गांजा बिक रहा है थाने के पीछे"
        );
        assert_eq!(record.district_id.as_deref(), Some("korba"));
        assert_eq!(record.status, "new");
    }
);

on_both_backends!(
    numbers_are_not_sequential_or_repeated,
    |app: TestApp| async move {
        let mut numbers = Vec::new();
        for i in 0..20 {
            numbers.push(app.submit_tip(&format!("tip {i}"), None).await.0);
        }
        let mut sorted = numbers.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 20, "tip numbers repeat");
        let ascending = numbers.windows(2).all(|w| w[0] < w[1]);
        assert!(!ascending, "tip numbers come out in order: {numbers:?}");
    }
);

on_both_backends!(
    bad_input_gets_a_code_and_stores_nothing,
    |app: TestApp| async move {
        let cases = [
            (json!({"text": "   "}), "text_empty"),
            (json!({}), "text_empty"),
            (json!({"text": "x".repeat(5001)}), "text_too_long"),
            (json!({"text": "a\u{0000}b"}), "text_invalid_characters"),
            (
                json!({"text": "ok", "district": "raipur"}),
                "district_unknown",
            ),
            (
                json!({"text": "ok", "category": "parking"}),
                "category_unknown",
            ),
            (
                json!({"text": "ok", "place": "p".repeat(301)}),
                "place_invalid",
            ),
            (json!({"text": "ok", "language": "fr"}), "language_unknown"),
            (json!({"text": "ok", "surprise": 1}), "invalid_json"),
            (json!({"text": 5}), "invalid_json"),
        ];
        for (body, code) in cases {
            let resp = app.post_json("/api/v1/tips", body.clone()).await;
            assert_eq!(resp.status(), 400, "{body}");
            let v: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(v["error"]["code"], code, "{body}");
            assert!(!v["error"]["message"].as_str().unwrap().is_empty());
        }
        // Invalid UTF-8 inside a JSON string.
        let resp = app
            .client
            .post(app.url("/api/v1/tips"))
            .header("content-type", "application/json")
            .body(b"{\"text\": \"\xff\xfe\"}".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        // Wrong media type and oversized body.
        let resp = app
            .client
            .post(app.url("/api/v1/tips"))
            .body("text=hi")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 415);
        let big = json!({"text": "x".repeat(200_000)});
        let resp = app.post_json("/api/v1/tips", big).await;
        assert_eq!(resp.status(), 413);
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v["error"]["code"], "body_too_large");
        // Several bad fields are all reported, in English when asked.
        let resp = app
            .post_json(
                "/api/v1/tips",
                json!({"text": "", "district": "x", "language": "en"}),
            )
            .await;
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v["error"]["fields"].as_array().unwrap().len(), 2);
        assert_eq!(v["error"]["message"], "Please write what happened.");
        assert_eq!(app.tip_count().await, 0, "bad input must store nothing");
    }
);

on_both_backends!(
    blind_index_finds_whole_words_only,
    |app: TestApp| async move {
        app.submit_tip("गाँजा बिक रहा है पुलिस को पता है", Some("bilaspur"))
            .await;
        app.submit_tip("satta chal raha hai", Some("raigarh")).await;
        let keys = app.core.keyring.keys();
        let find = |w: &str| keys.search_term(&tipline::search::normalize_word(w));
        assert_eq!(
            app.core
                .store
                .tips_with_term(find("गांजा"), 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            app.core
                .store
                .tips_with_term(find("SATTA"), 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            app.core
                .store
                .tips_with_term(find("पाल"), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            app.core
                .store
                .tips_with_term(find("sat"), 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
);

on_both_backends!(health_and_readiness, |app: TestApp| async move {
    assert_eq!(app.get("/healthz").await.text().await.unwrap(), "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
});

on_both_backends!(
    every_tip_is_triaged_as_it_is_stored,
    |app: TestApp| async move {
        let record = |number: String| {
            let core = app.core.clone();
            async move {
                let auth = core.store.tip_auth(&number).await.unwrap().unwrap();
                core.store.tip(auth.tip_id).await.unwrap().unwrap()
            }
        };
        // Place and category come from the text when the tipster does not say.
        let (n, _) = app
            .submit_tip(
                "Dipka mein abhi ganja bik raha hai, gadi se maal utar raha hai",
                None,
            )
            .await;
        let r = record(n).await;
        assert_eq!(r.district_id.as_deref(), Some("korba"));
        assert_eq!(r.station_id.as_deref(), Some("krb-dipka"));
        assert_eq!(r.category.as_deref(), Some("narcotics"));
        assert!(r.urgent);
        assert_eq!(r.priority, "urgent");
        // A tip accusing the station is barred from it and never routed to it.
        let (n, _) = app.submit_tip("Dipka thana ke hawaldar paisa lekar satta chalwa rahe hain, har raat bazaar ke peeche", None).await;
        let r = record(n).await;
        assert!(r.police_involvement && !r.urgent);
        assert_eq!(r.barred_station_id.as_deref(), Some("krb-dipka"));
        assert_eq!(r.station_id, None);
        // The tipster's own choice of district and category wins over the text.
        let resp = app
        .post_json("/api/v1/tips", serde_json::json!({"text": "Dipka mein jua chal raha hai", "district": "bilaspur", "category": "theft"}))
        .await;
        let v: serde_json::Value = resp.json().await.unwrap();
        let r = record(v["tip_number"].as_str().unwrap().to_owned()).await;
        assert_eq!(r.district_id.as_deref(), Some("bilaspur"));
        assert_eq!(
            r.station_id, None,
            "a Korba station is not kept for a Bilaspur tip"
        );
        assert_eq!(r.category.as_deref(), Some("theft"));
        // Not a tip: kept, marked, low priority, never dropped.
        let (n, _) = app
            .submit_tip("नमस्ते सर, क्या पासपोर्ट का वेरिफिकेशन हो गया?", None)
            .await;
        let r = record(n).await;
        assert_eq!(r.category.as_deref(), Some("not_a_tip"));
        assert_eq!(r.priority, "low");
        assert_eq!(app.tip_count().await, 4);
        // The audit entry carries the routing facts, never the words.
        let entries = app.core.store.audit_entries(0, 10).await.unwrap();
        assert!(
            entries[1]
                .detail
                .contains("\"barred_station\":\"krb-dipka\""),
            "{}",
            entries[1].detail
        );
        assert!(entries.iter().all(|e| !e.detail.contains("hawaldar")));
    }
);

on_both_backends!(
    repeated_and_same_place_tips_are_linked_not_merged,
    |app: TestApp| async move {
        let id = |number: String| {
            let core = app.core.clone();
            async move { core.store.tip_auth(&number).await.unwrap().unwrap().tip_id }
        };
        let text = "दीपका बाजार के पीछे रोज शाम गांजा बिकता है, दो लड़के बेचते हैं, पुलिस कुछ नहीं करती";
        let first = id(app.submit_tip(text, None).await.0).await;
        app.clock.advance(3_600_000);
        // The same message again, with a small change: a near-duplicate of the first.
        let again = id(app.submit_tip(&format!("{text}!! जल्दी"), None).await.0).await;
        tipline::jobs::index_batch(&app.core, 100).await.unwrap();
        let links = app.core.store.tip_links(again).await.unwrap();
        assert_eq!(links.len(), 1, "{links:?}");
        assert_eq!(links[0].related_tip_id, first);
        assert_eq!(links[0].kind, "near_duplicate");
        assert!(links[0].score >= 50);
        // Someone else, other words, same station and category: linked by place.
        let other = id(app
            .submit_tip(
                "Dipka me ganja ka dhandha chal raha hai school ke paas",
                None,
            )
            .await
            .0)
        .await;
        tipline::jobs::index_batch(&app.core, 100).await.unwrap();
        let links = app.core.store.tip_links(other).await.unwrap();
        assert!(links.iter().all(|l| l.kind == "same_place"), "{links:?}");
        assert_eq!(links.len(), 2, "{links:?}");
        // An unrelated tip is linked to nothing; all tips are kept.
        let unrelated = id(app
            .submit_tip("korba me online fraud hua, 20000 rupaye kat gaye", None)
            .await
            .0)
        .await;
        tipline::jobs::index_batch(&app.core, 100).await.unwrap();
        assert!(
            app.core
                .store
                .tip_links(unrelated)
                .await
                .unwrap()
                .is_empty()
        );
        // Past the window, the same text is not linked any more.
        app.clock
            .advance(tipline::intake::NEAR_DUPLICATE_WINDOW_MS + 1);
        let late = id(app.submit_tip(text, Some("korba")).await.0).await;
        tipline::jobs::index_batch(&app.core, 100).await.unwrap();
        assert!(
            app.core
                .store
                .tip_links(late)
                .await
                .unwrap()
                .iter()
                .all(|l| l.kind != "near_duplicate")
        );
        assert_eq!(app.tip_count().await, 5);
    }
);

on_both_backends!(
    search_works_while_queued_and_after_indexing,
    |app: TestApp| async move {
        let keys = app.core.keyring.keys();
        let find = |w: &str| keys.search_term(&tipline::search::normalize_word(w));
        let hits = |w: &'static str| {
            let store = app.core.store.clone();
            let term = find(w);
            async move { store.tips_with_term(term, 10).await.unwrap().len() }
        };
        app.submit_tip("गाँजा बिक रहा है", Some("bilaspur")).await;
        app.submit_tip("satta chal raha hai", Some("raigarh")).await;
        assert_eq!(
            (hits("गांजा").await, hits("satta").await, hits("पाल").await),
            (1, 1, 0)
        );
        // The background indexer moves both texts; search finds the same after.
        assert_eq!(tipline::jobs::index_batch(&app.core, 100).await.unwrap(), 2);
        assert_eq!(tipline::jobs::index_batch(&app.core, 100).await.unwrap(), 0);
        assert_eq!(
            (hits("गांजा").await, hits("satta").await, hits("पाल").await),
            (1, 1, 0)
        );
        // A follow-up message adds its words to its tip.
        let (number, secret) = app.submit_tip("pehli suchna", None).await;
        let resp = app
            .post_form(
                "/hi/followup/add",
                &[
                    ("number", &number),
                    ("secret", &secret),
                    ("text", "naya shabd kabaadi"),
                ],
            )
            .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(hits("kabaadi").await, 1);
        assert_eq!(tipline::jobs::index_batch(&app.core, 100).await.unwrap(), 2);
        assert_eq!(hits("kabaadi").await, 1);
        assert_eq!(hits("suchna").await, 1);
    }
);
