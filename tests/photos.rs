//! Photos on the web form, on both backends: a JPEG with GPS and camera details in its EXIF is
//! stored sealed, the officer sees a copy without them (each opening audited) and the SHA-256 of
//! the original; files that are not photos, too many photos and damaged photos are refused with a
//! message in the tipster's language, and nothing is stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use tipline::domain::Role;

const CANARY: &str = "GPS 22.0797N 82.1409E CANARY-CAMERA-SERIAL-77";
const SCAN: [u8; 7] = [0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9];

/// A small JPEG-shaped file with an EXIF segment that holds `exif`.
fn jpeg(exif: &str) -> Vec<u8> {
    let segment = |marker: u8, body: &[u8]| {
        let len = body.len() + 2;
        let mut s = vec![0xFF, marker, (len >> 8) as u8, len as u8];
        s.extend_from_slice(body);
        s
    };
    let mut j = vec![0xFF, 0xD8];
    j.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    j.extend(segment(0xE1, format!("Exif\0\0{exif}").as_bytes()));
    j.extend(segment(0xDB, &[0u8; 65]));
    j.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    j.extend_from_slice(&SCAN);
    j
}

/// A `multipart/form-data` body: text fields, then files named `photo`.
fn multipart(fields: &[(&str, &str)], photos: &[Vec<u8>]) -> (String, Vec<u8>) {
    let files: Vec<(&str, &[u8])> = photos.iter().map(|p| ("photo", p.as_slice())).collect();
    multipart_files(fields, &files)
}

/// A `multipart/form-data` body: text fields, then files (field name, bytes).
fn multipart_files(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----tiplineTestBoundary7MA4YWxk";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (i, (name, p)) in files.iter().enumerate() {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"FILE_{i}.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(p);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post(app: &TestApp, fields: &[(&str, &str)], photos: &[Vec<u8>]) -> reqwest::Response {
    let (content_type, body) = multipart(fields, photos);
    app.client
        .post(app.url("/hi/report"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

on_both_backends!(
    photos_reach_officers_without_metadata,
    |app: TestApp| async move {
        let text = "Sarkanda me roz shaam ganja bikta hai, photo bhej raha hoon";
        let fields = [("text", text), ("district", "bilaspur")];
        // Refused: a file that is not a photo, a damaged photo, four photos. Nothing stored.
        let resp = post(&app, &fields, &[b"<script>alert(1)</script>".to_vec()]).await;
        assert_eq!(resp.status(), 400);
        let page = resp.text().await.unwrap();
        assert!(page.contains("JPEG या PNG फ़ोटो नहीं"), "{page}");
        assert!(
            page.contains("Sarkanda"),
            "what was written is kept in the form"
        );
        let mut damaged = jpeg("x");
        damaged.truncate(30);
        assert_eq!(post(&app, &fields, &[damaged]).await.status(), 400);
        let four = vec![jpeg("a"), jpeg("b"), jpeg("c"), jpeg("d")];
        assert_eq!(post(&app, &fields, &four).await.status(), 400);
        assert_eq!(app.tip_count().await, 0);

        // Accepted: the receipt counts the photo.
        let original = jpeg(CANARY);
        let resp = post(&app, &fields, std::slice::from_ref(&original)).await;
        assert_eq!(resp.status(), 200);
        let page = resp.text().await.unwrap();
        assert!(page.contains("एक फ़ोटो मिली"), "{page}");
        let number = common::between(&page, "id=\"tip-number\">", "<").replace(' ', "");

        // The district supervisor sees the hash of the original and a copy without the metadata.
        let asp = app
            .officer("asp.bsp", Role::DistrictSupervisor, Some("bilaspur"), None)
            .await;
        let tip_page = asp.tip_page(&number).await;
        let sha = tipline::crypto::encode_hex(&tipline::crypto::sha256(&original));
        assert!(
            tip_page.contains(&sha),
            "the SHA-256 of the original is shown"
        );
        let href = common::between(&tip_page, "<ul id=\"photos\"><li><a href=\"", "\"");
        let resp = asp.get(&href).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "image/jpeg");
        let seen = resp.bytes().await.unwrap();
        assert!(!String::from_utf8_lossy(&seen).contains("CANARY-CAMERA"));
        assert!(seen.ends_with(&SCAN) && seen.starts_with(&[0xFF, 0xD8]));
        assert!(seen.len() < original.len());
        let tip_id = app.tip_id_of(&number).await;
        let views = app
            .core
            .store
            .audit_about(&format!("tip:{}", tip_id.get()), 50)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "attachment.view")
            .count();
        assert_eq!(views, 1);

        // Another district's supervisor and a station officer get nothing.
        let other = app
            .officer("asp.krb", Role::DistrictSupervisor, Some("korba"), None)
            .await;
        assert_eq!(other.get(&href).await.status(), 404);
        let sho = app
            .officer(
                "sho.sarkanda",
                Role::StationOfficer,
                Some("bilaspur"),
                Some("bsp-sarkanda"),
            )
            .await;
        assert_ne!(sho.get(&href).await.status(), 200);
        // A photo id of another tip, through this tip's number: not found.
        let wrong = format!("/console/tips/{number}/photos/1");
        assert_eq!(asp.get(&wrong).await.status(), 404);
    }
);

on_both_backends!(
    a_pdf_from_the_web_form_is_held_for_the_range_supervisor,
    |app: TestApp| async move {
        let pdf = b"%PDF-1.4\n1 0 obj << /Author (CANARY-WEB-AUTHOR) >> endobj\n%%EOF\n";
        let fields = [
            ("text", "Thane ka rate card, PDF bhej raha hoon"),
            ("district", "bilaspur"),
        ];
        let send = |files: Vec<(&'static str, Vec<u8>)>| {
            let app = &app;
            async move {
                let files: Vec<(&str, &[u8])> =
                    files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
                let (content_type, body) = multipart_files(&fields, &files);
                app.client
                    .post(app.url("/en/report"))
                    .header("content-type", content_type)
                    .body(body)
                    .send()
                    .await
                    .unwrap()
            }
        };
        // Refused, nothing stored: a web page called a PDF, two documents.
        let resp = send(vec![("document", b"<html>not a pdf</html>".to_vec())]).await;
        assert_eq!(resp.status(), 400);
        assert!(resp.text().await.unwrap().contains("not a PDF"));
        let two = vec![("document", pdf.to_vec()), ("document", pdf.to_vec())];
        assert_eq!(send(two).await.status(), 400);
        assert_eq!(app.tip_count().await, 0);

        let resp = send(vec![("document", pdf.to_vec())]).await;
        assert_eq!(resp.status(), 200);
        let page = resp.text().await.unwrap();
        let number = common::between(&page, "id=\"tip-number\">", "<").replace(' ', "");
        // The district's officer sees it listed with its hash, and cannot open it; the range
        // supervisor releases it, with a reason.
        let asp = app
            .officer("asp.bsp", Role::DistrictSupervisor, Some("bilaspur"), None)
            .await;
        let tip_page = asp.tip_page(&number).await;
        let sha = tipline::crypto::encode_hex(&tipline::crypto::sha256(pdf));
        assert!(
            tip_page.contains(&sha) && tip_page.contains("application/pdf"),
            "{tip_page}"
        );
        assert!(
            !tip_page.contains("/original\""),
            "no release form for the ASP"
        );
        let ig = app
            .officer("ig.bsp", Role::RangeSupervisor, None, None)
            .await;
        let ig_page = ig.tip_page(&number).await;
        let release = ig_page
            .split("action=\"")
            .filter_map(|rest| rest.split('"').next())
            .find(|a| a.ends_with("/original"))
            .unwrap()
            .to_owned();
        assert_eq!(
            asp.get(release.trim_end_matches("/original"))
                .await
                .status(),
            404
        );
        let released = ig.post(&release, &[("reason", "court order 3/2026")]).await;
        assert_eq!(released.status(), 200);
        assert_eq!(released.bytes().await.unwrap().as_ref(), pdf);
        app.assert_not_in_database_files(&[b"CANARY-WEB-AUTHOR"]);
    }
);
