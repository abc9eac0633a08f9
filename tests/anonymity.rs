//! Anonymity by construction, checked end to end on the real binary: canary values sent in the
//! places an informer could be identified (tip text, place, user agent, forwarded address,
//! referrer, query string, the secret) must appear in no log line and in no file of the data
//! directory, with logging turned up to debug (the Exotel voice line included: its requests carry
//! the caller's number and the path secret in the URL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn all_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The caller's number as Exotel writes it.
const EXOTEL_CALLER: &str = "09876599431";

const EXOTEL_CONFIG: &str = r#"
[channels.exotel]
token = "exotel-canary-path-secret-0123456789"
account_sid = "tipline1"
api_key = "apikey0001"
api_token = "api-token-for-tests"
api_url = "http://localhost:9"
recording_origins = ["http://localhost:9"]
callback_flow_url = "http://my.exotel.com/tipline1/exoml/start_voice/1"
"#;

/// A voicemail left on the Exotel line, its receipt, a missed call, and a request with a wrong
/// path secret: each carries the caller's number in its query string.
async fn exotel_calls(client: &reqwest::Client, base: &str) {
    let call = |token: &str, step: &str, sid: &str| {
        client
            .get(format!("{base}/hooks/exotel/{token}/{step}"))
            .query(&[
                ("CallSid", sid),
                ("CallFrom", EXOTEL_CALLER),
                ("CallTo", "07759400100"),
                ("CallType", "voicemail"),
                (
                    "RecordingUrl",
                    "http://localhost:9/exotelrecordings/CANARYREC5a2.mp3",
                ),
            ])
            .send()
    };
    let token = "exotel-canary-path-secret-0123456789";
    let sid = "b6cfaf0fd4a2e5a9c3f1d3b1b2d4e19a";
    assert_eq!(
        call(token, "passthru/recorded", sid)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        call(token, "greeting/receipt", sid).await.unwrap().status(),
        200
    );
    let missed = "b6cfaf0fd4a2e5a9c3f1d3b1b2d4e19b";
    let _ = call(token, "passthru/missed", missed).await.unwrap();
    let wrong = call(
        "exotel-canary-path-secret-XXXXXXXXXX",
        "passthru/recorded",
        missed,
    );
    assert_eq!(wrong.await.unwrap().status(), 401);
}

#[tokio::test]
async fn canaries_never_reach_logs_or_disk() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let data_dir = dir.path().join("data");
    // The Exotel voice line, whose requests carry the caller's number in the query string.
    let config_path = dir.path().join("tipline.toml");
    std::fs::write(&config_path, EXOTEL_CONFIG).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config_path)
        .arg("--data-dir")
        .arg(&data_dir)
        .env("TIPLINE_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_owned();

    let canaries = [
        "CANARYTEXT7f3a",
        "कैनरीशब्द",
        "CANARYPLACE91c",
        "CANARYWHEN55e",
        "CANARYAGENT0b2",
        "203.0.113.77",
        "canary-referrer.example",
        "CANARYQUERY4d1",
        "CANARYADDED8e6",
        "CANARYAPI3c9",
        EXOTEL_CALLER,
        "9876599431",
        "exotel-canary-path-secret",
        "CANARYREC5a2",
    ];
    let client = reqwest::Client::new();
    let hostile = |rb: reqwest::RequestBuilder| {
        rb.header("user-agent", "Mozilla/5.0 CANARYAGENT0b2")
            .header("x-forwarded-for", "203.0.113.77")
            .header("x-real-ip", "203.0.113.77")
            .header("referer", "https://canary-referrer.example/page")
    };
    let form = [
        ("text", "CANARYTEXT7f3a कैनरीशब्द गांजा बिक रहा है"),
        ("place", "CANARYPLACE91c"),
        ("when", "CANARYWHEN55e"),
        ("district", "korba"),
    ];
    let html = hostile(client.post(format!("{base}/hi/report?src=CANARYQUERY4d1")))
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let grab = |id: &str| {
        let start = html.find(&format!("id=\"{id}\">")).unwrap() + id.len() + 6;
        html[start..start + html[start..].find('<').unwrap()].replace(' ', "")
    };
    let (number, secret) = (grab("tip-number"), grab("tip-secret"));
    let resp = hostile(client.post(format!("{base}/hi/followup/add?x=CANARYQUERY4d1")))
        .form(&[
            ("number", number.as_str()),
            ("secret", secret.as_str()),
            ("text", "CANARYADDED8e6"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = hostile(client.post(format!("{base}/api/v1/tips?q=CANARYQUERY4d1")))
        .json(&serde_json::json!({"text": "CANARYAPI3c9 satta"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    // Failures must not leak either: a bad form, a wrong secret, an unknown page.
    let _ = hostile(client.post(format!("{base}/hi/report?CANARYQUERY4d1")))
        .form(&[("text", "CANARYTEXT7f3a"), ("district", "CANARYPLACE91c")])
        .send()
        .await
        .unwrap();
    let _ = hostile(client.post(format!("{base}/hi/followup")))
        .form(&[("number", number.as_str()), ("secret", "111111111111111")])
        .send()
        .await
        .unwrap();
    let _ = hostile(client.get(format!("{base}/CANARYQUERY4d1?CANARYTEXT7f3a")))
        .send()
        .await
        .unwrap();

    exotel_calls(&client, &base).await;

    child.kill().unwrap();
    child.wait().unwrap();

    let log = std::fs::read(&log_path).unwrap();
    assert!(
        String::from_utf8_lossy(&log).contains("handled"),
        "the log is being written"
    );
    let mut files = Vec::new();
    all_files(&data_dir, &mut files);
    assert!(files.iter().any(|f| f.ends_with("tipline.db")), "{files:?}");
    for path in files.iter().chain(std::iter::once(&log_path)) {
        let bytes = std::fs::read(path).unwrap();
        for canary in canaries
            .iter()
            .copied()
            .chain([secret.as_str(), "127.0.0.1"])
        {
            if path == &log_path || canary != "127.0.0.1" {
                let found = bytes.windows(canary.len()).any(|w| w == canary.as_bytes());
                assert!(!found, "`{canary}` found in {}", path.display());
            }
        }
    }
}
