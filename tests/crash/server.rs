//! The server under test as a child process: started on a data directory with port 0, ready when
//! it prints `listening on http://HOST:PORT`, killed with SIGKILL or stopped with SIGTERM.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

/// Longest a start-up may take, crash recovery included, before the test gives up.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The `TIPLINE_*` variables the server reads: removed so the caller's environment cannot change
/// which data directory or key the test uses.
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

/// A started server (maybe not ready yet).
pub struct Proc {
    child: Child,
    stdout: BufReader<ChildStdout>,
    /// `http://HOST:PORT` once ready.
    pub base: String,
}

impl Proc {
    /// Spawns `tipline serve` on `data_dir`, stderr appended to `log`; does not wait.
    pub fn spawn(data_dir: &Path, log: &Path) -> anyhow::Result<Self> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tipline"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true);
        for var in TIPLINE_VARS {
            cmd.env_remove(var);
        }
        let mut child = cmd.spawn().context("cannot run tipline")?;
        let stdout = BufReader::new(child.stdout.take().context("no stdout pipe")?);
        Ok(Self {
            child,
            stdout,
            base: String::new(),
        })
    }

    /// Spawns and waits for the `listening on` line.
    pub async fn start(data_dir: &Path, log: &Path) -> anyhow::Result<Self> {
        let mut p = Self::spawn(data_dir, log)?;
        let mut line = String::new();
        tokio::time::timeout(START_TIMEOUT, p.stdout.read_line(&mut line))
            .await
            .context("tipline did not become ready within 30 s")??;
        match line.trim().strip_prefix("listening on ") {
            Some(base) if base.starts_with("http://") => {
                p.base = base.to_owned();
                Ok(p)
            }
            _ => {
                p.kill().await?;
                bail!(
                    "tipline did not start (stdout {line:?}); see {}",
                    log.display()
                )
            }
        }
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reaps the process.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// SIGTERM, then waits for a clean exit.
    pub async fn terminate(mut self) -> anyhow::Result<()> {
        let pid = self.child.id().context("already exited")?.to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().await?;
        anyhow::ensure!(sent.success(), "kill -TERM {pid} failed");
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .context("tipline did not stop within 30 s of SIGTERM")??;
        anyhow::ensure!(
            status.success(),
            "tipline exited with {status} after SIGTERM"
        );
        Ok(())
    }
}
