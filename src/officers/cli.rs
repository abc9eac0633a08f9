//! `tipline user add|list|disable|enable|reset-password`: account administration from the shell,
//! for the first administrator and for scripts. New passwords are generated here and printed once;
//! nothing is echoed back from the terminal and nothing is logged.

use clap::{Args, Subcommand};

use super::{OfficerInput, add_officer, reset_password, set_disabled};
use crate::app::Core;
use crate::crypto;
use crate::domain::{NewPassword, OfficerScope, Role, Username};

/// The audit actor for changes made from the command line.
pub const CLI_ACTOR: &str = "admin:cli";

/// `tipline user ...`
#[derive(Subcommand)]
pub enum UserCommand {
    /// Adds an officer and prints a generated first password once.
    Add(AddArgs),
    /// Lists every officer.
    List,
    /// Disables an officer: every session ends at once.
    Disable {
        /// Login name.
        username: String,
    },
    /// Enables a disabled officer again.
    Enable {
        /// Login name.
        username: String,
    },
    /// Sets a new generated password (printed once); sessions end and the second factor must be
    /// enrolled again.
    ResetPassword {
        /// Login name.
        username: String,
    },
    /// Sets an officer's work phone and email for alerts (an empty value removes it).
    Contact {
        /// Login name.
        username: String,
        /// Phone in E.164, e.g. +919812345678.
        #[arg(long)]
        phone: Option<String>,
        /// Email address.
        #[arg(long)]
        email: Option<String>,
    },
}

/// `tipline roster`: duty shifts (see `alerts::roster` for the file format).
#[derive(Subcommand)]
pub enum RosterCommand {
    /// Checks every shift of a roster file, then stores them all.
    Import {
        /// The roster file (TOML, `[[shift]]` tables).
        file: std::path::PathBuf,
    },
    /// Lists who is on duty now and in the next 24 hours.
    List,
}

/// Runs a `tipline roster` command.
pub async fn run_roster(core: &Core, command: RosterCommand) -> anyhow::Result<()> {
    match command {
        RosterCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let n = crate::alerts::roster::import(core, &text, CLI_ACTOR).await?;
            println!("{n} shifts stored from {}", file.display());
        }
        RosterCommand::List => {
            let now = core.clock.now_ms();
            let shifts = core.store.shifts(now, now + 24 * 3_600_000).await?;
            if shifts.is_empty() {
                println!("nobody is on the roster for the next 24 hours");
            }
            for s in shifts {
                println!(
                    "{} - {}  {:<8} {:<16} {:<16} {} (phone {}, email {})",
                    crate::http::ist(s.starts_at),
                    crate::http::ist(s.ends_at),
                    s.duty,
                    s.district_id.as_deref().unwrap_or("-"),
                    s.desk_id.as_deref().unwrap_or("-"),
                    s.display_name,
                    if s.phone.is_some() { "set" } else { "none" },
                    if s.email.is_some() { "set" } else { "none" },
                );
            }
        }
    }
    Ok(())
}

/// `tipline user add`.
#[derive(Args)]
pub struct AddArgs {
    /// Login name (3 to 32 of a-z, 0-9, `.`, `_`, `-`).
    pub username: String,
    /// admin, range_supervisor, district_supervisor, operator, station_officer or unit_officer.
    #[arg(long)]
    pub role: String,
    /// District id (for district, operator, station and unit roles).
    #[arg(long)]
    pub district: Option<String>,
    /// Station id (station officers) or unit id (unit officers).
    #[arg(long)]
    pub desk: Option<String>,
    /// The name shown in the console.
    #[arg(long)]
    pub name: Option<String>,
}

/// A generated password: 20 characters from an alphabet without look-alikes (about 115 bits).
pub fn generate_password() -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(20);
    for _ in 0..20 {
        let i = crypto::random_below(ALPHABET.len() as u64)?;
        out.push(char::from(ALPHABET[i as usize]));
    }
    Ok(out)
}

async fn officer_id(core: &Core, username: &str) -> anyhow::Result<i64> {
    let name = Username::parse(username)?;
    core.store
        .officer_named(name.as_str())
        .await?
        .map(|o| o.officer_id)
        .ok_or_else(|| anyhow::anyhow!("no officer {username}"))
}

/// Runs a `user` subcommand.
pub async fn run(core: &Core, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add(a) => {
            let role =
                Role::parse(&a.role).ok_or_else(|| anyhow::anyhow!("unknown role {}", a.role))?;
            let username = Username::parse(&a.username)?;
            let scope = OfficerScope::new(role, a.district, a.desk)?;
            let password = generate_password()?;
            let input = OfficerInput {
                display_name: a.name.unwrap_or_else(|| username.as_str().to_owned()),
                password: NewPassword::parse(&password, &username)?,
                username,
                scope,
            };
            let name = input.username.as_str().to_owned();
            let id = add_officer(core, input, CLI_ACTOR).await?;
            println!("added officer {name} (id {id})");
            println!("first password (shown once): {password}");
            println!("the second factor is set up at the first login");
        }
        UserCommand::List => {
            for o in core.store.officers().await? {
                println!(
                    "{:<20} {:<20} {:<12} {:<28} {}",
                    o.username,
                    o.role,
                    o.district_id.unwrap_or_else(|| "-".into()),
                    o.desk_id.unwrap_or_else(|| "-".into()),
                    if o.disabled {
                        "disabled"
                    } else if o.totp_enrolled {
                        "active"
                    } else {
                        "not enrolled"
                    }
                );
            }
        }
        UserCommand::Disable { username } => {
            set_disabled(core, officer_id(core, &username).await?, true, CLI_ACTOR).await?;
            println!("{username} disabled; their sessions have ended");
        }
        UserCommand::Enable { username } => {
            set_disabled(core, officer_id(core, &username).await?, false, CLI_ACTOR).await?;
            println!("{username} enabled");
        }
        UserCommand::ResetPassword { username } => {
            let id = officer_id(core, &username).await?;
            let password = generate_password()?;
            let parsed = NewPassword::parse(&password, &Username::parse(&username)?)?;
            reset_password(core, id, &parsed, CLI_ACTOR).await?;
            println!("new password for {username} (shown once): {password}");
            println!(
                "their sessions have ended; the second factor is set up again at the next login"
            );
        }
        UserCommand::Contact {
            username,
            phone,
            email,
        } => {
            let id = officer_id(core, &username).await?;
            let row = core
                .store
                .officer(id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no officer {username}"))?;
            let phone = match phone {
                Some(p) if p.is_empty() => None,
                Some(p) => Some(parse_phone(&p)?),
                None => row.phone,
            };
            let email = match email {
                Some(e) if e.is_empty() => None,
                Some(e) => Some(parse_email(&e)?),
                None => row.email,
            };
            let audit = crate::store::AuditDraft {
                actor: CLI_ACTOR.into(),
                action: "officer.contact".into(),
                subject: format!("officer:{id}"),
                detail: serde_json::json!({ "phone": phone.is_some(), "email": email.is_some() })
                    .to_string(),
                created_at: core.clock.now_ms(),
            };
            core.store
                .set_contacts(id, phone.clone(), email.clone(), audit)
                .await?;
            println!(
                "{username}: phone {}, email {}",
                phone.as_deref().unwrap_or("none"),
                email.as_deref().unwrap_or("none")
            );
        }
    }
    Ok(())
}

/// A phone number for SMS alerts: E.164, `+` and 8 to 15 digits.
pub fn parse_phone(text: &str) -> anyhow::Result<String> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let ok = digits.len() >= 9
        && digits.len() <= 16
        && digits.starts_with('+')
        && digits[1..].chars().all(|c| c.is_ascii_digit());
    anyhow::ensure!(ok, "`{text}` is not a phone number like +919812345678");
    Ok(digits)
}

/// An email address for alerts (one `@`, no spaces or angle brackets).
pub fn parse_email(text: &str) -> anyhow::Result<String> {
    let t = text.trim();
    let ok = t.split('@').count() == 2
        && !t.starts_with('@')
        && !t.ends_with('@')
        && !t.contains(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';'));
    anyhow::ensure!(ok, "`{text}` is not an email address");
    Ok(t.to_owned())
}
