//! The officer console in Chromium after dispatch: the station's action-taken report and the
//! supervisor's close; and the officer helpers the role matrix (`roles.rs`) shares. Officers are
//! made with `tipline user add` and log in with their password and a TOTP code computed from the
//! key shown at enrolment.

use tipline::totp::{STEP_SECS, TotpSecret};

use super::*;

/// The logout button of the console's navigation (only on pages of a logged-in officer).
pub(super) const LOGOUT: &str = "header nav form[action='/console/logout'] button";

/// An officer made with `tipline user add`, as the browser logs in: the printed first password,
/// the TOTP key once read off the enrolment page, and the last TOTP step used (the server refuses
/// a step at or before it).
pub(super) struct Account {
    username: &'static str,
    password: String,
    key: Option<TotpSecret>,
    last_step: Option<u64>,
}

impl Account {
    /// Adds the officer with the CLI; `args` are the role options of `tipline user add`.
    pub(super) fn add(env: &Env, username: &'static str, args: &[&str]) -> anyhow::Result<Self> {
        let mut all = vec![username];
        all.extend_from_slice(args);
        Ok(Self {
            username,
            password: add_officer_with_cli(&env.data_dir, &all)?,
            key: None,
            last_step: None,
        })
    }

    /// The code of the first step the server will take: the current one, or the next one when
    /// the current one was used already (the server accepts one step either side of now).
    fn next_code(&mut self) -> anyhow::Result<String> {
        let key = self.key.as_ref().context("not enrolled yet")?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
            / STEP_SECS;
        let step = self.last_step.map_or(now, |last| now.max(last + 1));
        ensure!(step <= now + 1, "{}: no fresh TOTP step yet", self.username);
        self.last_step = Some(step);
        Ok(format!("{:06}", key.code_at(step * STEP_SECS)))
    }
}

/// Logs in through the login and code pages. The first time, the key is read off the enrolment
/// page; later logins must not show it again.
pub(super) async fn log_in(env: &Env, who: &mut Account) -> anyhow::Result<()> {
    let c = &env.client;
    c.goto(&env.url("/console/login")).await?;
    type_into(c, "input#username", who.username).await?;
    type_into(c, "input#password", &who.password).await?;
    click(c, "form button[type=submit]").await?;
    wait_for(c, "input#code").await?;
    let enrolment = count(c, "#totp-secret").await? == 1;
    if who.key.is_none() {
        ensure!(
            enrolment,
            "{}: no enrolment key at first login",
            who.username
        );
        let key = text_of(c, "#totp-secret").await?;
        who.key = Some(TotpSecret::from_base32(&key).context("the key is not base32")?);
    } else {
        ensure!(
            !enrolment,
            "{}: the enrolment key is shown again",
            who.username
        );
    }
    let code = who.next_code()?;
    type_into(c, "input#code", &code).await?;
    click(c, "form button[type=submit]").await?;
    wait_for(c, LOGOUT)
        .await
        .with_context(|| format!("{}: not logged in after the code", who.username))?;
    Ok(())
}

/// Logs out with the navigation's button, and checks the console asks for a login again.
pub(super) async fn log_out(env: &Env) -> anyhow::Result<()> {
    let c = &env.client;
    c.goto(&env.url("/console/")).await?;
    click(c, LOGOUT).await?;
    wait_for(c, "input#username").await?;
    c.goto(&env.url("/console/")).await?;
    wait_for(c, "input#username")
        .await
        .context("the console is still open after logging out")?;
    Ok(())
}

/// The submit button of the tip page's form for `step`.
fn step_button(step: &str) -> String {
    format!("form.step:has(input[name=step][value={step}]) button[type=submit]")
}

/// The texts of every element matching `css`, each on one line (runs of white space, also the
/// line breaks of block elements, as one space).
async fn texts(c: &Client, css: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for e in c.find_all(Locator::Css(css)).await? {
        out.push(one_line(&e.text().await?));
    }
    Ok(out)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The steps the tip page offers (the hidden `step` field of each form).
async fn offered_steps(c: &Client) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for e in c
        .find_all(Locator::Css("form.step input[name=step]"))
        .await?
    {
        out.push(e.attr("value").await?.unwrap_or_default());
    }
    Ok(out)
}

/// Posts a tip through the API; returns its number.
pub(super) async fn api_tip(env: &Env, text: &str, district: &str) -> anyhow::Result<String> {
    let resp: serde_json::Value = reqwest::Client::new()
        .post(env.url("/api/v1/tips"))
        .json(&json!({ "text": text, "district": district }))
        .send()
        .await?
        .json()
        .await?;
    Ok(resp["tip_number"]
        .as_str()
        .context("no tip number")?
        .to_owned())
}

/// Acknowledges a new tip and dispatches it with a brief to `desks`, as a supervisor.
pub(super) async fn dispatch(
    env: &Env,
    number: &str,
    desks: &[&str],
    brief: &str,
) -> anyhow::Result<()> {
    let c = &env.client;
    c.goto(&env.url(&format!("/console/tips/{number}"))).await?;
    click(c, &step_button("acknowledge")).await?;
    wait_text(c, "#status", HI_CON_ACKNOWLEDGED).await?;
    for desk in desks {
        click(c, &format!("input[name=desk][value={desk}]")).await?;
    }
    type_into(c, "textarea#brief", brief).await?;
    click(c, &step_button("assign")).await?;
    wait_text(c, "#status", HI_CON_ASSIGNED).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Action taken and close
// ---------------------------------------------------------------------------------------------

/// After dispatch: the station officer sees the brief and never the tip's text or channel,
/// starts action, is refused a malformed report, files the report; the district supervisor
/// reads it and closes the tip, and the history names who took each step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_action_taken_and_close_in_chromium() {
    let Some(env) = Env::start("console_action_taken_and_close_in_chromium").await else {
        return;
    };
    let result = action_taken_scenario(&env).await;
    env.finish(result).await;
}

async fn action_taken_scenario(env: &Env) -> anyhow::Result<()> {
    let c = &env.client;
    let mut asp = Account::add(
        env,
        "asp.bilaspur",
        &[
            "--role",
            "district_supervisor",
            "--district",
            "bilaspur",
            "--name",
            ASP_NAME,
        ],
    )?;
    let mut sho = Account::add(
        env,
        "sho.sarkanda",
        &[
            "--role",
            "station_officer",
            "--district",
            "bilaspur",
            "--desk",
            "bsp-sarkanda",
            "--name",
            SHO_NAME,
        ],
    )?;
    let number = api_tip(env, RAW_TIP, "bilaspur").await?;
    let tip_url = env.url(&format!("/console/tips/{number}"));

    // The supervisor reads the tip (text and channel shown) and dispatches it to Sarkanda.
    log_in(env, &mut asp).await?;
    c.goto(&tip_url).await?;
    ensure!(
        text_of(c, "#tip-text").await? == RAW_TIP,
        "the supervisor does not see the tip's text"
    );
    ensure!(
        c.source().await?.contains(HI_CHANNEL_API),
        "the supervisor does not see the channel"
    );
    dispatch(env, &number, &["bsp-sarkanda"], SHO_BRIEF).await?;
    log_out(env).await?;
    println!("action: dispatched {number} to Sarkanda");

    // The station officer: the tip in their queue, the brief, never the text or the channel.
    log_in(env, &mut sho).await?;
    let row = format!("#queue a[href='/console/tips/{number}']");
    wait_for(c, &row).await?;
    check_desk_sees_no_content(c, "queue").await?;
    click(c, &row).await?;
    wait_text(c, "#status", HI_CON_ASSIGNED).await?;
    let brief = text_of(c, ".brief").await?;
    ensure!(brief.contains(SHO_BRIEF), "the brief shown is “{brief}”");
    ensure!(
        count(c, "#tip-text").await? == 0,
        "the station sees #tip-text"
    );
    check_desk_sees_no_content(c, "tip page").await?;
    let steps = offered_steps(c).await?;
    ensure!(
        steps == ["start_action", "report_action"],
        "the station is offered {steps:?}"
    );
    click(c, &step_button("start_action")).await?;
    wait_text(c, "#status", HI_CON_IN_ACTION).await?;
    println!("action: the station sees the brief only, and started action");

    // A malformed FIR number and a negative quantity: refused with both reasons, nothing stored.
    fill_report(c, "-2.5", "FIR 12-2026").await?;
    click(c, &step_button("report_action")).await?;
    let errors = text_of(c, "p.errors").await?;
    for reason in [ERR_FIR, ERR_QUANTITY] {
        ensure!(errors.contains(reason), "no “{reason}” in “{errors}”");
    }
    wait_text(c, "#status", HI_CON_IN_ACTION).await?;
    ensure!(
        !texts(c, "h2").await?.iter().any(|h| h == HI_CON_REPORTS),
        "a report is shown after a refused one"
    );
    println!("action: malformed report refused: {errors}");

    // The report as it should be.
    fill_report(c, "2.5", "FIR No. 0123/2026").await?;
    click(c, &step_button("report_action")).await?;
    wait_text(c, "#status", HI_CON_ACTION_TAKEN).await?;
    let report = one_line(&text_of(c, "h2 + ul li").await?);
    for part in REPORT_SHOWN {
        ensure!(
            report.contains(part),
            "the report “{report}” lacks “{part}”"
        );
    }
    ensure!(
        offered_steps(c).await?.is_empty(),
        "the station is offered a step after its report"
    );
    check_desk_sees_no_content(c, "tip page after the report").await?;
    log_out(env).await?;
    println!("action: report filed: {report}");

    // The supervisor reads the report and closes the tip; the history says who did what.
    log_in(env, &mut asp).await?;
    c.goto(&tip_url).await?;
    wait_text(c, "#status", HI_CON_ACTION_TAKEN).await?;
    let report_seen = one_line(&text_of(c, "h2 + ul li").await?);
    ensure!(
        report_seen == report,
        "the supervisor sees “{report_seen}”, the station saw “{report}”"
    );
    click(c, &step_button("close")).await?;
    wait_text(c, "#status", HI_CON_CLOSED).await?;
    ensure!(
        offered_steps(c).await? == ["reopen"],
        "a closed tip offers {:?}",
        offered_steps(c).await?
    );
    check_history(c).await?;
    println!("action: closed; history lists every step with its officer");
    Ok(())
}

/// Neither the tip's text (nor a distinctive word of it) nor its channel is on the page.
async fn check_desk_sees_no_content(c: &Client, page: &str) -> anyhow::Result<()> {
    let src = c.source().await?;
    for secret in [RAW_TIP, RAW_TIP_WORD, HI_CHANNEL_API, HI_CON_CHANNEL] {
        ensure!(
            !src.contains(secret),
            "the station's {page} shows “{secret}”"
        );
    }
    Ok(())
}

/// Fills the action-taken form: raid done, found, ganja seized, two arrests, remarks.
async fn fill_report(c: &Client, quantity: &str, fir: &str) -> anyhow::Result<()> {
    let form = "form.step:has(input[name=step][value=report_action])";
    for tick in ["raid_done", "found"] {
        let box_ = wait_for(c, &format!("{form} input[name={tick}][value=yes]")).await?;
        if !box_.is_selected().await? {
            box_.click().await?;
        }
    }
    type_into(c, &format!("{form} input[name=seizure_item]"), "गांजा").await?;
    type_into(c, &format!("{form} input[name=seizure_quantity]"), quantity).await?;
    wait_for(c, &format!("{form} select[name=seizure_unit]"))
        .await?
        .select_by_value("kg")
        .await?;
    type_into(c, "input#arrests", "2").await?;
    type_into(c, "input#fir_number", fir).await?;
    type_into(c, "textarea#remarks", REMARKS).await?;
    Ok(())
}

/// The workflow steps in the history, oldest first, each with the officer who took it.
async fn check_history(c: &Client) -> anyhow::Result<()> {
    let lines = texts(c, "ol.history li").await?;
    let steps: Vec<&String> = lines
        .iter()
        .filter(|l| {
            WORKFLOW_HISTORY
                .iter()
                .any(|(_, a)| l.ends_with(&format!(": {a}")))
        })
        .collect();
    ensure!(
        steps.len() == WORKFLOW_HISTORY.len(),
        "the history has {} workflow lines, expected {}: {lines:#?}",
        steps.len(),
        WORKFLOW_HISTORY.len()
    );
    for (line, (who, action)) in steps.iter().zip(WORKFLOW_HISTORY) {
        ensure!(
            line.ends_with(&format!(" {who}: {action}")),
            "history line “{line}”, expected “{who}: {action}”"
        );
    }
    Ok(())
}

const ASP_NAME: &str = "ASP Bilaspur";
const SHO_NAME: &str = "SHO Sarkanda";
const RAW_TIP: &str = "Sarkanda me Shukla kirana ke peeche roz shaam ganja bikta hai";
/// A word of the tip that is in neither the brief nor any page's own words.
const RAW_TIP_WORD: &str = "Shukla";
const SHO_BRIEF: &str = "Ganja sold behind a grocery in Sarkanda in the evenings. Raid quietly.";
const REMARKS: &str = "Raid at 7 pm, two sellers caught with the stock.";
/// What the report shows: raid, found, the seizure, arrests, the FIR normalised, the remarks.
const REPORT_SHOWN: [&str; 6] = [
    "दबिश दी गई: हाँ",
    "मिला: हाँ",
    "ज़ब्ती: गांजा 2.5 kg",
    "गिरफ़्तारियाँ: 2",
    "FIR 123/2026",
    REMARKS,
];
const ERR_FIR: &str = "एफ़आईआर नंबर: 123/2026 जैसा होना चाहिए";
const ERR_QUANTITY: &str = "मात्रा (1): संख्या होनी चाहिए";
/// The workflow's lines of the history, oldest first.
const WORKFLOW_HISTORY: [(&str, &str); 5] = [
    (ASP_NAME, "tip.acknowledge"),
    (ASP_NAME, "tip.assign"),
    (SHO_NAME, "tip.start_action"),
    (SHO_NAME, "tip.report_action"),
    (ASP_NAME, "tip.close"),
];

const HI_CON_IN_ACTION: &str = "कार्रवाई जारी";
const HI_CON_ACTION_TAKEN: &str = "कार्रवाई हुई";
const HI_CON_CLOSED: &str = "बंद";
const HI_CON_REPORTS: &str = "की गई कार्रवाई";
const HI_CON_CHANNEL: &str = "माध्यम";
const HI_CHANNEL_API: &str = "ऐप / API";
