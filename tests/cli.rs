//! The command line: `check` validates and reports, bad configuration fails with a clear message,
//! `migrate` prepares a database, `audit verify` exits non-zero on a tampered log, `user` manages
//! officer accounts, and `serve --demo` prints its accounts once and stores sample tips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

fn tipline(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tipline"));
    cmd.args(args)
        .env_remove("TIPLINE_MASTER_KEY")
        .env_remove("TIPLINE_DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn check_reports_the_builtin_range_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let key = "ab".repeat(32);
    let out = tipline(
        &["check", "--data-dir", dir.path().to_str().unwrap()],
        &[
            ("TIPLINE_MASTER_KEY", &key),
            (
                "TIPLINE_DATABASE_URL",
                "postgres://tip:hunter2@db.example/tips",
            ),
        ],
    );
    let s = text(&out);
    assert!(out.status.success(), "{s}");
    assert!(
        s.contains("8 districts") && s.contains("configuration is valid"),
        "{s}"
    );
    assert!(s.contains("korba") && s.contains("+919926353146"), "{s}");
    assert!(s.contains("triage: tables built"), "{s}");
    assert!(
        !s.contains(&key) && !s.contains("hunter2"),
        "secrets printed: {s}"
    );
}

#[test]
fn bad_configuration_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("tipline.toml");
    std::fs::write(&cfg, "lisen = \"127.0.0.1:1\"\n").unwrap();
    let out = tipline(&["--config", cfg.to_str().unwrap(), "check"], &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("lisen"), "{}", text(&out));
    let out = tipline(&["check"], &[("TIPLINE_DATABASE_URL", "/var/lib/tips.db")]);
    assert!(!out.status.success());
    assert!(text(&out).contains("sqlite://"), "{}", text(&out));
    let bad = dir.path().join("range.toml");
    std::fs::write(
        &bad,
        "[range]\nid = \"r\"\nname_en = \"R\"\n[districts.A]\nname_en = \"A\"\n",
    )
    .unwrap();
    let out = tipline(
        &["check"],
        &[("TIPLINE_JURISDICTION_FILE", bad.to_str().unwrap())],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("district id `A`"), "{}", text(&out));
    // An administrator's cue file: a valid one is used (and named), a broken one refused.
    let cues = dir.path().join("cues.toml");
    std::fs::write(&cues, include_str!("../data/triage-cues.toml")).unwrap();
    let out = tipline(
        &["check", "--data-dir", dir.path().to_str().unwrap()],
        &[("TIPLINE_CUES_FILE", cues.to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("triage cues: {}", cues.display())),
        "{}",
        text(&out)
    );
    std::fs::write(&cues, "[police_actors\nwords = 3\n").unwrap();
    let out = tipline(
        &["check", "--data-dir", dir.path().to_str().unwrap()],
        &[("TIPLINE_CUES_FILE", cues.to_str().unwrap())],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("cues.toml"), "{}", text(&out));
}

#[tokio::test]
async fn audit_verify_exits_non_zero_on_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let out = tipline(&["migrate", "--data-dir", &data], &[]);
    assert!(out.status.success(), "{}", text(&out));
    // Put two tips in through the running server.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", &data])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let client = reqwest::Client::new();
    for t in ["one", "two"] {
        let r = client
            .post(format!("{base}/api/v1/tips"))
            .json(&serde_json::json!({"text": t}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let out = tipline(&["audit", "verify", "--data-dir", &data], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("intact: 2 entries"), "{}", text(&out));
    {
        use sqlx::Connection;
        let url = format!("sqlite://{data}/tipline.db");
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET subject = 'tip:1' WHERE audit_seq = 1")
            .execute(&mut c)
            .await
            .unwrap();
    }
    let out = tipline(&["audit", "verify", "--data-dir", &data], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("BROKEN at entry 1"), "{}", text(&out));
}

#[test]
fn user_commands_add_list_disable_and_reset() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let add = |args: &[&str]| {
        let mut all = vec!["user", "add", "--data-dir", &data];
        all.extend_from_slice(args);
        tipline(&all, &[])
    };
    let out = add(&[
        "asp.korba",
        "--role",
        "district_supervisor",
        "--district",
        "korba",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let printed = text(&out);
    let password = printed
        .split("(shown once): ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap();
    assert_eq!(password.len(), 20);
    // Bad input is refused with a reason, and nothing is added.
    for (args, why) in [
        (
            vec!["x", "--role", "operator", "--district", "korba"],
            "login name",
        ),
        (
            vec!["op.nowhere", "--role", "operator", "--district", "atlantis"],
            "no district atlantis",
        ),
        (
            vec![
                "sho.x",
                "--role",
                "station_officer",
                "--district",
                "korba",
                "--desk",
                "bsp-sarkanda",
            ],
            "no station bsp-sarkanda in district korba",
        ),
        (vec!["boss", "--role", "emperor"], "unknown role"),
        (
            vec!["asp.korba", "--role", "operator", "--district", "korba"],
            "taken",
        ),
    ] {
        let out = add(&args);
        assert!(!out.status.success(), "{args:?} accepted");
        assert!(
            text(&out).to_lowercase().contains(why),
            "{args:?}: {}",
            text(&out)
        );
    }
    let list = text(&tipline(&["user", "list", "--data-dir", &data], &[]));
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.contains("asp.korba") && list.contains("not enrolled"));
    assert!(!list.contains(password), "a password is never listed");
    let out = tipline(&["user", "disable", "asp.korba", "--data-dir", &data], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&tipline(&["user", "list", "--data-dir", &data], &[])).contains("disabled"));
    let out = tipline(
        &["user", "reset-password", "asp.korba", "--data-dir", &data],
        &[],
    );
    assert!(text(&out).contains("(shown once)"));
    assert!(!text(&out).contains(password));
    let verify = tipline(&["audit", "verify", "--data-dir", &data], &[]);
    assert!(
        text(&verify).contains("intact: 3 entries"),
        "create, disable, reset are audited: {}",
        text(&verify)
    );
}

#[tokio::test]
async fn serve_demo_prints_accounts_once_and_stores_sample_tips() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    // The caller kills and waits for the child it gets back.
    #[allow(clippy::zombie_processes)]
    let start = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tipline"))
            .args([
                "serve",
                "--demo",
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                &data,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = Vec::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        loop {
            let mut line = String::new();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "ended before listening: {lines:?}"
            );
            if line.starts_with("listening on ") {
                return (
                    child,
                    lines,
                    line.trim()["listening on ".len()..].to_owned(),
                );
            }
            lines.push(line);
        }
    };
    let (mut child, lines, base) = start();
    let passwords = lines.iter().filter(|l| l.contains(" password ")).count();
    assert_eq!(passwords, 6, "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("300 sample tips")),
        "{lines:?}"
    );
    let login = reqwest::get(format!("{base}/console/login")).await.unwrap();
    assert_eq!(login.status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
    // A second start prints no passwords and adds no tips.
    let (mut child, lines, _) = start();
    assert!(lines.iter().all(|l| !l.contains(" password ")), "{lines:?}");
    assert!(
        lines.iter().all(|l| !l.contains("sample tips")),
        "{lines:?}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn generate_fills_an_empty_database_with_tips_that_open() {
    use tipline::domain::{OfficerScope, Role};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let out = tipline(&["generate", "--tips", "200", "--data-dir", &data], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("generated 200 tips"), "{}", text(&out));
    let again = tipline(&["generate", "--tips", "10", "--data-dir", &data], &[]);
    assert!(!again.status.success(), "a second run must be refused");
    assert!(text(&again).contains("--append"), "{}", text(&again));
    let out = tipline(
        &["generate", "--tips", "10", "--append", "--data-dir", &data],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));

    let raw = tipline::config::RawConfig {
        data_dir: Some(dir.path().to_owned()),
        ..Default::default()
    };
    let config = tipline::config::Config::validate(raw, None).unwrap();
    let core = tipline::app::Core::load(&config).await.unwrap();
    assert_eq!(core.store.tip_count().await.unwrap(), 210);
    let ids = core.store.tip_ids_after(0, 1000).await.unwrap();
    let records = core.store.tips(&ids).await.unwrap();
    let closed = records.iter().filter(|r| r.status == "closed").count();
    assert!(closed > 100, "most generated tips are closed: {closed}");
    assert!(records.iter().any(|r| r.district_id.is_some()));
    // Every text opens (sealed with its row's identity) and is found by its words.
    for r in &records {
        let text = tipline::intake::open_tip_text(&core, r.tip_id)
            .await
            .unwrap();
        let word = &tipline::search::words(&text)[0];
        let term = core.keyring.keys().search_term(word);
        let found = core.store.tips_with_term(term, 1000).await.unwrap();
        assert!(found.contains(&r.tip_id), "{word:?} does not find its tip");
    }
    // Dispatched tips carry a brief the console opens.
    let dispatcher = core
        .store
        .officer_named(tipline::generate::DISPATCHER)
        .await
        .unwrap()
        .unwrap();
    assert!(dispatcher.disabled);
    let session = tipline::officers::Session {
        hash: [0; 32],
        officer: dispatcher,
        scope: OfficerScope::new(Role::RangeSupervisor, None, None).unwrap(),
        full: true,
    };
    let mut briefs = 0;
    for id in &ids {
        let case = tipline::cases::load(&core, &session, *id).await.unwrap();
        briefs += tipline::cases::open_briefs(&core, &session, &case)
            .await
            .unwrap()
            .len();
    }
    assert!(briefs > 50, "dispatched tips: {briefs}");
    let verify = tipline(&["audit", "verify", "--data-dir", &data], &[]);
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(
        text(&verify).contains("intact: 4 entries"),
        "the dispatcher's creation and disabling, and one entry per batch: {}",
        text(&verify)
    );
}
