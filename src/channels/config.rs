//! Where provider channels come in, as the `[channels]` table of the config file sets it. A
//! channel that is not configured answers 404 at its webhook.

use secrecy::SecretString;
use serde::Deserialize;

/// `[channels]` as written in the file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannels {
    /// SMS and WhatsApp through Twilio's Messaging webhook.
    pub twilio: Option<RawTwilio>,
}

/// `[channels.twilio]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTwilio {
    /// API base, `https://api.twilio.com` by default (for relaying police messages).
    pub api_url: Option<String>,
    /// Account SID (requests for another account are refused).
    pub account_sid: String,
    /// Auth token: the key of `X-Twilio-Signature` (secret).
    pub auth_token: String,
}

/// Validated channel settings.
#[derive(Clone, Debug, Default)]
pub struct Channels {
    /// Twilio Messaging.
    pub twilio: Option<Twilio>,
}

/// Twilio settings.
#[derive(Clone, Debug)]
pub struct Twilio {
    /// API base without a trailing slash.
    pub api_url: String,
    /// Account SID.
    pub account_sid: String,
    /// Auth token.
    pub auth_token: SecretString,
}

impl RawChannels {
    /// Checks the values; messages name the key to fix.
    pub fn validate(self) -> Result<Channels, String> {
        let twilio = match self.twilio {
            Some(t) => {
                if !t.account_sid.starts_with("AC") || t.auth_token.len() < 8 {
                    return Err(
                        "channels.twilio: account_sid must start with AC and auth_token must be set"
                            .into(),
                    );
                }
                let api_url = t.api_url.as_deref().unwrap_or("https://api.twilio.com");
                if !api_url.starts_with("https://") && !api_url.starts_with("http://") {
                    return Err(format!(
                        "channels.twilio.api_url = `{api_url}` must start with https:// or http://"
                    ));
                }
                Some(Twilio {
                    api_url: api_url.trim_end_matches('/').to_owned(),
                    account_sid: t.account_sid,
                    auth_token: SecretString::from(t.auth_token),
                })
            }
            None => None,
        };
        Ok(Channels { twilio })
    }
}
