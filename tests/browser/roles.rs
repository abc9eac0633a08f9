//! The role matrix in Chromium: one officer per role (and a supervisor of another district) logs
//! in in turn and sees the navigation, the tips and the pages docs/roles.md allows, and no more.

use super::console::{Account, LOGOUT, api_tip, dispatch, log_in, log_out};
use super::*;

/// The tips of the matrix walk.
#[derive(Clone, Copy, Debug)]
enum Tip {
    /// A Bilaspur tip dispatched to Sarkanda and to the ACCU.
    Dispatched,
    /// A Bilaspur tip dispatched to nobody.
    Bilaspur,
    /// A Korba tip.
    Korba,
}

/// The numbers of the matrix's tips.
struct Tips {
    dispatched: String,
    bilaspur: String,
    korba: String,
}

impl Tips {
    fn page(&self, tip: Tip) -> String {
        let number = match tip {
            Tip::Dispatched => &self.dispatched,
            Tip::Bilaspur => &self.bilaspur,
            Tip::Korba => &self.korba,
        };
        format!("/console/tips/{number}")
    }
}

/// What one officer must see and be refused, from docs/roles.md.
struct Seat {
    login: &'static str,
    /// The role options of `tipline user add`.
    role: &'static [&'static str],
    /// The console links of the navigation on the officer's home page (besides the language).
    nav: &'static [&'static str],
    /// Tips that open (a station or unit sees the brief only).
    opens: &'static [Tip],
    /// Tips that are "not found".
    hidden: &'static [Tip],
    /// Pages refused as not allowed.
    refused: &'static [&'static str],
}

const QUEUE: &str = "/console/";
const ENTRY: &str = "/console/entry";
const AUDIT: &str = "/console/audit";
const OFFICERS: &str = "/console/officers";
const RANGE: &str = "/console/range";
const ROSTER: &str = "/console/roster";
const DIGEST: &str = "/console/digest";

const SEATS: [Seat; 7] = [
    Seat {
        login: "admin",
        role: &["--role", "admin"],
        nav: &[ROSTER, QUEUE],
        opens: &[],
        hidden: &[Tip::Dispatched, Tip::Korba],
        refused: &[AUDIT, ENTRY, RANGE, DIGEST],
    },
    Seat {
        login: "ig.range",
        role: &["--role", "range_supervisor"],
        nav: &[AUDIT, RANGE, ROSTER, DIGEST, QUEUE],
        opens: &[Tip::Dispatched, Tip::Korba],
        hidden: &[],
        refused: &[OFFICERS, ENTRY],
    },
    Seat {
        login: "asp.bilaspur",
        role: &["--role", "district_supervisor", "--district", "bilaspur"],
        nav: &[ENTRY, ROSTER, DIGEST, QUEUE],
        opens: &[Tip::Dispatched, Tip::Bilaspur],
        hidden: &[Tip::Korba],
        refused: &[OFFICERS, AUDIT, RANGE],
    },
    Seat {
        login: "op.bilaspur",
        role: &["--role", "operator", "--district", "bilaspur"],
        nav: &[ENTRY, QUEUE],
        opens: &[Tip::Bilaspur],
        hidden: &[Tip::Korba],
        refused: &[OFFICERS, AUDIT, RANGE, ROSTER, DIGEST],
    },
    Seat {
        login: "sho.sarkanda",
        role: &[
            "--role",
            "station_officer",
            "--district",
            "bilaspur",
            "--desk",
            "bsp-sarkanda",
        ],
        nav: &[QUEUE],
        opens: &[Tip::Dispatched],
        hidden: &[Tip::Bilaspur, Tip::Korba],
        refused: &[OFFICERS, AUDIT, ENTRY, RANGE, ROSTER, DIGEST],
    },
    Seat {
        login: "accu.bilaspur",
        role: &[
            "--role",
            "unit_officer",
            "--district",
            "bilaspur",
            "--desk",
            "bsp-accu",
        ],
        nav: &[QUEUE],
        opens: &[Tip::Dispatched],
        hidden: &[Tip::Bilaspur, Tip::Korba],
        refused: &[OFFICERS, AUDIT, ENTRY, RANGE, ROSTER, DIGEST],
    },
    Seat {
        login: "asp.korba",
        role: &["--role", "district_supervisor", "--district", "korba"],
        nav: &[ENTRY, ROSTER, DIGEST, QUEUE],
        opens: &[Tip::Korba],
        hidden: &[Tip::Dispatched, Tip::Bilaspur],
        refused: &[OFFICERS, AUDIT, RANGE],
    },
];

/// Every role logs in in one browser, in turn: its navigation has exactly the links its role
/// allows (and each opens), tips outside its scope are "not found" by URL, and the pages it may
/// not use are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_role_matrix_in_chromium() {
    let Some(env) = Env::start("console_role_matrix_in_chromium").await else {
        return;
    };
    let result = role_matrix_scenario(&env).await;
    env.finish(result).await;
}

async fn role_matrix_scenario(env: &Env) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut accounts = Vec::new();
    for seat in &SEATS {
        accounts.push(Account::add(env, seat.login, seat.role)?);
    }
    let tips = Tips {
        dispatched: api_tip(
            env,
            "Sarkanda chowk par roz satta khelaya jata hai",
            "bilaspur",
        )
        .await?,
        bilaspur: api_tip(env, "Torwa basti me kachchi sharab banti hai", "bilaspur").await?,
        korba: api_tip(env, "Korba bus stand ke paas ganja bikta hai", "korba").await?,
    };

    // Set-up: the Bilaspur supervisor dispatches one tip to Sarkanda and to the ACCU.
    let asp = SEATS
        .iter()
        .position(|s| s.login == "asp.bilaspur")
        .context("no asp.bilaspur seat")?;
    log_in(env, &mut accounts[asp]).await?;
    dispatch(
        env,
        &tips.dispatched,
        &["bsp-sarkanda", "bsp-accu"],
        MATRIX_BRIEF,
    )
    .await?;
    log_out(env).await?;

    for (seat, account) in SEATS.iter().zip(&mut accounts) {
        log_in(env, account).await?;
        check_seat(env, seat, &tips)
            .await
            .with_context(|| format!("as {}", seat.login))?;
        log_out(env).await?;
        println!("roles: {} sees what the table allows", seat.login);
    }
    println!("roles: {} roles in {:.1?}", SEATS.len(), started.elapsed());
    Ok(())
}

async fn check_seat(env: &Env, seat: &Seat, tips: &Tips) -> anyhow::Result<()> {
    let c = &env.client;
    // The home page and its navigation (the administrator's home is the officer list).
    c.goto(&env.url(QUEUE)).await?;
    wait_for(c, LOGOUT).await?;
    let home = if seat.login == "admin" {
        OFFICERS
    } else {
        QUEUE
    };
    let url = c.current_url().await?;
    ensure!(url.path() == home, "home is {url}, expected {home}");
    let mut links = Vec::new();
    for a in c.find_all(Locator::Css("header nav a:not(.lang)")).await? {
        links.push(a.attr("href").await?.unwrap_or_default());
    }
    let (mut want, mut got) = (seat.nav.to_vec(), links.clone());
    want.sort_unstable();
    got.sort_unstable();
    ensure!(
        got == want,
        "navigation links {links:?}, expected {:?}",
        seat.nav
    );
    let manages = count(c, "form[action='/console/officers']").await? > 0;
    ensure!(
        manages == (seat.login == "admin"),
        "officer form shown: {manages}"
    );
    for link in seat.nav {
        c.goto(&env.url(link)).await?;
        wait_for(c, "main").await?;
        ensure!(
            count(c, "p.errors").await? == 0,
            "its own link {link} is refused"
        );
    }

    // Tips in and out of scope, opened by URL.
    let desk = seat.role.contains(&"--desk");
    for tip in seat.opens {
        c.goto(&env.url(&tips.page(*tip))).await?;
        wait_for(c, "#status")
            .await
            .with_context(|| format!("the {tip:?} tip does not open"))?;
        let text_shown = count(c, "#tip-text").await? == 1;
        ensure!(
            text_shown != desk,
            "{tip:?} tip: text shown is {text_shown}"
        );
        if desk {
            ensure!(
                text_of(c, ".brief").await?.contains(MATRIX_BRIEF),
                "{tip:?} tip: no brief"
            );
        }
    }
    for tip in seat.hidden {
        refused_with(env, &tips.page(*tip), HI_CON_NOT_FOUND)
            .await
            .with_context(|| format!("the {tip:?} tip"))?;
    }
    for page in seat.refused {
        refused_with(env, page, HI_CON_FORBIDDEN).await?;
    }
    Ok(())
}

/// Opens `path` and expects the message page with `message` (and nothing of a tip).
async fn refused_with(env: &Env, path: &str, message: &str) -> anyhow::Result<()> {
    let c = &env.client;
    c.goto(&env.url(path)).await?;
    let shown = text_of(c, "p.errors").await?;
    ensure!(
        shown == message,
        "{path} shows “{shown}”, expected “{message}”"
    );
    ensure!(
        count(c, "#status, #tip-text, .brief, form").await? == 0,
        "{path} shows a tip or a form with the refusal"
    );
    Ok(())
}

const MATRIX_BRIEF: &str = "Satta at the Sarkanda square every day. Find the organiser.";
const HI_CON_NOT_FOUND: &str = "ऐसी कोई सूचना नहीं है।";
const HI_CON_FORBIDDEN: &str = "आपकी भूमिका में यह अनुमति नहीं है।";
