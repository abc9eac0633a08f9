//! The tipster's web pages on both backends: the form in Hindi and English, the receipt, bad input
//! in the tipster's language (nothing stored), headers, size, and no cookies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;

on_both_backends!(
    form_is_hindi_first_small_and_private,
    |app: TestApp| async move {
        let root = app.get("/").await;
        assert_eq!(root.status(), 303);
        assert_eq!(root.headers()["location"], "/hi/");
        let resp = app
            .client
            .get(app.url("/hi/"))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let h = resp.headers().clone();
        assert_eq!(h["content-encoding"], "gzip");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("http"),
            "{csp}"
        );
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["cache-control"], "no-store");
        assert!(h.get("set-cookie").is_none());
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS on plain http"
        );
        let compressed = resp.bytes().await.unwrap().len();
        let css = app
            .client
            .get(app.url("/static/site.css"))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        let css_len = css.bytes().await.unwrap().len();
        assert!(
            compressed + css_len < 30 * 1024,
            "form page is {compressed} + {css_len} bytes compressed"
        );
        let html = app.get("/hi/").await.text().await.unwrap();
        assert!(html.contains("<html lang=\"hi\">") && html.contains("सूचना भेजें"));
        assert!(!html.contains("<script") && !html.contains("https://"));
        let en = app.get("/en/").await.text().await.unwrap();
        assert!(en.contains("<html lang=\"en\">") && en.contains("Send the tip"));
        assert_eq!(app.get("/fr/").await.status(), 404);
    }
);

on_both_backends!(
    district_link_preselects_the_district,
    |app: TestApp| async move {
        let html = app.get("/hi/d/korba").await.text().await.unwrap();
        assert!(
            html.contains("<option value=\"korba\" selected>"),
            "korba not preselected"
        );
        assert_eq!(app.get("/hi/d/atlantis").await.status(), 404);
    }
);

on_both_backends!(web_tip_gives_a_receipt, |app: TestApp| async move {
    let (number, secret) = app
        .submit_web_tip("रात में अवैध शराब की बिक्री हो रही है", "mungeli")
        .await;
    assert!(
        tipline::domain::TipNumber::parse(&number).is_some(),
        "{number}"
    );
    assert_eq!(secret.len(), 15);
    assert_eq!(app.tip_count().await, 1);
    let resp = app
        .post_form(
            "/en/report",
            &[
                ("text", "Gambling den behind the market"),
                ("district", ""),
                ("category", "gambling_betting"),
            ],
        )
        .await;
    let html = resp.text().await.unwrap();
    assert!(html.contains("Your tip has been received"));
    assert_eq!(app.tip_count().await, 2);
});

on_both_backends!(
    bad_form_input_is_explained_in_the_tipsters_language,
    |app: TestApp| async move {
        let resp = app
            .post_form("/hi/report", &[("text", "   "), ("district", "korba")])
            .await;
        assert_eq!(resp.status(), 400);
        let html = resp.text().await.unwrap();
        assert!(html.contains("क्या हुआ, यह लिखना ज़रूरी है।"));
        let resp = app
            .post_form("/en/report", &[("text", "ok"), ("district", "gotham")])
            .await;
        assert_eq!(resp.status(), 400);
        let html = resp.text().await.unwrap();
        assert!(html.contains("That district is not in the list"));
        assert!(
            html.contains(">ok</textarea>"),
            "the text is kept for correction"
        );
        // Invalid UTF-8 is refused, not mangled.
        let resp = app
            .post_form_raw("/hi/report", b"text=%FF%FEabc&district=korba".to_vec())
            .await;
        assert_eq!(resp.status(), 400);
        assert!(resp.text().await.unwrap().contains("एन्कोडिंग"));
        // Too long and oversized.
        let long = "क".repeat(5001);
        let resp = app.post_form("/hi/report", &[("text", &long)]).await;
        assert_eq!(resp.status(), 400);
        let huge = format!("text={}", "a".repeat(300_000));
        let resp = app.post_form_raw("/hi/report", huge.into_bytes()).await;
        assert_eq!(resp.status(), 413);
        assert!(resp.text().await.unwrap().contains("संदेश बहुत बड़ा है"));
        // Wrong content type.
        let resp = app
            .client
            .post(app.url("/hi/report"))
            .header("content-type", "text/plain")
            .body("text=x")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 415);
        assert_eq!(app.tip_count().await, 0, "bad input must store nothing");
    }
);

on_both_backends!(hostile_text_is_escaped, |app: TestApp| async move {
    let evil = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
    let resp = app
        .post_form("/hi/report", &[("text", evil), ("district", "nowhere")])
        .await;
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<script>alert") && !html.contains("<img src=x"));
    assert!(
        html.contains("&#60;script&#62;alert(1)"),
        "shown back, escaped"
    );
});
