//! The `tipline` command line: loads configuration and runs one subcommand.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tipline::app::{App, load_data, load_master_key, open_store};
use tipline::audit::{self, Verdict};
use tipline::config::{Config, RawConfig};

/// Rust's allocations go to mimalloc: intake makes many small short-lived allocations on two
/// threads, and the intake benchmark spent about a seventh of the server's CPU in glibc malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Anonymous crime tip line.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// A TOML configuration file (values there are overridden by TIPLINE_* variables and flags).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory (SQLite database and master key); default ./tipline-data.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST/DB; default sqlite://DATA_DIR/tipline.db.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the service.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
        #[arg(long)]
        listen: Option<String>,
        /// Creates one account per role (passwords printed once) and sample tips, to try it out.
        #[arg(long)]
        demo: bool,
    },
    /// Applies database migrations and exits.
    Migrate,
    /// Validates the configuration and data files and prints what was loaded (no secrets).
    Check,
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Triage of tip text from JSON Lines files.
    Triage(tipline::triage::cli::TriageArgs),
    /// Fills the database with synthetic tips for benchmarks (an empty one, unless --append).
    Generate(tipline::generate::GenerateArgs),
    /// Officer accounts.
    User {
        #[command(subcommand)]
        command: tipline::officers::cli::UserCommand,
    },
    /// Sends signed sample messages for each configured provider (SMS, WhatsApp, Messenger, X,
    /// Telegram) to a
    /// running server, to watch tips arrive.
    Simulate {
        /// The running server, e.g. http://127.0.0.1:8080 (signatures cover `public_url`).
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Also answer as Twilio's media API at `channels.twilio.api_url` (which must then be an
        /// http://127.0.0.1:PORT address the server can reach), so the simulated WhatsApp photo
        /// is fetched, cleaned and deleted as a real one.
        #[arg(long)]
        serve_media: bool,
    },
    /// Duty rosters: who receives alerts when.
    Roster {
        #[command(subcommand)]
        command: tipline::officers::cli::RosterCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Checks that no audit entry was edited, removed or reordered.
    Verify,
}

fn load_config(cli: &Cli, listen: Option<String>) -> anyhow::Result<Config> {
    let file = match &cli.config {
        Some(path) => RawConfig::from_file(path)?,
        None => RawConfig::default(),
    };
    let env = RawConfig::from_env(|k| std::env::var(k).ok());
    let flags = RawConfig {
        listen,
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        ..Default::default()
    };
    Ok(Config::validate(
        file.overlay(env).overlay(flags),
        std::env::var("TIPLINE_MASTER_KEY").ok(),
    )?)
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let listen = match &cli.command {
        Command::Serve { listen, .. } => listen.clone(),
        _ => None,
    };
    let config = load_config(&cli, listen)?;
    init_logging(&config.log);
    match cli.command {
        Command::Serve { demo, .. } => serve(&config, demo).await?,
        Command::Migrate => {
            let (master, _) = load_master_key(&config)?;
            let store = open_store(&config, Arc::new(master.derive())).await?;
            println!(
                "migrations applied; {} tips in {}",
                store.tip_count().await?,
                config.database_url.redacted()
            );
        }
        Command::Check => check(&config)?,
        Command::Audit {
            command: AuditCommand::Verify,
        } => return verify_audit(&config).await,
        Command::Triage(args) if args.corrections.is_some() => {
            let core = tipline::app::Core::load(&config).await?;
            let path = args.corrections.unwrap_or_default();
            let n = tipline::triage::cli::export_corrections(&core, &path).await?;
            eprintln!(
                "wrote {n} corrected tips to {} (tip text in clear: keep the file as safe as the database)",
                path.display()
            );
        }
        Command::Triage(args) => {
            let (jurisdiction, lexicon) = load_data(&config)?;
            tipline::triage::cli::run(args, &jurisdiction, &lexicon)?;
        }
        Command::Generate(args) => {
            let core = Arc::new(tipline::app::Core::load(&config).await?);
            tipline::generate::run(core, args).await?;
        }
        Command::User { command } => {
            let core = tipline::app::Core::load(&config).await?;
            tipline::officers::cli::run(&core, command).await?;
        }
        Command::Simulate { url, serve_media } => {
            let (jurisdiction, _) = load_data(&config)?;
            let public = config.public_url.clone().unwrap_or_else(|| url.clone());
            let media = if serve_media {
                Some(tipline::channels::simulate::media_listener(&config.channels).await?)
            } else {
                None
            };
            let sent = tipline::channels::simulate::run(
                &config.channels,
                &jurisdiction,
                &public,
                &url,
                media,
            )
            .await?;
            if sent.is_empty() {
                anyhow::bail!(
                    "no provider is configured: add [channels.twilio], [channels.meta], [channels.messenger], [channels.x] or [[channels.telegram]] to the config file (see README)"
                );
            }
            for s in &sent {
                println!(
                    "{:<28} {}  {}",
                    s.what,
                    s.status,
                    s.answer.as_deref().unwrap_or("(answer through the outbox)")
                );
            }
            if sent.iter().any(|s| s.status != 200) {
                return Ok(std::process::ExitCode::FAILURE);
            }
        }
        Command::Roster { command } => {
            let core = tipline::app::Core::load(&config).await?;
            tipline::officers::cli::run_roster(&core, command).await?;
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn serve(config: &Config, demo: bool) -> anyhow::Result<()> {
    let app = App::build(config).await?;
    if demo {
        for line in tipline::demo::seed(app.core()).await? {
            println!("{line}");
        }
    }
    let addr = app.local_addr()?;
    // Register for the signals before announcing readiness, so that a SIGTERM right after the
    // `listening on` line shuts down gracefully instead of killing the process.
    let shutdown = shutdown_signal()?;
    let mut out = std::io::stdout();
    writeln!(out, "listening on http://{addr}")?;
    out.flush()?;
    tracing::info!("serving");
    app.run_until_stopped(shutdown).await
}

fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::info!("shutting down");
    })
}

fn check(config: &Config) -> anyhow::Result<()> {
    println!("{}", config.describe());
    let (j, lex) = load_data(config).context("data files")?;
    let hotlines: usize = j.districts.iter().map(|d| d.hotlines.len()).sum();
    println!(
        "range: {} ({}): {} districts, {} stations, {} hotline numbers",
        j.range_name_en,
        j.range_id,
        j.districts.len(),
        j.station_count(),
        hotlines
    );
    for d in &j.districts {
        println!(
            "  {:<24} {:>3} stations  {}",
            d.id.as_str(),
            d.stations.len(),
            d.hotlines
                .iter()
                .map(|h| h.e164.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let terms: usize = lex.categories.iter().map(|c| c.terms.len()).sum();
    println!(
        "lexicon: {} categories, {} terms",
        lex.categories.len(),
        terms
    );
    let triage = match &config.cues_file {
        Some(path) => tipline::app::load_triage(config, path)?,
        None => tipline::triage::Triage::new(&j, &lex)
            .context("triage tables (data/triage-cues.toml)")?,
    };
    println!(
        "triage: tables built, {} place names",
        triage.place_name_count()
    );
    println!("configuration is valid");
    Ok(())
}

async fn verify_audit(config: &Config) -> anyhow::Result<std::process::ExitCode> {
    let (master, _) = load_master_key(config)?;
    let keys = Arc::new(master.derive());
    let store = open_store(config, keys.clone()).await?;
    let verdict =
        audit::verify(store.as_ref(), &keys, |n| eprint!("\rchecked {n} entries")).await?;
    eprintln!();
    match verdict {
        Verdict::Intact { entries } => {
            println!("audit log intact: {entries} entries verified");
            Ok(std::process::ExitCode::SUCCESS)
        }
        Verdict::Broken { at_seq, reason } => {
            println!("audit log BROKEN at entry {at_seq}: {reason}");
            Ok(std::process::ExitCode::from(2))
        }
    }
}
