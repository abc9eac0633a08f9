//! A fresh place for one run: a data directory (the SQLite database, or a new PostgreSQL
//! database), a config file whose `[alerts.sms]` points at the fake gateway, and an officer with
//! a phone on ASP duty in every district, made with the `tipline` commands before the server
//! starts.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use sqlx::Connection;

/// The districts of the built-in range (every one gets an ASP on duty).
pub const DISTRICTS: [&str; 8] = [
    "bilaspur",
    "korba",
    "raigarh",
    "janjgir_champa",
    "mungeli",
    "gaurela_pendra_marwahi",
    "sakti",
    "sarangarh_bilaigarh",
];

/// One run's data.
pub struct Place {
    pub dir: tempfile::TempDir,
    /// PostgreSQL: the database URL, and the server URL to drop it through at the end.
    pub postgres: Option<(String, String)>,
}

impl Place {
    /// A new place: SQLite in a temporary directory, or (given a server URL) a new PostgreSQL
    /// database.
    pub async fn new(postgres_server: Option<&str>, gateway: &str) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let postgres = match postgres_server {
            Some(server) => Some((fresh_database(server).await?, server.to_owned())),
            None => None,
        };
        let config = format!(
            "[alerts.sms]\napi_url = \"{gateway}\"\naccount_sid = \"AC123\"\n\
             auth_token = \"token-123\"\nfrom = \"+919000000001\"\n"
        );
        std::fs::write(dir.path().join("tipline.toml"), config)?;
        Ok(Self { dir, postgres })
    }

    /// `tipline` with this place's config, data directory and database.
    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tipline"));
        c.arg("--config")
            .arg(self.dir.path().join("tipline.toml"))
            .arg("--data-dir")
            .arg(self.dir.path());
        if let Some((url, _)) = &self.postgres {
            c.args(["--database-url", url]);
        }
        c.env_remove("TIPLINE_DATABASE_URL")
            .env_remove("TIPLINE_MASTER_KEY")
            .env_remove("TIPLINE_DATA_DIR");
        c
    }

    fn run(&self, args: &[&str]) -> anyhow::Result<()> {
        let out = self.command().args(args).output()?;
        if !out.status.success() {
            bail!(
                "tipline {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// An ASP with a phone, on duty from an hour ago for a day, in every district.
    pub fn officers_on_duty(&self) -> anyhow::Result<()> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
        let ist = |secs: i64| tipline::alerts::roster::format_ist(secs * 1000);
        let (from, to) = (ist(now - 3600), ist(now + 24 * 3600));
        let mut roster = String::new();
        for (i, district) in DISTRICTS.iter().enumerate() {
            let name = format!("asp.{}", district.replace('_', "-"));
            self.run(&[
                "user",
                "add",
                &name,
                "--role",
                "district_supervisor",
                "--district",
                district,
            ])?;
            let phone = format!("+9198000000{i:02}");
            self.run(&["user", "contact", &name, "--phone", &phone])?;
            roster.push_str(&format!(
                "[[shift]]\nofficer = \"{name}\"\nduty = \"asp\"\ndistrict = \"{district}\"\n\
                 from = \"{from}\"\nto = \"{to}\"\n"
            ));
        }
        let file = self.dir.path().join("roster.toml");
        std::fs::write(&file, roster)?;
        self.run(&["roster", "import", path_str(&file)?])
    }

    /// Keeps the data directory (and the database) for a look afterwards; returns where.
    pub fn keep(self) -> std::path::PathBuf {
        self.dir.keep()
    }

    /// Drops the run's PostgreSQL database.
    pub async fn drop_database(&self) -> anyhow::Result<()> {
        if let Some((url, server)) = &self.postgres {
            let name = url
                .rsplit('/')
                .next()
                .and_then(|n| n.split('?').next())
                .context("no database name")?;
            let mut admin = sqlx::PgConnection::connect(server).await?;
            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut admin)
                .await?;
        }
        Ok(())
    }
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str().context("a non-UTF-8 temporary path")
}

/// Creates `tipline_bench_alerts_<pid>_<ms>` on the server; returns its URL.
async fn fresh_database(server: &str) -> anyhow::Result<String> {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let name = format!("tipline_bench_alerts_{}_{ms}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(server).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    let (prefix, rest) = server
        .rsplit_once('/')
        .context("a PostgreSQL URL without a database name")?;
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    Ok(format!("{prefix}/{name}{query}"))
}
