//! The cluster's processes: `tipline` commands and `tipline serve` nodes on one PostgreSQL
//! database, each node with its own config file (its own `api_url` prefix at the fake gateway),
//! all with the same master key given by `TIPLINE_MASTER_KEY`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

/// The `TIPLINE_*` variables the server reads: removed so the caller's environment cannot change
/// which database or key the test uses.
const TIPLINE_VARS: &[&str] = &[
    "TIPLINE_LISTEN",
    "TIPLINE_DATA_DIR",
    "TIPLINE_DATABASE_URL",
    "TIPLINE_MASTER_KEY",
    "TIPLINE_MASTER_KEY_FILE",
    "TIPLINE_JURISDICTION_FILE",
    "TIPLINE_LEXICON_FILE",
    "TIPLINE_PUBLIC_URL",
    "TIPLINE_LOG",
];

/// Every node's master key.
const MASTER_KEY: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

/// Where the cluster lives: a directory with each node's config file and data dir, and the
/// shared database.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub database_url: String,
}

impl Cluster {
    /// Writes a config file per node: SMS to `gateway/NODE`, a lease of `lease_seconds` and an
    /// escalation pass every second.
    pub fn new(database_url: String, gateway: &str, nodes: &[&str], lease_seconds: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for node in nodes {
            let config = format!(
                "[alerts]\nlease_seconds = {lease_seconds}\nescalation_every_seconds = 1\n\n\
                 [alerts.sms]\napi_url = \"{gateway}/{node}\"\naccount_sid = \"AC123\"\n\
                 auth_token = \"token-123\"\nfrom = \"+919000000001\"\n"
            );
            std::fs::write(dir.path().join(format!("{node}.toml")), config).unwrap();
            std::fs::create_dir_all(dir.path().join(node)).unwrap();
        }
        Self { dir, database_url }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `tipline ARGS` as node `node` would run it.
    pub fn command(&self, node: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tipline"));
        for var in TIPLINE_VARS {
            cmd.env_remove(var);
        }
        cmd.env("TIPLINE_MASTER_KEY", MASTER_KEY)
            .arg("--config")
            .arg(self.path(&format!("{node}.toml")))
            .arg("--data-dir")
            .arg(self.path(node))
            .args(["--database-url", &self.database_url])
            .kill_on_drop(true);
        cmd
    }

    /// Runs a command to completion; returns its standard output.
    pub async fn run(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self.command("a").args(args).output().await?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            bail!(
                "tipline {} failed: {text}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(text)
    }

    /// Writes a file into the cluster's directory; returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Starts `tipline serve` as `node` and waits for its `listening on` line.
    pub async fn start(&self, node: &str) -> anyhow::Result<Node> {
        let log = self.path(&format!("{node}.log"));
        let log_file = std::fs::File::create(&log)?;
        let mut cmd = self.command(node);
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file);
        let mut child = cmd.spawn().context("cannot run tipline serve")?;
        let mut stdout = BufReader::new(child.stdout.take().context("no stdout pipe")?);
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut line))
            .await
            .context("node did not become ready within 30 s")??;
        match line.trim().strip_prefix("listening on ") {
            Some(base) if base.starts_with("http://") => Ok(Node {
                name: node.to_owned(),
                base: base.to_owned(),
                child,
                _stdout: stdout,
                log,
            }),
            _ => bail!(
                "node {node} did not start ({line:?}); see {}",
                log.display()
            ),
        }
    }
}

/// A running `tipline serve`.
pub struct Node {
    pub name: String,
    /// `http://HOST:PORT`.
    pub base: String,
    child: Child,
    _stdout: BufReader<ChildStdout>,
    pub log: PathBuf,
}

impl Node {
    /// SIGKILL, then reaps the process.
    pub async fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

pub fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
