//! The data set: N tips made by `tipline generate`, once per count and backend, cached under
//! `target/console-bench/` (the SQLite database with its master key; for PostgreSQL a database
//! `tipline_bench_gen_N` and its master key), and copied afresh for every run so a run never
//! sees another's accounts, sessions or audit entries.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use sqlx::Connection;

/// A fresh copy of the data set for one run.
pub struct Dataset {
    /// The data directory (master key; the SQLite database too).
    pub dir: tempfile::TempDir,
    /// `--database-url` for PostgreSQL (none: SQLite in `dir`).
    pub database_url: Option<String>,
    /// The PostgreSQL server's URL and the run's database, to drop at the end.
    pg_drop: Option<(String, String)>,
}

/// `target/` (the bench runs as `target/release/deps/console-HASH`).
fn target_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .context("cannot find target/ from the bench's path")
}

fn cache_dir(name: &str) -> anyhow::Result<PathBuf> {
    Ok(target_dir()?.join("console-bench").join(name))
}

/// Runs `tipline generate` (its progress lines go to our output).
fn generate(tips: u64, dir: &Path, database_url: Option<&str>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tipline"));
    cmd.args(["generate", "--tips", &tips.to_string(), "--data-dir"])
        .arg(dir)
        .env_remove("TIPLINE_DATABASE_URL")
        .env_remove("TIPLINE_MASTER_KEY")
        .env_remove("TIPLINE_DATA_DIR");
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    let started = Instant::now();
    let status = cmd.status().context("cannot run tipline generate")?;
    if !status.success() {
        bail!("tipline generate failed ({status})");
    }
    println!("generation took {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The SQLite data set of `tips` tips: generated once, then copied for this run.
pub fn sqlite(tips: u64) -> anyhow::Result<Dataset> {
    let cache = cache_dir(&format!("sqlite-{tips}"))?;
    let done = cache.join("complete");
    if done.exists() {
        println!(
            "reusing the generated SQLite database of {tips} tips in {}",
            cache.display()
        );
    } else {
        if cache.exists() {
            std::fs::remove_dir_all(&cache)?;
        }
        println!(
            "generating {tips} tips into {} (cached for reruns)",
            cache.display()
        );
        generate(tips, &cache, None)?;
        std::fs::write(&done, "")?;
    }
    let dir = tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(cache.parent().context("no cache parent")?)?;
    let started = Instant::now();
    for entry in std::fs::read_dir(&cache)? {
        let entry = entry?;
        if entry.file_name() != "complete" {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name()))?;
        }
    }
    println!(
        "copied the database for this run in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Dataset {
        dir,
        database_url: None,
        pg_drop: None,
    })
}

/// `base` with its database name (the last path segment) replaced.
fn with_database(base: &str, name: &str) -> anyhow::Result<String> {
    let (prefix, rest) = base
        .rsplit_once('/')
        .context("URL without a database name")?;
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    Ok(format!("{prefix}/{name}{query}"))
}

async fn exists(admin: &mut sqlx::PgConnection, name: &str) -> anyhow::Result<bool> {
    let row: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut *admin)
        .await?;
    Ok(row.is_some())
}

async fn execute(admin: &mut sqlx::PgConnection, sql: String) -> anyhow::Result<()> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut *admin)
        .await?;
    Ok(())
}

/// The PostgreSQL data set: `tipline_bench_gen_N` generated once (its master key cached under
/// target/), then copied with `CREATE DATABASE ... TEMPLATE` for this run.
pub async fn postgres(base: &str, tips: u64) -> anyhow::Result<Dataset> {
    let cache = cache_dir(&format!("postgres-{tips}"))?;
    let gen_db = format!("tipline_bench_gen_{tips}");
    let mut admin = sqlx::PgConnection::connect(base).await?;
    if cache.join("complete").exists() && exists(&mut admin, &gen_db).await? {
        println!("reusing the generated PostgreSQL database {gen_db} of {tips} tips");
    } else {
        if cache.exists() {
            std::fs::remove_dir_all(&cache)?;
        }
        execute(&mut admin, format!("DROP DATABASE IF EXISTS {gen_db}")).await?;
        execute(&mut admin, format!("CREATE DATABASE {gen_db}")).await?;
        println!("generating {tips} tips into PostgreSQL database {gen_db} (kept for reruns)");
        let url = with_database(base, &gen_db)?;
        tokio::task::block_in_place(|| generate(tips, &cache, Some(&url)))?;
        // As an operator would after a bulk load: statistics for the planner, and the visibility
        // map that lets index-only scans (the word search's term probes) skip the table.
        let started = Instant::now();
        let mut generated = sqlx::PgConnection::connect(&url).await?;
        execute(&mut generated, "VACUUM (ANALYZE)".into()).await?;
        println!(
            "VACUUM (ANALYZE) took {:.1} s",
            started.elapsed().as_secs_f64()
        );
        std::fs::write(cache.join("complete"), "")?;
    }
    let run_db = format!("tipline_bench_run_{}", std::process::id());
    let started = Instant::now();
    execute(&mut admin, format!("DROP DATABASE IF EXISTS {run_db}")).await?;
    execute(
        &mut admin,
        format!("CREATE DATABASE {run_db} TEMPLATE {gen_db}"),
    )
    .await?;
    println!(
        "copied the database for this run in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let dir = tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(cache.parent().context("no cache parent")?)?;
    std::fs::copy(cache.join("master.key"), dir.path().join("master.key"))?;
    Ok(Dataset {
        dir,
        database_url: Some(with_database(base, &run_db)?),
        pg_drop: Some((base.to_owned(), run_db)),
    })
}

impl Dataset {
    /// The database URL the server and commands use.
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.dir.path().join("tipline.db").display()))
    }

    /// The stations with the most open dispatched tips, with their districts (for the station
    /// officers of the run): read from the database before the server starts.
    pub async fn busy_stations(&self, n: i64) -> anyhow::Result<Vec<(String, String)>> {
        const SQL: &str = "SELECT a.desk_id, a.district_id FROM tip_assignment a \
             JOIN tip t ON t.tip_id = a.tip_id WHERE t.status IN ('assigned', 'in_action') \
             GROUP BY a.desk_id, a.district_id ORDER BY COUNT(*) DESC LIMIT $1";
        let url = self.url();
        if url.starts_with("postgres") {
            let mut c = sqlx::PgConnection::connect(&url).await?;
            Ok(sqlx::query_as(SQL).bind(n).fetch_all(&mut c).await?)
        } else {
            let mut c = sqlx::SqliteConnection::connect(&format!("{url}?mode=ro")).await?;
            Ok(sqlx::query_as(SQL).bind(n).fetch_all(&mut c).await?)
        }
    }

    /// Drops the run's PostgreSQL database (the cached one stays for reruns).
    pub async fn drop_database(&self) -> anyhow::Result<()> {
        if let Some((base, name)) = &self.pg_drop {
            let mut admin = sqlx::PgConnection::connect(base).await?;
            execute(
                &mut admin,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await?;
        }
        Ok(())
    }
}
