//! Follow-up with tip number and secret on both backends: status, police messages, adding
//! information, and the limits on wrong guesses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use tipline::domain::{TipNumber, TipText};
use tipline::intake::{self, GUESS_WINDOW_MS, GUESSES_PER_TIP};

on_both_backends!(
    shows_status_and_police_messages_and_takes_answers,
    |app: TestApp| async move {
        let (number, secret) = app
            .submit_web_tip("सट्टा पट्टी लिखी जा रही है", "raigarh")
            .await;
        let html = app.followup(&number, &secret).await.text().await.unwrap();
        assert!(
            html.contains("मिल गई है, पुलिस अधिकारी जल्द देखेंगे।"),
            "status missing"
        );
        assert!(html.contains("अभी कोई संदेश नहीं।"));
        // A supervisor asks a question (the console comes later; this is the same intake call).
        let tip_id = app.tip_id_of(&number).await;
        let question = TipText::parse("किस समय होता है?").unwrap();
        intake::add_message(&app.core, tip_id, "police", "officer:test", &question)
            .await
            .unwrap();
        app.clock.advance(60_000);
        // The tipster answers, typing the numbers with spaces and Devanagari digits.
        let deva: String = secret
            .chars()
            .map(|c| char::from_u32(0x0966 + c.to_digit(10).unwrap()).unwrap())
            .collect();
        let spaced = TipNumber::parse(&number).unwrap().display();
        let resp = app
            .post_form(
                "/hi/followup/add",
                &[
                    ("number", &spaced),
                    ("secret", &deva),
                    ("text", "शाम 7 बजे के बाद"),
                ],
            )
            .await;
        assert_eq!(resp.status(), 200);
        let html = resp.text().await.unwrap();
        assert!(html.contains("आपकी जानकारी जोड़ दी गई।"));
        let question_at = html.find("किस समय होता है?").expect("police question shown");
        let answer_at = html.find("शाम 7 बजे के बाद").expect("answer shown");
        assert!(question_at < answer_at, "thread is in order");
        assert!(html.contains("class=\"police\""));
        // An empty addition is refused with a message and adds nothing.
        let resp = app
            .post_form(
                "/hi/followup/add",
                &[("number", &number), ("secret", &secret), ("text", " ")],
            )
            .await;
        assert_eq!(resp.status(), 400);
        assert_eq!(app.core.store.messages(tip_id).await.unwrap().len(), 2);
        // English view of the same tip.
        let en = app
            .post_form("/en/followup", &[("number", &number), ("secret", &secret)])
            .await
            .text()
            .await
            .unwrap();
        assert!(en.contains("Received; an officer will look at it soon."));
    }
);

on_both_backends!(
    wrong_number_and_wrong_secret_look_the_same,
    |app: TestApp| async move {
        let (number, secret) = app.submit_tip("x", None).await;
        let wrong_secret = format!("{}0", &secret[..14]);
        let wrong_secret = if wrong_secret == secret {
            format!("{}1", &secret[..14])
        } else {
            wrong_secret
        };
        let other = TipNumber::generate().unwrap();
        let a = app.followup(&number, &wrong_secret).await;
        let b = app.followup(other.as_str(), &secret).await;
        assert_eq!(a.status(), 403);
        assert_eq!(b.status(), 403);
        let (a, b) = (a.text().await.unwrap(), b.text().await.unwrap());
        assert!(
            a.contains("सूचना नंबर या गुप्त कोड सही नहीं है।")
                && b.contains("सूचना नंबर या गुप्त कोड सही नहीं है।")
        );
        // Malformed input is told apart (it is not a guess).
        let resp = app.followup("12345", &secret).await;
        assert_eq!(resp.status(), 400);
        assert!(resp.text().await.unwrap().contains("10 अंकों"));
    }
);

on_both_backends!(
    wrong_guesses_lock_a_tip_for_a_while,
    |app: TestApp| async move {
        let (number, secret) = app.submit_tip("x", None).await;
        let wrong = if secret.starts_with('1') {
            "2".repeat(15)
        } else {
            "1".repeat(15)
        };
        for _ in 0..GUESSES_PER_TIP {
            assert_eq!(app.followup(&number, &wrong).await.status(), 403);
        }
        // Now even the right secret waits: guessing cannot continue.
        let locked = app.followup(&number, &secret).await;
        assert_eq!(locked.status(), 429);
        assert!(locked.text().await.unwrap().contains("15 मिनट"));
        app.clock.advance(GUESS_WINDOW_MS + 1);
        assert_eq!(app.followup(&number, &secret).await.status(), 200);
        // A success clears the count: a later typo does not lock at once.
        assert_eq!(app.followup(&number, &wrong).await.status(), 403);
        assert_eq!(app.followup(&number, &secret).await.status(), 200);
    }
);
