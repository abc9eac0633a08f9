//! Officer accounts: argon2id passwords, the TOTP second factor every officer must use, and
//! server-side sessions. A session is a random cookie value known to the database only by its
//! SHA-256; it starts at the `password` stage and becomes `full` only after a TOTP code, with a
//! new id at each step. Wrong passwords and codes count against the account and lock it for a
//! while; the overall limiter keeps one client from trying many accounts.
//!
//! Must never: log or store a password or a TOTP secret in clear, tell a caller whether a login
//! name exists, or accept a TOTP code twice.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::app::Core;
use crate::crypto::{self, encode_hex, sha256};
use crate::domain::{NewPassword, OfficerScope, Role, Username};
use crate::store::{AuditDraft, NewOfficer, OfficerChange, OfficerRow, StoreError};
use crate::totp::TotpSecret;

pub mod cli;

/// Failed logins over all accounts, per node, in one minute before every login waits (someone
/// is trying many accounts).
pub const FAILED_LOGINS_PER_MINUTE: u32 = 30;
/// Wrong passwords or codes before the account locks.
pub const MAX_FAILED_LOGINS: i64 = 5;
/// How long a lock lasts.
pub const LOCK_MS: i64 = 15 * 60 * 1000;
// Idle and absolute session timeouts are the config file's `[console]` rules (`policy`).
/// A session half-way through login (password given, code not yet) lasts this long.
pub const LOGIN_STAGE_TIMEOUT_MS: i64 = 5 * 60 * 1000;
/// `last_seen_at` is written at most this often (each write is a commit).
const TOUCH_EVERY_MS: i64 = 60 * 1000;
/// The issuer shown in authenticator apps.
pub const TOTP_ISSUER: &str = "tipline";

/// What went wrong with an account operation.
#[derive(Debug, thiserror::Error)]
pub enum OfficerError {
    /// Wrong login name, password or code, a locked or disabled account: one message for all,
    /// so a caller learns nothing about which.
    #[error("login failed")]
    LoginFailed,
    /// The input was not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Not found.
    #[error("no such officer")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing or sealing failed.
    #[error("internal: {0}")]
    Internal(String),
}

/// A logged-in (or half logged-in) officer.
#[derive(Clone, Debug)]
pub struct Session {
    /// SHA-256 of the cookie value.
    pub hash: [u8; 32],
    /// The officer, as loaded with the session.
    pub officer: OfficerRow,
    /// Where the officer works.
    pub scope: OfficerScope,
    /// The second factor is done.
    pub full: bool,
}

impl Session {
    /// The actor name used in the audit log.
    pub fn actor(&self) -> String {
        actor(self.officer.officer_id)
    }

    /// The anti-forgery token for this session's forms.
    pub fn form_token(&self, core: &Core) -> String {
        encode_hex(&core.keyring.keys().form_token(&self.hash))
    }
}

/// The audit actor for an officer.
pub fn actor(officer_id: i64) -> String {
    format!("officer:{officer_id}")
}

/// Hashes a password with argon2id (OWASP parameters), off the async threads.
pub async fn hash_password(password: &str) -> Result<String, OfficerError> {
    let password = zeroize::Zeroizing::new(password.to_owned());
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| OfficerError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| OfficerError::Internal(e.to_string()))?
}

/// Checks a password against a stored hash, off the async threads.
async fn password_matches(password: &str, hash: String) -> bool {
    let password = zeroize::Zeroizing::new(password.to_owned());
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// A hash of nothing anyone knows, checked when the login name does not exist so that the answer
/// takes as long as for a real account.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7Vd8tqT2Yt3cIY0fNOUIbeo3hHskUY0ExgEBTT2HdPE";

/// A new account as an administrator (or the CLI) asks for it.
pub struct OfficerInput {
    /// Login name.
    pub username: Username,
    /// Name shown.
    pub display_name: String,
    /// Role and place of work.
    pub scope: OfficerScope,
    /// First password.
    pub password: NewPassword,
}

/// Creates an account after checking its district and desk against the jurisdiction.
pub async fn add_officer(core: &Core, input: OfficerInput, by: &str) -> Result<i64, OfficerError> {
    check_scope(core, &input.scope)?;
    let display_name = crate::domain::parse_bounded(&input.display_name, 80).map_err(|_| {
        OfficerError::Invalid("the display name must be 1 to 80 plain characters".into())
    })?;
    let password_hash = hash_password(input.password.expose()).await?;
    let officer = NewOfficer {
        username: input.username.as_str().to_owned(),
        display_name,
        role: input.scope.role.as_str().to_owned(),
        district_id: input.scope.district_id.clone(),
        desk_id: input.scope.desk_id.clone(),
        password_hash,
        created_at: core.clock.now_ms(),
        actor: by.to_owned(),
    };
    match core.store.create_officer(officer).await {
        Err(StoreError::Conflict(_)) => Err(OfficerError::Invalid(format!(
            "the login name {} is taken",
            input.username.as_str()
        ))),
        other => Ok(other?),
    }
}

/// The district and desk must exist, and the desk must be in the district.
fn check_scope(core: &Core, scope: &OfficerScope) -> Result<(), OfficerError> {
    let j = &core.jurisdiction;
    if let Some(d) = &scope.district_id {
        let district = j
            .district(d)
            .ok_or_else(|| OfficerError::Invalid(format!("no district {d}")))?;
        if let Some(desk) = &scope.desk_id {
            let found = match scope.role {
                Role::StationOfficer => district.stations.iter().any(|s| s.id.as_str() == desk),
                _ => {
                    district.units.iter().any(|u| &u.id == desk)
                        || j.range_units.iter().any(|u| &u.id == desk)
                }
            };
            if !found {
                return Err(OfficerError::Invalid(format!(
                    "no {} {desk} in district {d}",
                    desk_word(scope.role)
                )));
            }
        }
    }
    Ok(())
}

fn desk_word(role: Role) -> &'static str {
    if role == Role::StationOfficer {
        "station"
    } else {
        "unit"
    }
}

/// The scope stored with an officer row.
pub fn scope_of(o: &OfficerRow) -> Option<OfficerScope> {
    let role = Role::parse(&o.role)?;
    OfficerScope::new(role, o.district_id.clone(), o.desk_id.clone()).ok()
}

fn draft(
    core: &Core,
    actor: &str,
    action: &str,
    officer_id: i64,
    detail: serde_json::Value,
) -> AuditDraft {
    AuditDraft {
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject: format!("officer:{officer_id}"),
        detail: detail.to_string(),
        created_at: core.clock.now_ms(),
    }
}

/// First step of a login: the password. Returns the new (password-stage) session's cookie value.
pub async fn login_password(
    core: &Core,
    username: &str,
    password: &str,
) -> Result<String, OfficerError> {
    if !core.logins.is_open(core.clock.now_ms()) {
        return Err(OfficerError::LoginFailed);
    }
    let officer = match Username::parse(username) {
        Ok(u) => core.store.officer_named(u.as_str()).await?,
        Err(_) => None,
    };
    let Some(officer) = officer else {
        password_matches(password, DUMMY_HASH.to_owned()).await;
        core.logins.record_failure(core.clock.now_ms());
        return Err(OfficerError::LoginFailed);
    };
    let now = core.clock.now_ms();
    let usable = !officer.disabled && officer.locked_until <= now;
    let right = password_matches(password, officer.password_hash.clone()).await;
    if !usable || !right {
        if usable {
            count_failure(core, &officer, "password").await?;
        }
        return Err(OfficerError::LoginFailed);
    }
    new_session(core, officer.officer_id, "password", None).await
}

/// Counts a wrong password or code and locks the account when there were too many.
async fn count_failure(core: &Core, officer: &OfficerRow, what: &str) -> Result<(), OfficerError> {
    let now = core.clock.now_ms();
    core.logins.record_failure(now);
    let failed_logins = officer.failed_logins + 1;
    let locked_until = if failed_logins >= MAX_FAILED_LOGINS {
        now + LOCK_MS
    } else {
        0
    };
    let failed_logins = if locked_until > 0 { 0 } else { failed_logins };
    let audit = draft(
        core,
        &actor(officer.officer_id),
        "officer.login_failed",
        officer.officer_id,
        serde_json::json!({ "step": what, "locked": locked_until > 0 }),
    );
    core.store
        .change_officer(
            officer.officer_id,
            OfficerChange::LoginFailed {
                failed_logins,
                locked_until,
            },
            audit,
        )
        .await?;
    Ok(())
}

async fn new_session(
    core: &Core,
    officer_id: i64,
    stage: &str,
    replacing: Option<[u8; 32]>,
) -> Result<String, OfficerError> {
    let mut raw = [0u8; 32];
    crypto::fill_random(&mut raw).map_err(|e| OfficerError::Internal(e.to_string()))?;
    let token = encode_hex(&raw);
    let hash = sha256(token.as_bytes());
    core.store
        .create_session(hash, officer_id, stage, core.clock.now_ms(), replacing)
        .await?;
    Ok(token)
}

/// The officer's TOTP secret, generating and storing a new one if there is none yet (enrolment).
pub async fn totp_secret(core: &Core, officer: &OfficerRow) -> Result<TotpSecret, OfficerError> {
    let aad = totp_aad(officer.officer_id);
    if let Some(sealed) = &officer.totp_sealed {
        let bytes = core
            .keyring
            .open(crate::keyring::RANGE_SCOPE, &aad, sealed)
            .map_err(|e| OfficerError::Internal(e.to_string()))?;
        return TotpSecret::from_bytes(&bytes)
            .ok_or_else(|| OfficerError::Internal("bad TOTP secret".into()));
    }
    let secret = TotpSecret::generate();
    let (_, key) = core
        .keyring
        .current(crate::keyring::RANGE_SCOPE)
        .map_err(|e| OfficerError::Internal(e.to_string()))?;
    let totp_sealed = key
        .seal(&aad, secret.as_bytes())
        .map_err(|e| OfficerError::Internal(e.to_string()))?;
    let audit = draft(
        core,
        &actor(officer.officer_id),
        "officer.totp_generated",
        officer.officer_id,
        serde_json::json!({}),
    );
    core.store
        .change_officer(
            officer.officer_id,
            OfficerChange::TotpGenerated { totp_sealed },
            audit,
        )
        .await?;
    Ok(secret)
}

fn totp_aad(officer_id: i64) -> Vec<u8> {
    format!("officer.totp:{officer_id}").into_bytes()
}

/// Second step: a TOTP code (enrolling or logging in). On success the half session is replaced
/// by a full one with a new id; returns its cookie value.
pub async fn login_code(
    core: &Core,
    session: &Session,
    code: &str,
) -> Result<String, OfficerError> {
    let officer = core
        .store
        .officer(session.officer.officer_id)
        .await?
        .ok_or(OfficerError::LoginFailed)?;
    let now = core.clock.now_ms();
    if officer.disabled || officer.locked_until > now || officer.totp_sealed.is_none() {
        return Err(OfficerError::LoginFailed);
    }
    let secret = totp_secret(core, &officer).await?;
    let last = u64::try_from(officer.totp_last_step)
        .ok()
        .filter(|s| *s > 0);
    let Some(step) = secret.verify(code, (now / 1000) as u64, last) else {
        count_failure(core, &officer, "code").await?;
        return Err(OfficerError::LoginFailed);
    };
    let step = i64::try_from(step).map_err(|e| OfficerError::Internal(e.to_string()))?;
    let (change, action) = if officer.totp_enrolled {
        (
            OfficerChange::LoginSucceeded { totp_step: step },
            "officer.login",
        )
    } else {
        (
            OfficerChange::TotpEnrolled { totp_step: step },
            "officer.totp_enrolled",
        )
    };
    let audit = draft(
        core,
        &actor(officer.officer_id),
        action,
        officer.officer_id,
        serde_json::json!({}),
    );
    match core
        .store
        .change_officer(officer.officer_id, change, audit)
        .await
    {
        Err(StoreError::Conflict(_)) => return Err(OfficerError::LoginFailed),
        other => other?,
    }
    new_session(core, officer.officer_id, "full", Some(session.hash)).await
}

/// The session a cookie value names, if it is alive; refreshes its idle clock.
pub async fn session(core: &Core, token: &str) -> Result<Option<Session>, OfficerError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let hash = sha256(token.as_bytes());
    let Some((row, officer)) = core.store.session(hash).await? else {
        return Ok(None);
    };
    let now = core.clock.now_ms();
    let full = row.stage == "full";
    let expired = if full {
        now - row.last_seen_at > core.policy.console.idle_timeout_ms()
            || now - row.created_at > core.policy.console.session_ms()
    } else {
        now - row.created_at > LOGIN_STAGE_TIMEOUT_MS
    };
    let scope = scope_of(&officer);
    if expired || officer.disabled || scope.is_none() {
        core.store.end_session(hash).await?;
        return Ok(None);
    }
    if now - row.last_seen_at > TOUCH_EVERY_MS {
        core.store.touch_session(hash, now).await?;
    }
    Ok(scope.map(|scope| Session {
        hash,
        officer,
        scope,
        full,
    }))
}

/// Ends a session (logout), recorded in the audit log.
pub async fn logout(core: &Core, session: &Session) -> Result<(), OfficerError> {
    core.store.end_session(session.hash).await?;
    let audit = draft(
        core,
        &session.actor(),
        "officer.logout",
        session.officer.officer_id,
        serde_json::json!({}),
    );
    core.store.record_audit(audit).await?;
    Ok(())
}

/// Sets a new password (administrator): every session ends and the second factor is enrolled
/// again.
pub async fn reset_password(
    core: &Core,
    officer_id: i64,
    password: &NewPassword,
    by: &str,
) -> Result<(), OfficerError> {
    core.store
        .officer(officer_id)
        .await?
        .ok_or(OfficerError::NotFound)?;
    let password_hash = hash_password(password.expose()).await?;
    let audit = draft(
        core,
        by,
        "officer.password_reset",
        officer_id,
        serde_json::json!({}),
    );
    core.store
        .change_officer(
            officer_id,
            OfficerChange::PasswordReset { password_hash },
            audit,
        )
        .await?;
    Ok(())
}

/// Disables (ending every session at once) or enables an account.
pub async fn set_disabled(
    core: &Core,
    officer_id: i64,
    disabled: bool,
    by: &str,
) -> Result<(), OfficerError> {
    core.store
        .officer(officer_id)
        .await?
        .ok_or(OfficerError::NotFound)?;
    let action = if disabled {
        "officer.disable"
    } else {
        "officer.enable"
    };
    let audit = draft(core, by, action, officer_id, serde_json::json!({}));
    core.store
        .change_officer(officer_id, OfficerChange::Disabled(disabled), audit)
        .await?;
    Ok(())
}
