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
    }
    Ok(())
}
