//! Where alerts go, as the `[alerts]` table of the config file sets it. Every part is optional:
//! with none, alerts reach the live console only.

use secrecy::SecretString;
use serde::Deserialize;

/// `[alerts]` as written in the file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    /// SMS through the Twilio Messages API (or any server speaking it).
    pub sms: Option<RawSms>,
    /// Email through an SMTP relay.
    pub email: Option<RawEmail>,
    /// A signed JSON webhook for urgent tips and escalations (e.g. towards a Dial 112 system).
    pub webhook: Option<RawWebhook>,
    /// How long a node holds a message it claimed before another node may take it over.
    pub lease_seconds: Option<u64>,
    /// How often each node looks for late tips to escalate.
    pub escalation_every_seconds: Option<u64>,
}

/// `[alerts.sms]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSms {
    /// API base, `https://api.twilio.com` by default.
    pub api_url: Option<String>,
    /// Account SID.
    pub account_sid: String,
    /// Auth token (secret).
    pub auth_token: String,
    /// The sending number, E.164.
    pub from: String,
    /// Send as WhatsApp messages through the same API (`whatsapp:` addresses): two-way SMS is
    /// not available on Twilio in India, so replies that acknowledge alerts come by WhatsApp.
    pub whatsapp: Option<bool>,
}

/// `[alerts.email]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEmail {
    /// SMTP relay host (plain SMTP on a trusted network; the relay does TLS onwards).
    pub smtp_host: String,
    /// Port, 25 by default.
    pub smtp_port: Option<u16>,
    /// Sender address.
    pub from: String,
}

/// `[alerts.webhook]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    /// Where to POST.
    pub url: String,
    /// HMAC-SHA256 key for the `X-Tipline-Signature` header (secret).
    pub secret: String,
}

/// Validated alert settings.
#[derive(Clone, Debug)]
pub struct Alerts {
    /// SMS gateway.
    pub sms: Option<Sms>,
    /// SMTP relay.
    pub email: Option<Email>,
    /// Webhook.
    pub webhook: Option<Webhook>,
    /// A claimed message is this node's for this long; a node that dies mid-send leaves it to
    /// another once it runs out. An attempt is cut at half the lease, so that its outcome is
    /// recorded before another node may take the message over.
    pub lease_seconds: u64,
    /// The escalation pass runs this often on every node.
    pub escalation_every_seconds: u64,
}

/// The default lease: well beyond one attempt's timeout.
pub const LEASE_SECONDS: u64 = 60;
/// The default escalation period: a rung is climbed at most this late.
pub const ESCALATION_EVERY_SECONDS: u64 = 15;

impl Default for Alerts {
    fn default() -> Self {
        Self {
            sms: None,
            email: None,
            webhook: None,
            lease_seconds: LEASE_SECONDS,
            escalation_every_seconds: ESCALATION_EVERY_SECONDS,
        }
    }
}

/// SMS gateway settings.
#[derive(Clone, Debug)]
pub struct Sms {
    /// API base without a trailing slash.
    pub api_url: String,
    /// Account SID.
    pub account_sid: String,
    /// Auth token.
    pub auth_token: SecretString,
    /// Sending number.
    pub from: String,
    /// WhatsApp instead of SMS.
    pub whatsapp: bool,
}

/// SMTP settings.
#[derive(Clone, Debug)]
pub struct Email {
    /// Host.
    pub smtp_host: String,
    /// Port.
    pub smtp_port: u16,
    /// Sender.
    pub from: String,
}

/// Webhook settings.
#[derive(Clone, Debug)]
pub struct Webhook {
    /// URL.
    pub url: String,
    /// Signing key.
    pub secret: SecretString,
}

fn http_url(name: &str, url: &str) -> Result<String, String> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url.trim_end_matches('/').to_owned())
    } else {
        Err(format!(
            "{name} = `{url}` must start with https:// or http://"
        ))
    }
}

/// A number of seconds from the file, within 1..=3600.
fn seconds(name: &str, value: Option<u64>, default: u64) -> Result<u64, String> {
    match value.unwrap_or(default) {
        s @ 1..=3600 => Ok(s),
        s => Err(format!("alerts.{name} = {s} must be between 1 and 3600")),
    }
}

impl RawAlerts {
    /// Checks the values; messages name the key to fix.
    pub fn validate(self) -> Result<Alerts, String> {
        let lease_seconds = seconds("lease_seconds", self.lease_seconds, LEASE_SECONDS)?;
        let escalation_every_seconds = seconds(
            "escalation_every_seconds",
            self.escalation_every_seconds,
            ESCALATION_EVERY_SECONDS,
        )?;
        let sms = match self.sms {
            Some(s) => {
                if !s.from.starts_with('+') || s.from.len() < 8 {
                    return Err(format!(
                        "alerts.sms.from = `{}` must be a number like +919812345678",
                        s.from
                    ));
                }
                Some(Sms {
                    api_url: http_url(
                        "alerts.sms.api_url",
                        s.api_url.as_deref().unwrap_or("https://api.twilio.com"),
                    )?,
                    account_sid: s.account_sid,
                    auth_token: SecretString::from(s.auth_token),
                    from: s.from,
                    whatsapp: s.whatsapp.unwrap_or(false),
                })
            }
            None => None,
        };
        let email = match self.email {
            Some(e) => {
                if !e.from.contains('@') || e.from.contains(['\r', '\n', '<', '>']) {
                    return Err(format!(
                        "alerts.email.from = `{}` is not an address",
                        e.from
                    ));
                }
                Some(Email {
                    smtp_host: e.smtp_host,
                    smtp_port: e.smtp_port.unwrap_or(25),
                    from: e.from,
                })
            }
            None => None,
        };
        let webhook = match self.webhook {
            Some(w) => {
                if w.secret.len() < 16 {
                    return Err("alerts.webhook.secret must be at least 16 characters".into());
                }
                Some(Webhook {
                    url: http_url("alerts.webhook.url", &w.url)?,
                    secret: SecretString::from(w.secret),
                })
            }
            None => None,
        };
        Ok(Alerts {
            sms,
            email,
            webhook,
            lease_seconds,
            escalation_every_seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<Alerts, String> {
        toml::from_str::<RawAlerts>(toml_text)
            .map_err(|e| e.to_string())?
            .validate()
    }

    #[test]
    fn timings_default_and_stay_in_range() {
        let a = parse("").unwrap();
        assert_eq!((a.lease_seconds, a.escalation_every_seconds), (60, 15));
        let a = parse("lease_seconds = 3\nescalation_every_seconds = 1").unwrap();
        assert_eq!((a.lease_seconds, a.escalation_every_seconds), (3, 1));
        let err = parse("lease_seconds = 0").unwrap_err();
        assert!(err.contains("alerts.lease_seconds"), "{err}");
        let err = parse("escalation_every_seconds = 3601").unwrap_err();
        assert!(err.contains("alerts.escalation_every_seconds"), "{err}");
    }
}
