//! Configuration: a TOML file, then `TIPLINE_*` environment variables, then command-line flags,
//! each overriding the one before; validated at start with messages that say what to fix.
//! Secrets (the master key, a database password) are held as `secrecy` types and never printed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {0}: {1}")]
    Read(String, std::io::Error),
    /// The file is not valid TOML of the expected shape (unknown keys are refused, to catch typos).
    #[error("config file {0} is not valid: {1}")]
    Parse(String, toml::de::Error),
    /// A value is not acceptable.
    #[error("{0}")]
    Invalid(String),
}

/// Values as the file (or environment, or flags) give them, before validation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Address to listen on.
    pub listen: Option<String>,
    /// Directory for the SQLite database and the master key.
    pub data_dir: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://...`.
    pub database_url: Option<String>,
    /// Path of the master key file.
    pub master_key_file: Option<PathBuf>,
    /// A jurisdiction file replacing the built-in Bilaspur range.
    pub jurisdiction_file: Option<PathBuf>,
    /// A lexicon file replacing the built-in one.
    pub lexicon_file: Option<PathBuf>,
    /// A triage cue file replacing the built-in `data/triage-cues.toml`.
    pub cues_file: Option<PathBuf>,
    /// The public address, e.g. `https://tips.example.in`; `https` turns on HSTS.
    pub public_url: Option<String>,
    /// Log filter, e.g. `info` or `tipline=debug`.
    pub log: Option<String>,
    /// `[deadlines]`: minutes per step and priority (file only).
    pub deadlines: Option<crate::policy::Deadlines>,
    /// `[console]`: session lengths and the view flag (file only).
    pub console: Option<crate::policy::ConsoleRules>,
    /// `[alerts]`: SMS gateway, SMTP relay, webhook (file only).
    pub alerts: Option<crate::alerts::config::RawAlerts>,
    /// `[channels]`: provider webhooks (file only).
    pub channels: Option<crate::channels::config::RawChannels>,
}

impl RawConfig {
    /// Reads a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| ConfigError::Read(shown.clone(), e))?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse(shown, e))
    }

    /// Reads `TIPLINE_*` variables through `get` (the process environment in production).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            listen: get("TIPLINE_LISTEN"),
            data_dir: get("TIPLINE_DATA_DIR").map(PathBuf::from),
            database_url: get("TIPLINE_DATABASE_URL"),
            master_key_file: get("TIPLINE_MASTER_KEY_FILE").map(PathBuf::from),
            jurisdiction_file: get("TIPLINE_JURISDICTION_FILE").map(PathBuf::from),
            lexicon_file: get("TIPLINE_LEXICON_FILE").map(PathBuf::from),
            cues_file: get("TIPLINE_CUES_FILE").map(PathBuf::from),
            public_url: get("TIPLINE_PUBLIC_URL"),
            log: get("TIPLINE_LOG"),
            deadlines: None,
            console: None,
            alerts: None,
            channels: None,
        }
    }

    /// Values set in `over` replace those in `self`.
    pub fn overlay(self, over: RawConfig) -> Self {
        Self {
            listen: over.listen.or(self.listen),
            data_dir: over.data_dir.or(self.data_dir),
            database_url: over.database_url.or(self.database_url),
            master_key_file: over.master_key_file.or(self.master_key_file),
            jurisdiction_file: over.jurisdiction_file.or(self.jurisdiction_file),
            lexicon_file: over.lexicon_file.or(self.lexicon_file),
            cues_file: over.cues_file.or(self.cues_file),
            public_url: over.public_url.or(self.public_url),
            log: over.log.or(self.log),
            deadlines: over.deadlines.or(self.deadlines),
            console: over.console.or(self.console),
            alerts: over.alerts.or(self.alerts),
            channels: over.channels.or(self.channels),
        }
    }
}

/// Where the master key comes from.
pub enum MasterKeySetting {
    /// A file, created on first start.
    File(PathBuf),
    /// The `TIPLINE_MASTER_KEY` variable (64 hex digits).
    Env(SecretString),
}

/// A database URL whose password never prints.
pub struct DatabaseUrl(SecretString);

impl DatabaseUrl {
    /// Parses a URL; only `sqlite://` and `postgres://` (or `postgresql://`) are accepted.
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let ok = ["sqlite://", "postgres://", "postgresql://"]
            .iter()
            .any(|p| url.starts_with(p) && url.len() > p.len());
        if !ok {
            return Err(ConfigError::Invalid(
                "database_url must start with sqlite:// (then a file path) or postgres:// (then user@host/db)".into(),
            ));
        }
        Ok(Self(SecretString::from(url.to_owned())))
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        let url = self.0.expose_secret();
        match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => {
                let userinfo = &url[s + 3..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        format!("{}{}:***{}", &url[..s + 3], &userinfo[..colon], &url[at..])
                    }
                    None => url.to_owned(),
                }
            }
            _ => url.to_owned(),
        }
    }

    /// The URL itself, for connecting.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// True for SQLite.
    pub fn is_sqlite(&self) -> bool {
        self.expose().starts_with("sqlite://")
    }
}

/// The validated configuration.
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Database.
    pub database_url: DatabaseUrl,
    /// Master key.
    pub master_key: MasterKeySetting,
    /// Jurisdiction file, or the built-in range.
    pub jurisdiction_file: Option<PathBuf>,
    /// Lexicon file, or the built-in lexicon.
    pub lexicon_file: Option<PathBuf>,
    /// The triage cue file, if not the built-in one.
    pub cues_file: Option<PathBuf>,
    /// True when the public address is https (HSTS is sent).
    pub behind_tls: bool,
    /// Log filter.
    pub log: String,
    /// Deadlines and console rules.
    pub policy: crate::policy::Policy,
    /// Where alerts go.
    pub alerts: crate::alerts::config::Alerts,
    /// Provider channels.
    pub channels: crate::channels::config::Channels,
    /// The public address, for links in alerts.
    pub public_url: Option<String>,
}

impl Config {
    /// Validates raw values; `master_key_env` is `TIPLINE_MASTER_KEY` if set.
    pub fn validate(raw: RawConfig, master_key_env: Option<String>) -> Result<Self, ConfigError> {
        let listen_text = raw.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen_text.parse().map_err(|_| {
            ConfigError::Invalid(format!(
                "listen = `{listen_text}` is not an address like 127.0.0.1:8080 or [::]:8080"
            ))
        })?;
        let data_dir = raw
            .data_dir
            .unwrap_or_else(|| PathBuf::from("tipline-data"));
        let url = raw
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("tipline.db").display()));
        let database_url = DatabaseUrl::parse(&url)?;
        let master_key = match master_key_env.filter(|k| !k.is_empty()) {
            Some(k) => MasterKeySetting::Env(SecretString::from(k)),
            None => MasterKeySetting::File(
                raw.master_key_file
                    .unwrap_or_else(|| data_dir.join("master.key")),
            ),
        };
        let behind_tls = match raw.public_url.as_deref() {
            None => false,
            Some(u) if u.starts_with("https://") => true,
            Some(u) if u.starts_with("http://") => false,
            Some(u) => {
                return Err(ConfigError::Invalid(format!(
                    "public_url = `{u}` must start with https:// or http://"
                )));
            }
        };
        for (name, file) in [
            ("jurisdiction_file", &raw.jurisdiction_file),
            ("lexicon_file", &raw.lexicon_file),
            ("cues_file", &raw.cues_file),
        ] {
            if let Some(f) = file.as_ref().filter(|f| !f.is_file()) {
                return Err(ConfigError::Invalid(format!(
                    "{name} = `{}` does not exist or is not a file",
                    f.display()
                )));
            }
        }
        let policy = crate::policy::Policy {
            deadlines: raw.deadlines.unwrap_or_default(),
            console: raw.console.unwrap_or_default(),
        };
        policy.deadlines.validate().map_err(ConfigError::Invalid)?;
        policy.console.validate().map_err(ConfigError::Invalid)?;
        let alerts = raw
            .alerts
            .unwrap_or_default()
            .validate()
            .map_err(ConfigError::Invalid)?;
        let channels = raw
            .channels
            .unwrap_or_default()
            .validate()
            .map_err(ConfigError::Invalid)?;
        Ok(Self {
            alerts,
            channels,
            public_url: raw.public_url.clone(),
            policy,
            listen,
            data_dir,
            database_url,
            master_key,
            jurisdiction_file: raw.jurisdiction_file,
            lexicon_file: raw.lexicon_file,
            cues_file: raw.cues_file,
            behind_tls,
            log: raw.log.unwrap_or_else(|| "info".into()),
        })
    }

    /// A summary for `tipline check`: no secrets.
    pub fn describe(&self) -> String {
        let key = match &self.master_key {
            MasterKeySetting::File(p) => format!("file {}", p.display()),
            MasterKeySetting::Env(_) => "TIPLINE_MASTER_KEY (value hidden)".into(),
        };
        let or_builtin = |f: &Option<PathBuf>| {
            f.as_ref()
                .map_or("built-in".to_owned(), |p| p.display().to_string())
        };
        let d = &self.policy.deadlines;
        let limits = |name: &str, l: crate::policy::StepLimits| {
            format!(
                "\ndeadlines {name}: acknowledge {} min, action {} min, report {} min",
                l.acknowledge, l.action, l.report
            )
        };
        let c = &self.policy.console;
        let rules = format!(
            "{}{}{}{}\nconsole: sessions idle {} min, at most {} h; more than {} text views an hour flag an officer\nalerts: sms {}, email {}, webhook {}; lease {} s, escalation every {} s",
            limits("urgent", d.urgent),
            limits("high", d.high),
            limits("normal", d.normal),
            limits("low", d.low)
                + &d.categories
                    .iter()
                    .map(|(c, l)| limits(&format!("category {c}"), *l))
                    .collect::<String>(),
            c.idle_timeout_minutes,
            c.session_hours,
            c.view_flag_per_hour,
            self.alerts
                .sms
                .as_ref()
                .map_or("off".to_owned(), |s| format!(
                    "{} from {} (token hidden)",
                    s.api_url, s.from
                )),
            self.alerts
                .email
                .as_ref()
                .map_or("off".to_owned(), |e| format!(
                    "{}:{} from {}",
                    e.smtp_host, e.smtp_port, e.from
                )),
            self.alerts
                .webhook
                .as_ref()
                .map_or("off".to_owned(), |w| format!("{} (secret hidden)", w.url)),
            self.alerts.lease_seconds,
            self.alerts.escalation_every_seconds,
        );
        format!(
            "listen: {}\ndata dir: {}\ndatabase: {}\nmaster key: {key}\njurisdiction: {}\nlexicon: {}\ntriage cues: {}\nHSTS: {}\nlog: {}{rules}",
            self.listen,
            self.data_dir.display(),
            self.database_url.redacted(),
            or_builtin(&self.jurisdiction_file),
            or_builtin(&self.lexicon_file),
            or_builtin(&self.cues_file),
            if self.behind_tls {
                "on"
            } else {
                "off (public_url is not https)"
            },
            self.log
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_and_flags_override_env() {
        let file: RawConfig =
            toml::from_str("listen = \"127.0.0.1:1\"\ndata_dir = \"/a\"").unwrap();
        let env =
            RawConfig::from_env(|k| (k == "TIPLINE_LISTEN").then(|| "127.0.0.1:2".to_owned()));
        let flags = RawConfig {
            data_dir: Some("/c".into()),
            ..Default::default()
        };
        let c = Config::validate(file.overlay(env).overlay(flags), None).unwrap();
        assert_eq!(c.listen.port(), 2);
        assert_eq!(c.data_dir, PathBuf::from("/c"));
        assert_eq!(c.database_url.expose(), "sqlite:///c/tipline.db");
    }

    #[test]
    fn bad_values_get_clear_messages() {
        let err = |raw: RawConfig| {
            Config::validate(raw, None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(
            err(RawConfig {
                listen: Some("nonsense".into()),
                ..Default::default()
            })
            .contains("not an address")
        );
        assert!(
            err(RawConfig {
                database_url: Some("/tmp/x.db".into()),
                ..Default::default()
            })
            .contains("sqlite://")
        );
        assert!(
            err(RawConfig {
                public_url: Some("tips.example".into()),
                ..Default::default()
            })
            .contains("https://")
        );
        assert!(toml::from_str::<RawConfig>("lisen = \"x\"").is_err());
        let bad_deadlines: RawConfig = toml::from_str(
            "[deadlines]\nurgent = { acknowledge = 20, action = 10, report = 60 }\n\
             high = { acknowledge = 1, action = 2, report = 3 }\n\
             normal = { acknowledge = 1, action = 2, report = 3 }\n\
             low = { acknowledge = 1, action = 2, report = 3 }",
        )
        .unwrap();
        assert!(err(bad_deadlines).contains("deadlines.urgent"));
        assert!(toml::from_str::<RawConfig>("[console]\nview_flag = 3").is_err());
        let with_category: RawConfig = toml::from_str(
            "[deadlines]\nurgent = { acknowledge = 5, action = 14, report = 1440 }\n\
             high = { acknowledge = 30, action = 240, report = 2880 }\n\
             normal = { acknowledge = 60, action = 1440, report = 4320 }\n\
             low = { acknowledge = 240, action = 4320, report = 10080 }\n\
             categories.cyber_fraud = { acknowledge = 15, action = 30, report = 1440 }",
        )
        .unwrap();
        let c = Config::validate(with_category, None).unwrap();
        assert_eq!(
            c.policy
                .deadlines
                .for_tip_in("normal", Some("cyber_fraud"), 0)
                .acknowledge,
            15 * 60_000
        );
        assert!(
            c.describe()
                .contains("category cyber_fraud: acknowledge 15 min")
        );
    }

    #[test]
    fn secrets_never_print() {
        let url = DatabaseUrl::parse("postgres://tip:hunter2@db/tipline").unwrap();
        assert_eq!(url.redacted(), "postgres://tip:***@db/tipline");
        let c = Config::validate(RawConfig::default(), Some("ab".repeat(32))).unwrap();
        assert!(!c.describe().contains("abab"));
    }
}
