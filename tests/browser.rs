//! Real-browser end-to-end tests: headless Chromium, driven over WebDriver (fantoccini talking to
//! Debian's `chromedriver`), against the real `tipline` binary serving a fresh data directory.
//!
//! Needs Debian's browser and driver: `apt-get install -y chromium chromium-driver`
//! (`/usr/bin/chromium`, `/usr/bin/chromedriver`), and `fonts-noto-core` so that Devanagari is
//! drawn in the screenshot. `TIPLINE_CHROMEDRIVER` and `TIPLINE_CHROMIUM` override the paths.
//!
//! Gating: when `chromedriver` (or `chromium`) is not found, each test prints
//! `skipped: chromedriver not installed` and returns, so `cargo test` still works on a machine
//! without a browser. With `TIPLINE_REQUIRE_BROWSER=1` (CI sets it) a missing browser is a
//! test failure instead.
//!
//! Run: `TIPLINE_REQUIRE_BROWSER=1 cargo test --test browser -- --nocapture`.
//!
//! Each test starts its own chromedriver on a free port (in its own process group, which is
//! killed when the test ends, also on failure), its own `tipline serve` on a temporary data
//! directory, and Chromium with a fresh profile. The receipt page is saved as a screenshot to
//! `target/browser-receipt.png`; on a failure the page is saved to
//! `target/browser-failure-<test>.png` and its URL and HTML are printed.
//!
//! The officer console after dispatch (the station's report, the supervisor's close) is in
//! `browser/console.rs`, the role matrix as each role sees it in `browser/roles.rs`.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// How long to wait for an element of the next page.
const PAGE_WAIT: Duration = Duration::from_secs(15);

/// The Chromium flags that work on this machine (no sandbox as root, no GPU, no network
/// chatter towards Google: the machine's network is closed).
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=900,1300",
];

/// Config variables of `tipline` that must not leak from the caller's environment into the
/// server under test (it always runs on SQLite in its own temporary data directory).
const TIPLINE_ENV: &[&str] = &[
    "TIPLINE_LISTEN",
    "TIPLINE_DATA_DIR",
    "TIPLINE_DATABASE_URL",
    "TIPLINE_MASTER_KEY",
    "TIPLINE_MASTER_KEY_FILE",
    "TIPLINE_JURISDICTION_FILE",
    "TIPLINE_LEXICON_FILE",
    "TIPLINE_PUBLIC_URL",
];

// ---------------------------------------------------------------------------------------------
// Processes and set-up
// ---------------------------------------------------------------------------------------------

/// A child process that is killed when dropped. With `group`, the child leads its own process
/// group and the whole group is killed: chromedriver and the Chromium processes it started.
struct Proc {
    child: Child,
    group: bool,
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.group {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_program(env_var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Whether fontconfig knows a font for Hindi, without which Chromium draws Devanagari as boxes.
fn has_devanagari_font() -> bool {
    Command::new("fc-list")
        .args([":lang=hi", "family"])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.trim_ascii().is_empty())
}

fn target_dir() -> PathBuf {
    // CARGO_BIN_EXE_tipline is TARGET/debug/tipline (or TARGET/<profile>/tipline).
    let exe = Path::new(env!("CARGO_BIN_EXE_tipline"));
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver on a free port and waits until it accepts connections.
fn start_chromedriver(bin: &Path, log: &Path) -> (Proc, u16) {
    for _attempt in 0..5 {
        let port = free_port();
        let child = Command::new(bin)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut proc = Proc { child, group: true };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if proc.child.try_wait().unwrap().is_some() {
                break; // exited, perhaps the port was taken meanwhile: try another one
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return (proc, port);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("chromedriver did not start (log: {})", log.display());
}

/// Starts `tipline serve` on a free port and returns it with its base URL.
fn start_tipline(data_dir: &Path) -> (Proc, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tipline"));
    for var in TIPLINE_ENV {
        cmd.env_remove(var);
    }
    let child = cmd
        .env("TIPLINE_LOG", "warn")
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cannot start the tipline binary");
    let mut proc = Proc {
        child,
        group: false,
    };
    let stdout = proc.child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(first)) = lines.next() {
            let _ = tx.send(first);
        }
        for _ in lines {} // keep draining until the server exits
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("tipline did not print its `listening on` line");
    let base = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from tipline: {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    (proc, base)
}

/// A running browser session against a running tipline.
struct Env {
    name: &'static str,
    client: Client,
    base: String,
    data_dir: PathBuf,
    // Dropped in this order: the server, then chromedriver's group, then the temporary files.
    _tipline: Proc,
    _chromedriver: Proc,
    _dirs: tempfile::TempDir,
}

impl Env {
    /// Starts everything, or returns `None` (after printing why) when the browser is missing
    /// and not required.
    async fn start(name: &'static str) -> Option<Self> {
        let required = std::env::var("TIPLINE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        let Some(driver) = find_program("TIPLINE_CHROMEDRIVER", &["chromedriver"]) else {
            assert!(
                !required,
                "chromedriver not installed, but TIPLINE_REQUIRE_BROWSER=1 \
                 (apt-get install -y chromium chromium-driver)"
            );
            eprintln!(
                "{name}: skipped: chromedriver not installed \
                 (apt-get install -y chromium chromium-driver; set TIPLINE_REQUIRE_BROWSER=1 to fail instead)"
            );
            return None;
        };
        let Some(chromium) = find_program("TIPLINE_CHROMIUM", &["chromium", "chromium-browser"])
        else {
            assert!(
                !required,
                "chromium not installed, but TIPLINE_REQUIRE_BROWSER=1 \
                 (apt-get install -y chromium chromium-driver)"
            );
            eprintln!("{name}: skipped: chromedriver not installed (chromium is missing)");
            return None;
        };

        if !has_devanagari_font() {
            eprintln!(
                "{name}: warning: no Devanagari font (apt-get install -y fonts-noto-core); \
                 the tests still pass, but Hindi shows as boxes in the screenshots"
            );
        }

        let dirs = tempfile::Builder::new()
            .prefix("tipline-browser-")
            .tempdir()
            .unwrap();
        let data_dir = dirs.path().join("data");
        let profile = dirs.path().join("chromium-profile");
        std::fs::create_dir_all(&data_dir).unwrap();
        std::fs::create_dir_all(&profile).unwrap();

        let (tipline, base) = start_tipline(&data_dir);
        let (chromedriver, port) =
            start_chromedriver(&driver, &dirs.path().join("chromedriver.log"));

        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| {
                let log = std::fs::read_to_string(dirs.path().join("chromedriver.log"))
                    .unwrap_or_default();
                panic!("cannot open a Chromium session: {e}\nchromedriver log:\n{log}")
            });
        Some(Self {
            name,
            client,
            base,
            data_dir,
            _tipline: tipline,
            _chromedriver: chromedriver,
            _dirs: dirs,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Ends the session and fails the test if the scenario failed, after saving what the
    /// browser showed.
    async fn finish(self, result: anyhow::Result<()>) {
        if let Err(e) = &result {
            let shot = target_dir().join(format!("browser-failure-{}.png", self.name));
            if let Ok(png) = self.client.screenshot().await {
                let _ = std::fs::write(&shot, png);
                eprintln!(
                    "{}: screenshot of the failure: {}",
                    self.name,
                    shot.display()
                );
            }
            if let Ok(url) = self.client.current_url().await {
                eprintln!("{}: page at failure: {url}", self.name);
            }
            if let Ok(src) = self.client.source().await {
                eprintln!("{}: page HTML:\n{src}", self.name);
            }
            eprintln!("{}: failed: {e:#}", self.name);
        }
        let _ = self.client.clone().close().await;
        let name = self.name;
        drop(self); // stops tipline and chromedriver's process group
        if let Err(e) = result {
            panic!("{name}: {e:#}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Page helpers
// ---------------------------------------------------------------------------------------------

async fn wait_for(c: &Client, css: &str) -> anyhow::Result<Element> {
    c.wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("element `{css}` did not appear"))
}

async fn text_of(c: &Client, css: &str) -> anyhow::Result<String> {
    let text = wait_for(c, css).await?.text().await?;
    Ok(text.trim().to_owned())
}

/// Waits until the element shows `expected` (the page may still be the one before a submit,
/// whose elements go stale while the next one loads).
async fn wait_text(c: &Client, css: &str, expected: &str) -> anyhow::Result<()> {
    let until = Instant::now() + PAGE_WAIT;
    let mut last = String::new();
    while Instant::now() < until {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(text) = e.text().await
        {
            if text == expected {
                return Ok(());
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("`{css}` shows “{last}”, expected “{expected}”")
}

async fn count(c: &Client, css: &str) -> anyhow::Result<usize> {
    Ok(c.find_all(Locator::Css(css)).await?.len())
}

/// Types `value` into the field as a user would, and checks that the field holds it.
async fn type_into(c: &Client, css: &str, value: &str) -> anyhow::Result<()> {
    let field = wait_for(c, css).await?;
    field.clear().await?;
    field.send_keys(value).await?;
    let now = field.prop("value").await?.unwrap_or_default();
    ensure!(
        now == value,
        "field `{css}` holds “{now}” after typing “{value}”"
    );
    Ok(())
}

async fn click(c: &Client, css: &str) -> anyhow::Result<()> {
    wait_for(c, css).await?.click().await?;
    Ok(())
}

async fn lang_of_page(c: &Client) -> anyhow::Result<String> {
    Ok(wait_for(c, "html")
        .await?
        .attr("lang")
        .await?
        .unwrap_or_default())
}

/// A tip number or secret as shown: groups of 5 ASCII digits separated by single spaces.
fn check_grouped(what: &str, shown: &str, digits: usize) -> anyhow::Result<String> {
    let plain: String = shown.chars().filter(|c| *c != ' ').collect();
    ensure!(
        plain.len() == digits && plain.chars().all(|c| c.is_ascii_digit()),
        "{what} “{shown}” is not {digits} digits"
    );
    ensure!(
        shown.split(' ').all(|g| g.len() == 5),
        "{what} “{shown}” is not in groups of 5"
    );
    Ok(plain)
}

/// The same secret with its last digit changed.
fn wrong_secret(secret_digits: &str) -> String {
    let mut d: Vec<u8> = secret_digits.bytes().collect();
    let last = d.len() - 1;
    d[last] = b'0' + (d[last] - b'0' + 1) % 10;
    String::from_utf8(d).unwrap()
}

/// Neither scripts nor images exist on any of our pages; injected markup would add them.
async fn check_no_injected_markup(c: &Client, title: &str) -> anyhow::Result<()> {
    ensure!(
        count(c, "script").await? == 0,
        "a <script> element is on the page"
    );
    ensure!(
        count(c, "img").await? == 0,
        "an <img> element is on the page"
    );
    let now = c.title().await?;
    ensure!(
        now == title,
        "page title is “{now}”, expected “{title}” (did a script run?)"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Hindi strings (locales/hi/main.ftl)
// ---------------------------------------------------------------------------------------------

const HI_SITE: &str = "अपराध रोको — गुप्त सूचना";
const HI_REPORT_TITLE: &str = "अपराध की गुप्त सूचना दें";
const HI_RECEIPT_TITLE: &str = "आपकी सूचना मिल गई। धन्यवाद!";
const HI_FOLLOWUP_TITLE: &str = "अपनी सूचना की स्थिति देखें";
const HI_ERR_TEXT_EMPTY: &str = "क्या हुआ, यह लिखना ज़रूरी है।";
const HI_ERR_NOMATCH: &str = "सूचना नंबर या गुप्त कोड सही नहीं है।";
const HI_STATUS_NEW: &str = "मिल गई है, पुलिस अधिकारी जल्द देखेंगे।";
const HI_ADD_DONE: &str = "आपकी जानकारी जोड़ दी गई।";
const HI_AUTHOR_TIPSTER: &str = "आप";

const HI_TIP: &str = "गांजा बिक रहा है, स्कूल के पीछे, रोज़ शाम को";
const HI_PLACE: &str = "पुराना बस स्टैंड, कोरबा";
const HI_WHEN: &str = "हर शाम सात बजे के बाद";
const HI_MORE: &str = "आज भी दो लड़के सफ़ेद स्कूटी पर आए थे, पुलिया के पास खड़े रहते हैं";

// English strings (locales/en/main.ftl), for the hostile-input test.
const EN_SITE: &str = "Crime Stopper — secret tip line";
const EN_REPORT_TITLE: &str = "Report a crime, secretly";
const EN_RECEIPT_TITLE: &str = "Your tip has been received. Thank you!";
const EN_FOLLOWUP_TITLE: &str = "Check the status of your tip";
const EN_ERR_DISTRICT: &str = "That district is not in the list. Please choose from the list.";
const EN_ADD_DONE: &str = "Your information has been added.";

const HOSTILE: &str =
    r#"<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">"#;

fn page_title(title: &str, site: &str) -> String {
    format!("{title} · {site}")
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

/// A Hindi tip through the real form, then the follow-up: a wrong secret, the status, added
/// information, and an empty-looking answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hindi_tip_and_followup_in_chromium() {
    let Some(env) = Env::start("hindi_tip_and_followup_in_chromium").await else {
        return;
    };
    let result = hindi_scenario(&env).await;
    env.finish(result).await;
}

async fn hindi_scenario(env: &Env) -> anyhow::Result<()> {
    let c = &env.client;

    // The report form is Hindi.
    c.goto(&env.url("/hi/")).await?;
    ensure!(lang_of_page(c).await? == "hi", "html[lang] is not hi");
    let h1 = text_of(c, "h1").await?;
    ensure!(h1 == HI_REPORT_TITLE, "h1 is “{h1}”");
    ensure!(
        c.title().await? == page_title(HI_REPORT_TITLE, HI_SITE),
        "title is “{}”",
        c.title().await?
    );

    // Only spaces: the browser's `required` check lets it through (the value is not empty);
    // the server refuses it in Hindi and stores nothing.
    type_into(c, "textarea#text", "     ").await?;
    click(c, "form button[type=submit]").await?;
    let errors = text_of(c, "#errors").await?;
    ensure!(
        errors.contains(HI_ERR_TEXT_EMPTY),
        "no Hindi 'empty' error, got “{errors}”"
    );
    ensure!(
        count(c, "#tip-number").await? == 0,
        "a receipt for an empty tip"
    );
    ensure!(lang_of_page(c).await? == "hi", "error page is not Hindi");
    println!(
        "hindi: spaces-only tip refused: {}",
        errors.replace('\n', " / ")
    );

    // The real tip, typed in Devanagari.
    type_into(c, "textarea#text", HI_TIP).await?;
    wait_for(c, "select#district")
        .await?
        .select_by_value("korba")
        .await?;
    type_into(c, "input#place", HI_PLACE).await?;
    type_into(c, "input#when", HI_WHEN).await?;
    let now = wait_for(c, "input[name=now]").await?;
    if !now.is_selected().await? {
        now.click().await?;
    }
    ensure!(now.is_selected().await?, "'now' is not ticked");
    wait_for(c, "select#category")
        .await?
        .select_by_index(1)
        .await?;
    click(c, "form button[type=submit]").await?;

    // The receipt.
    let number_shown = text_of(c, "dd#tip-number").await?;
    let secret_shown = text_of(c, "dd#tip-secret").await?;
    let number = check_grouped("tip number", &number_shown, 10)?;
    let secret = check_grouped("secret", &secret_shown, 15)?;
    ensure!(
        text_of(c, "h1").await? == HI_RECEIPT_TITLE,
        "receipt h1 is not Hindi"
    );
    ensure!(lang_of_page(c).await? == "hi", "receipt is not Hindi");
    let body = text_of(c, "main").await?;
    ensure!(
        body.contains("कोरबा"),
        "receipt does not name the district कोरबा"
    );
    ensure!(!body.contains(HI_TIP), "the receipt repeats the tip text");
    let shot = target_dir().join("browser-receipt.png");
    std::fs::write(&shot, c.screenshot().await?)?;
    println!(
        "hindi: receipt number {number_shown}, screenshot {}",
        shot.display()
    );

    // Follow-up with a wrong secret: a Hindi error, nothing about the tip.
    c.goto(&env.url("/hi/followup")).await?;
    ensure!(
        text_of(c, "h1").await? == HI_FOLLOWUP_TITLE,
        "follow-up h1 is not Hindi"
    );
    type_into(c, "input#number", &number_shown).await?;
    let wrong = wrong_secret(&secret);
    type_into(c, "input#secret", &wrong).await?;
    click(c, "form button[type=submit]").await?;
    let errors = text_of(c, "#errors").await?;
    ensure!(
        errors.contains(HI_ERR_NOMATCH),
        "no Hindi 'no match' error, got “{errors}”"
    );
    ensure!(
        count(c, "#status").await? == 0,
        "status shown to a wrong secret"
    );
    ensure!(
        count(c, "ol.thread").await? == 0,
        "thread shown to a wrong secret"
    );
    let src = c.source().await?;
    ensure!(
        !src.contains(HI_STATUS_NEW) && !src.contains(&wrong) && !src.contains(&secret),
        "the wrong-secret page reveals the status or echoes a secret"
    );
    let secret_field = wait_for(c, "input#secret").await?;
    ensure!(
        secret_field
            .prop("value")
            .await?
            .unwrap_or_default()
            .is_empty(),
        "the secret field is filled in again"
    );
    println!(
        "hindi: wrong secret refused: {}",
        errors.replace('\n', " / ")
    );

    // The right secret, as shown on the receipt (with its spaces).
    type_into(c, "input#number", &number_shown).await?;
    type_into(c, "input#secret", &secret_shown).await?;
    click(c, "form button[type=submit]").await?;
    let status = text_of(c, "p#status").await?;
    ensure!(
        status == HI_STATUS_NEW,
        "status is “{status}”, expected “{HI_STATUS_NEW}”"
    );
    let h1 = text_of(c, "h1").await?;
    ensure!(
        h1.replace(' ', "").contains(&number),
        "follow-up h1 “{h1}” lacks the tip number"
    );
    ensure!(count(c, "ol.thread li").await? == 0, "thread not empty");
    println!("hindi: status {status}");

    // Add information in Hindi.
    type_into(c, "textarea#text", HI_MORE).await?;
    click(c, "form[action$='/followup/add'] button[type=submit]").await?;
    let notice = text_of(c, "p.notice").await?;
    ensure!(notice == HI_ADD_DONE, "notice is “{notice}”");
    let items = c.find_all(Locator::Css("ol.thread li")).await?;
    ensure!(items.len() == 1, "thread has {} messages", items.len());
    let msg = items[0].find(Locator::Css("p")).await?.text().await?;
    ensure!(msg.trim() == HI_MORE, "thread message is “{msg}”");
    let author = items[0].find(Locator::Css("b")).await?.text().await?;
    ensure!(author.trim() == HI_AUTHOR_TIPSTER, "author is “{author}”");
    ensure!(
        text_of(c, "p#status").await? == HI_STATUS_NEW,
        "status changed"
    );
    println!("hindi: information added: {notice}");

    // An answer of only spaces: refused in Hindi, nothing added.
    type_into(c, "textarea#text", "   ").await?;
    click(c, "form[action$='/followup/add'] button[type=submit]").await?;
    let errors = text_of(c, "#errors").await?;
    ensure!(
        errors.contains(HI_ERR_TEXT_EMPTY),
        "no Hindi 'empty' error on the follow-up, got “{errors}”"
    );
    ensure!(
        count(c, "p.notice").await? == 0,
        "notice for an empty answer"
    );
    ensure!(
        count(c, "ol.thread li").await? == 1,
        "an empty answer was added"
    );
    println!(
        "hindi: spaces-only answer refused: {}",
        errors.replace('\n', " / ")
    );
    Ok(())
}

/// Markup typed into the tip and the follow-up is shown as text and never runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_is_shown_escaped_in_chromium() {
    let Some(env) = Env::start("hostile_text_is_shown_escaped_in_chromium").await else {
        return;
    };
    let result = hostile_scenario(&env).await;
    env.finish(result).await;
}

async fn hostile_scenario(env: &Env) -> anyhow::Result<()> {
    let c = &env.client;
    c.goto(&env.url("/en/")).await?;
    ensure!(lang_of_page(c).await? == "en", "html[lang] is not en");
    let report_title = page_title(EN_REPORT_TITLE, EN_SITE);
    check_no_injected_markup(c, &report_title).await?;

    // 1. The form comes back with an error and the hostile text inside the textarea: a
    //    `</textarea>` in it must not close the element. The error is forced with a district
    //    that is not in the list, added through WebDriver (WebDriver's scripts are not subject
    //    to the page's CSP; the page itself runs none).
    let in_form = format!("</textarea>{HOSTILE}");
    type_into(c, "textarea#text", &in_form).await?;
    let added = c
        .execute(
            "const o = document.createElement('option'); o.value = 'atlantis'; \
             o.textContent = 'Atlantis'; document.getElementById('district').appendChild(o); \
             return o.value;",
            vec![],
        )
        .await?;
    ensure!(added == json!("atlantis"), "execute returned “{added}”");
    wait_for(c, "select#district")
        .await?
        .select_by_value("atlantis")
        .await?;
    click(c, "form button[type=submit]").await?;
    let errors = text_of(c, "#errors").await?;
    ensure!(
        errors.contains(EN_ERR_DISTRICT),
        "no district error, got “{errors}”"
    );
    check_no_injected_markup(c, &report_title).await?;
    let kept = wait_for(c, "textarea#text")
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    ensure!(
        kept == in_form,
        "the textarea holds “{kept}”, not the literal text"
    );
    println!("hostile: form re-shown with the literal text and a district error");

    // 2. The same text as a real tip (district left unknown).
    wait_for(c, "select#district")
        .await?
        .select_by_value("")
        .await?;
    click(c, "form button[type=submit]").await?;
    let number_shown = text_of(c, "dd#tip-number").await?;
    let secret_shown = text_of(c, "dd#tip-secret").await?;
    check_grouped("tip number", &number_shown, 10)?;
    check_grouped("secret", &secret_shown, 15)?;
    check_no_injected_markup(c, &page_title(EN_RECEIPT_TITLE, EN_SITE)).await?;

    // 3. Follow up and add the hostile text as information.
    c.goto(&env.url("/en/followup")).await?;
    type_into(c, "input#number", &number_shown).await?;
    type_into(c, "input#secret", &secret_shown).await?;
    click(c, "form button[type=submit]").await?;
    wait_for(c, "p#status").await?;
    let followup_title = page_title(EN_FOLLOWUP_TITLE, EN_SITE);
    check_no_injected_markup(c, &followup_title).await?;
    type_into(c, "textarea#text", HOSTILE).await?;
    click(c, "form[action$='/followup/add'] button[type=submit]").await?;
    let notice = text_of(c, "p.notice").await?;
    ensure!(notice == EN_ADD_DONE, "notice is “{notice}”");
    let items = c.find_all(Locator::Css("ol.thread li")).await?;
    ensure!(items.len() == 1, "thread has {} messages", items.len());
    let msg = items[0].find(Locator::Css("p")).await?.text().await?;
    ensure!(
        msg.trim() == HOSTILE,
        "the thread shows “{msg}”, not the literal text"
    );
    // Give an injected image's error handler time to run, had there been one.
    tokio::time::sleep(Duration::from_millis(300)).await;
    check_no_injected_markup(c, &followup_title).await?;
    let src = c.source().await?;
    if src.contains("<script>") || src.contains("<img") {
        bail!("the page HTML contains raw markup from the tipster");
    }
    println!("hostile: thread shows the literal text, title unchanged: {followup_title}");
    Ok(())
}

/// The officer console in Chromium: an account made with `tipline user add`, login with the
/// password and a TOTP code from the enrolment key on the page, a tip whose text is hostile
/// markup shown as text, then acknowledging it and dispatching it with a brief.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_login_and_dispatch_in_chromium() {
    let Some(env) = Env::start("console_login_and_dispatch_in_chromium").await else {
        return;
    };
    let result = console_scenario(&env).await;
    env.finish(result).await;
}

/// Adds an officer with the CLI and returns the printed first password.
fn add_officer_with_cli(data_dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tipline"));
    for var in TIPLINE_ENV {
        cmd.env_remove(var);
    }
    let out = cmd
        .args(["user", "add"])
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()?;
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    ensure!(
        out.status.success(),
        "user add failed: {printed} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    printed
        .split("(shown once): ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .map(str::to_owned)
        .context("no password printed")
}

async fn console_scenario(env: &Env) -> anyhow::Result<()> {
    let c = &env.client;
    let password = add_officer_with_cli(
        &env.data_dir,
        &[
            "asp.bilaspur",
            "--role",
            "district_supervisor",
            "--district",
            "bilaspur",
        ],
    )?;
    let text = format!("Sarkanda me roz shaam ganja bikta hai {HOSTILE}");
    let resp: serde_json::Value = reqwest::Client::new()
        .post(env.url("/api/v1/tips"))
        .json(&json!({ "text": text, "district": "bilaspur" }))
        .send()
        .await?
        .json()
        .await?;
    let number = resp["tip_number"]
        .as_str()
        .context("no tip number")?
        .to_owned();

    // Login: password, then the enrolment page with its QR code and key, then the code.
    c.goto(&env.url("/console/")).await?;
    type_into(c, "input#username", "asp.bilaspur").await?;
    type_into(c, "input#password", &password).await?;
    click(c, "form button[type=submit]").await?;
    // Wait for the next page: counting at once could read the login page still showing.
    wait_for(c, ".qr svg")
        .await
        .context("no QR code on the enrolment page")?;
    ensure!(
        count(c, ".qr svg").await? == 1,
        "more than one QR code on the enrolment page"
    );
    let key = text_of(c, "#totp-secret").await?;
    let secret = tipline::totp::TotpSecret::from_base32(&key).context("the key is not base32")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    type_into(c, "input#code", &format!("{:06}", secret.code_at(now))).await?;
    click(c, "form button[type=submit]").await?;
    wait_for(c, "table#queue").await?;
    println!("console: logged in with password and TOTP");

    // A tip that arrives while the queue is open shows up without a reload.
    tokio::time::sleep(Duration::from_millis(500)).await; // let the event stream connect
    let live: serde_json::Value = reqwest::Client::new()
        .post(env.url("/api/v1/tips"))
        .json(&json!({ "text": "Mungeli road par abhi jua chal raha hai", "district": "bilaspur" }))
        .send()
        .await?
        .json()
        .await?;
    let live_number = live["tip_number"].as_str().context("no tip number")?;
    wait_for(c, &format!("#queue a[href='/console/tips/{live_number}']")).await?;
    let title_now = c.title().await?;
    ensure!(
        title_now.starts_with("(1) "),
        "the title does not count the new tip: “{title_now}”"
    );
    println!("console: a new tip appeared in the open queue: {title_now}");

    // The tip: its hostile text is shown as text, nothing runs.
    click(c, &format!("a[href='/console/tips/{number}']")).await?;
    let shown = text_of(c, "#tip-text").await?;
    ensure!(shown.contains(HOSTILE), "the tip page shows “{shown}”");
    let title = c.title().await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    check_no_injected_markup(c, &title).await?;
    println!("console: hostile text shown literally, title unchanged: {title}");

    // Acknowledge, then dispatch to Sarkanda with a brief.
    click(
        c,
        "form.step:has(input[name=step][value=acknowledge]) button[type=submit]",
    )
    .await?;
    wait_text(c, "#status", HI_CON_ACKNOWLEDGED).await?;
    click(c, "input[name=desk][value=bsp-sarkanda]").await?;
    type_into(c, "textarea#brief", CON_BRIEF).await?;
    click(
        c,
        "form.step:has(input[name=step][value=assign]) button[type=submit]",
    )
    .await?;
    wait_text(c, "#status", HI_CON_ASSIGNED).await?;
    let brief = text_of(c, ".brief").await?;
    ensure!(brief.contains(CON_BRIEF), "the brief shown is “{brief}”");
    check_no_injected_markup(c, &c.title().await?).await?;
    println!("console: acknowledged and dispatched to Sarkanda with a brief");
    Ok(())
}

const HI_CON_ACKNOWLEDGED: &str = "देखी गई";
const HI_CON_ASSIGNED: &str = "सौंपी गई";
const CON_BRIEF: &str = "Ganja is sold in Sarkanda in the evenings. Verify quietly and raid.";

#[path = "browser/console.rs"]
mod console;
#[path = "browser/roles.rs"]
mod roles;
