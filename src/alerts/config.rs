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
#[derive(Clone, Debug, Default)]
pub struct Alerts {
    /// SMS gateway.
    pub sms: Option<Sms>,
    /// SMTP relay.
    pub email: Option<Email>,
    /// Webhook.
    pub webhook: Option<Webhook>,
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

impl RawAlerts {
    /// Checks the values; messages name the key to fix.
    pub fn validate(self) -> Result<Alerts, String> {
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
        })
    }
}
