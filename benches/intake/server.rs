//! A server under test as a child process: started from a command, ready when it prints
//! `listening on http://HOST:PORT`, stopped with SIGTERM; and what `/proc` says about it.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The `TIPLINE_*` variables a server reads; removed so the caller's environment cannot change
/// what is measured.
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

/// A running server process.
pub struct Server {
    child: Child,
    /// `http://HOST:PORT`.
    pub base: String,
    /// Time from spawn to the `listening on` line.
    pub startup: Duration,
    _stdout: BufReader<ChildStdout>,
}

/// Resident memory of a process, in kB.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    /// Resident now.
    pub rss_kb: u64,
    /// Highest resident so far.
    pub hwm_kb: u64,
}

impl Server {
    /// Spawns `cmd` (stderr appended to `log`) and waits for its `listening on` line.
    pub fn start(mut cmd: Command, log: &Path) -> anyhow::Result<Self> {
        let log_file = OpenOptions::new().create(true).append(true).open(log)?;
        for var in TIPLINE_VARS {
            cmd.env_remove(var);
        }
        // For profiling: the servers' log filter (their log is in the run's temporary directory).
        if let Ok(filter) = std::env::var("TIPLINE_BENCH_SERVER_LOG") {
            cmd.env("TIPLINE_LOG", filter);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file);
        let started = Instant::now();
        let mut child = cmd.spawn().with_context(|| format!("cannot run {cmd:?}"))?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let startup = started.elapsed();
        match line.trim().strip_prefix("listening on ") {
            Some(base) if base.starts_with("http://") => Ok(Self {
                base: base.to_owned(),
                child,
                startup,
                _stdout: stdout,
            }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "{cmd:?} did not print its listening line (got {line:?}); see {}",
                    log.display()
                )
            }
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits up to 10 s for a clean exit.
    pub fn stop(mut self) -> anyhow::Result<()> {
        // tipline installs its SIGTERM handler only once it serves, just after the listening
        // line; a SIGTERM before that kills it outright. One answered request proves it serves.
        self.answer()?;
        let pid = self.pid().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("server {pid} exited with {status} after SIGTERM");
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        bail!("server {pid} did not stop within 10 s of SIGTERM; killed")
    }

    /// Sends `GET /healthz` over a fresh connection and waits for any answer.
    fn answer(&self) -> anyhow::Result<()> {
        let addr = self.base.trim_start_matches("http://");
        let mut conn = TcpStream::connect(addr)?;
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
        let mut reply = Vec::new();
        conn.read_to_end(&mut reply)?;
        anyhow::ensure!(
            reply.starts_with(b"HTTP/1.1 "),
            "no HTTP answer from {addr}"
        );
        Ok(())
    }

    /// VmRSS and VmHWM from `/proc/PID/status`.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let field = |name: &str| -> anyhow::Result<u64> {
            let line = status
                .lines()
                .find(|l| l.starts_with(name))
                .with_context(|| format!("no {name} in /proc status"))?;
            let kb = line
                .split_whitespace()
                .nth(1)
                .context("empty /proc status field")?;
            Ok(kb.parse()?)
        };
        Ok(Memory {
            rss_kb: field("VmRSS:")?,
            hwm_kb: field("VmHWM:")?,
        })
    }

    /// CPU time used so far (user + system), in clock ticks.
    pub fn cpu_ticks(&self) -> anyhow::Result<u64> {
        process_ticks(&format!("/proc/{}/stat", self.pid()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Never leave a server behind when a run fails half way; harmless after `stop`.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// utime + stime of the process whose stat file is `path`, in clock ticks.
pub fn process_ticks(path: &str) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(path)?;
    // The command name may hold spaces; the fields after it are fixed.
    let rest = stat.rsplit_once(')').context("bad /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok(utime + stime)
}

/// Whole-machine CPU time: (all ticks, busy ticks) summed over every core.
pub fn machine_ticks() -> anyhow::Result<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat.lines().next().context("empty /proc/stat")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Ok((total, total - idle))
}
