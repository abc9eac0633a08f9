//! Assembly: loads configuration, keys, data and the store into a [`Core`], binds the listener
//! and serves. `App::build` binds first (port 0 works), so tests and the `listening on` line never
//! race the server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, MasterKeySetting};
use crate::crypto::{KeySource, Keys, MasterKey};
use crate::http::{AppState, router};
use crate::intake::GuessLimiter;
use crate::jurisdiction::Jurisdiction;
use crate::keyring::KeyRing;
use crate::lexicon::Lexicon;
use crate::store::{self, Store};
use crate::triage::Triage;

/// The services every channel and page uses.
pub struct Core {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Data keys and purpose keys.
    pub keyring: Arc<KeyRing>,
    /// The range.
    pub jurisdiction: Arc<Jurisdiction>,
    /// The category lexicon.
    pub lexicon: Arc<Lexicon>,
    /// Triage tables, built once from the jurisdiction and lexicon.
    pub triage: Arc<Triage>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The overall wrong-guess limiter.
    pub guesses: GuessLimiter,
    /// The overall limiter of failed officer logins (per-account lock-out is in the store).
    pub logins: GuessLimiter,
    /// Deadlines and console rules (the defaults unless the config file sets them).
    pub policy: crate::policy::Policy,
    /// Where alerts go (none configured: the live console only).
    pub alerts: crate::alerts::config::Alerts,
    /// Provider channels (none configured: the web and API only).
    pub channels: crate::channels::config::Channels,
    /// The address officers open links at (in alerts).
    pub public_url: String,
    /// Wakes the outbox sender when messages are stored.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// New tips, for the live queue (this node's only; several nodes are issue 6's work).
    pub events: tokio::sync::broadcast::Sender<crate::intake::TipEvent>,
}

/// Loads the master key as configured.
pub fn load_master_key(config: &Config) -> anyhow::Result<(MasterKey, KeySource)> {
    match &config.master_key {
        MasterKeySetting::Env(hex) => Ok((
            MasterKey::from_hex(hex.expose_secret()).context("TIPLINE_MASTER_KEY is not valid")?,
            KeySource::Environment,
        )),
        MasterKeySetting::File(path) => {
            MasterKey::load_or_create(path).context("cannot load the master key")
        }
    }
}

/// Loads the jurisdiction and lexicon as configured (the built-in ones by default).
pub fn load_data(config: &Config) -> anyhow::Result<(Jurisdiction, Lexicon)> {
    let jurisdiction = match &config.jurisdiction_file {
        Some(p) => Jurisdiction::load(p)?,
        None => Jurisdiction::builtin()?,
    };
    let lexicon = match &config.lexicon_file {
        Some(p) => Lexicon::load(p)?,
        None => Lexicon::builtin()?,
    };
    Ok((jurisdiction, lexicon))
}

/// Triage tables with an administrator's cue file.
pub fn load_triage(config: &Config, cues: &std::path::Path) -> anyhow::Result<Triage> {
    let (jurisdiction, lexicon) = load_data(config)?;
    let text = std::fs::read_to_string(cues)
        .with_context(|| format!("cannot read the cue file {}", cues.display()))?;
    Triage::with_cues(&jurisdiction, &lexicon, &text)
        .with_context(|| format!("the cue file {}", cues.display()))
}

/// Opens the store with keys derived from the master key.
pub async fn open_store(config: &Config, keys: Arc<Keys>) -> anyhow::Result<Arc<dyn Store>> {
    store::open(config.database_url.expose(), keys)
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                config.database_url.redacted()
            )
        })
}

impl Core {
    /// Builds the core from configuration, with the system clock.
    pub async fn load(config: &Config) -> anyhow::Result<Self> {
        let (master, _) = load_master_key(config)?;
        let (jurisdiction, lexicon) = load_data(config)?;
        let keys = Arc::new(master.derive());
        let store = open_store(config, keys.clone()).await?;
        let mut core =
            Self::assemble(store, keys, jurisdiction, lexicon, Arc::new(SystemClock)).await?;
        if let Some(path) = &config.cues_file {
            core.triage = Arc::new(load_triage(config, path)?);
        }
        core.policy = config.policy.clone();
        core.alerts = config.alerts.clone();
        core.channels = config.channels.clone();
        core.public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.listen));
        Ok(core)
    }

    /// Builds the core from its parts (tests inject a clock and a store).
    pub async fn assemble(
        store: Arc<dyn Store>,
        keys: Arc<Keys>,
        jurisdiction: Jurisdiction,
        lexicon: Lexicon,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let keyring = KeyRing::load(keys, store.as_ref(), &jurisdiction, clock.now_ms()).await?;
        let triage =
            Triage::new(&jurisdiction, &lexicon).context("cannot build the triage tables")?;
        let events = tokio::sync::broadcast::channel(256).0;
        // Live events of every node, where the database carries them (PostgreSQL).
        if let Some(mut feed) = store.event_feed().await? {
            let local = events.clone();
            tokio::spawn(async move {
                while let Some(payload) = feed.recv().await {
                    if let Ok(event) = serde_json::from_str(&payload) {
                        let _ = local.send(event);
                    }
                }
            });
        }
        Ok(Self {
            store,
            keyring: Arc::new(keyring),
            triage: Arc::new(triage),
            jurisdiction: Arc::new(jurisdiction),
            lexicon: Arc::new(lexicon),
            clock,
            guesses: GuessLimiter::default(),
            logins: GuessLimiter::per_minute(crate::officers::FAILED_LOGINS_PER_MINUTE),
            policy: crate::policy::Policy::default(),
            alerts: crate::alerts::config::Alerts::default(),
            channels: crate::channels::config::Channels::default(),
            public_url: "http://127.0.0.1:8080".into(),
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            events,
        })
    }
}

/// A bound, ready-to-serve application.
pub struct App {
    listener: TcpListener,
    router: axum::Router,
    core: Arc<Core>,
}

impl App {
    /// Binds the configured address and builds the router.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let core = Arc::new(Core::load(config).await?);
        let app = Self::with_core(core.clone(), config.listen, config.behind_tls).await?;
        crate::jobs::spawn(core);
        Ok(app)
    }

    /// Binds `listen` and serves `core` (without background jobs: tests drive those directly).
    pub async fn with_core(
        core: Arc<Core>,
        listen: SocketAddr,
        behind_tls: bool,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        Ok(Self {
            listener,
            router: router(AppState {
                core: core.clone(),
                behind_tls,
            }),
            core,
        })
    }

    /// The services behind the server.
    pub fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// The bound address (the real port when 0 was asked for).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("server failed")
    }
}
