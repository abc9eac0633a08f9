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
    /// WhatsApp through Meta's Cloud API.
    pub meta: Option<RawMeta>,
    /// Telegram bots (`[[channels.telegram]]`), one per district or for the range.
    #[serde(default)]
    pub telegram: Vec<RawBot>,
    /// Facebook Messenger, for the districts' pages.
    pub messenger: Option<RawMessenger>,
    /// X direct messages, for the districts' accounts.
    pub x: Option<RawX>,
    /// The voice line on Exotel (App Bazaar call flows).
    pub exotel: Option<RawExotel>,
    /// Approved WhatsApp templates for police messages outside the 24-hour window.
    pub templates: Option<RawTemplates>,
}

/// `[channels.templates]`: the approved WhatsApp templates a police message is sent in once the
/// tipster's 24-hour window has closed, one per tipster language. Without them such a message
/// fails visibly (the tipster sees it on follow-up).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTemplates {
    /// Meta's Cloud API: a template's name and its language codes.
    pub meta: Option<RawMetaTemplate>,
    /// WhatsApp through Twilio: a Content SID (`HX…`) per language.
    pub twilio: Option<RawTwilioTemplate>,
}

/// `[channels.templates.meta]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetaTemplate {
    /// The approved template's name (`tip_police_message`): lower-case letters, digits and `_`.
    pub name: String,
    /// The language code it was approved in for Hindi-speaking tipsters (`hi`).
    pub hindi: String,
    /// The language code for English-speaking tipsters (`en`, `en_US`, ...).
    pub english: String,
}

/// `[channels.templates.twilio]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTwilioTemplate {
    /// The Content SID of the Hindi template.
    pub hindi: String,
    /// The Content SID of the English template.
    pub english: String,
}

/// Validated templates.
#[derive(Clone, Debug, Default)]
pub struct Templates {
    /// Meta's template, if configured.
    pub meta: Option<MetaTemplate>,
    /// Twilio's Content SIDs, if configured.
    pub twilio: Option<ByLanguage>,
}

/// A Meta template: its name and a language code per tipster language.
#[derive(Clone, Debug)]
pub struct MetaTemplate {
    /// Template name.
    pub name: String,
    /// Language codes.
    pub language: ByLanguage,
}

/// One value per tipster language.
#[derive(Clone, Debug)]
pub struct ByLanguage {
    /// For tipsters who write Hindi (in Devanagari or Latin letters).
    pub hindi: String,
    /// For tipsters who write English.
    pub english: String,
}

impl RawTemplates {
    fn validate(self) -> Result<Templates, String> {
        let meta = match self.meta {
            Some(m) => {
                let name_ok = (1..=512).contains(&m.name.len())
                    && m.name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if !name_ok {
                    return Err(format!(
                        "channels.templates.meta.name = `{}` must be a template name (a-z, 0-9, _)",
                        m.name
                    ));
                }
                for (key, code) in [("hindi", &m.hindi), ("english", &m.english)] {
                    if !language_code(code) {
                        return Err(format!(
                            "channels.templates.meta.{key} = `{code}` must be a language code such as `hi` or `en_US`"
                        ));
                    }
                }
                Some(MetaTemplate {
                    name: m.name,
                    language: ByLanguage {
                        hindi: m.hindi,
                        english: m.english,
                    },
                })
            }
            None => None,
        };
        let twilio = match self.twilio {
            Some(t) => {
                for (key, sid) in [("hindi", &t.hindi), ("english", &t.english)] {
                    let ok = sid.len() == 34
                        && sid.starts_with("HX")
                        && sid[2..].bytes().all(|b| b.is_ascii_hexdigit());
                    if !ok {
                        return Err(format!(
                            "channels.templates.twilio.{key} = `{sid}` must be a Content SID (HX and 32 hex digits)"
                        ));
                    }
                }
                Some(ByLanguage {
                    hindi: t.hindi,
                    english: t.english,
                })
            }
            None => None,
        };
        Ok(Templates { meta, twilio })
    }
}

/// `hi`, `en`, `en_US`, `pt_BR`: two or three lower-case letters, perhaps `_` and a region.
fn language_code(code: &str) -> bool {
    let (lang, region) = code.split_once('_').unwrap_or((code, ""));
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && (region.is_empty()
            || (region.len() == 2 && region.bytes().all(|b| b.is_ascii_uppercase())))
        && !code.ends_with('_')
}

/// `[channels.exotel]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExotel {
    /// The secret in the webhook paths, `/hooks/exotel/{token}/...` (Exotel signs nothing; 24 to
    /// 128 of `A-Z a-z 0-9 _ -`).
    pub token: String,
    /// The account SID (in the API's paths).
    pub account_sid: String,
    /// API key: the user name of the API's Basic auth.
    pub api_key: String,
    /// API token: its password (secret).
    pub api_token: String,
    /// API base, `https://api.in.exotel.com` (Mumbai) by default.
    pub api_url: Option<String>,
    /// Where recordings may be fetched from (scheme, host and port), `https://recordings.exotel.com`
    /// by default; a `RecordingUrl` anywhere else is refused.
    pub recording_origins: Option<Vec<String>>,
    /// The flow a missed call is called back into (`http://my.exotel.com/{sid}/exoml/start_voice/
    /// {app_id}`); none: no call-backs.
    pub callback_flow_url: Option<String>,
    /// The ExoPhones and their districts (none: the range's).
    #[serde(default)]
    pub exophones: Vec<RawExoPhone>,
}

/// `[[channels.exotel.exophones]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExoPhone {
    /// The number as Exotel sends it in `CallTo` (`08047112233`) or in E.164.
    pub number: String,
    /// Its district (none: the range's).
    pub district: Option<String>,
}

/// `[channels.messenger]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMessenger {
    /// The app secret: the key of `X-Hub-Signature-256` (secret).
    pub app_secret: String,
    /// The token Meta echoes in the subscription handshake (secret).
    pub verify_token: String,
    /// Graph API base with its version, `https://graph.facebook.com/v25.0` by default.
    pub graph_url: Option<String>,
    /// The pages: page id, its district (none: the range's) and its page access token.
    #[serde(default)]
    pub pages: Vec<RawAccount>,
}

/// `[channels.x]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawX {
    /// The app's consumer secret: the key of the CRC answer and of
    /// `x-twitter-webhooks-signature` (secret).
    pub consumer_secret: String,
    /// API base, `https://api.x.com` by default.
    pub api_url: Option<String>,
    /// The accounts: user id, its district and a user access token with `dm.write`.
    #[serde(default)]
    pub accounts: Vec<RawAccount>,
}

/// A page or account of a district.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    /// Page id or user id.
    pub id: String,
    /// Its district (none: the range's).
    pub district: Option<String>,
    /// The token to send with (secret).
    pub token: String,
}

/// `[[channels.telegram]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBot {
    /// The district whose tips it takes (none: the range's).
    pub district: Option<String>,
    /// The bot's token from BotFather (secret).
    pub token: String,
    /// The `secret_token` given to setWebhook (secret; 1 to 256 of `A-Z a-z 0-9 _ -`).
    pub secret_token: String,
    /// Bot API base, `https://api.telegram.org` by default.
    pub api_url: Option<String>,
}

/// `[channels.meta]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    /// The app secret: the key of `X-Hub-Signature-256` (secret).
    pub app_secret: String,
    /// The token Meta echoes in the subscription handshake (secret).
    pub verify_token: String,
    /// The access token for sending (secret).
    pub access_token: String,
    /// Graph API base with its version, `https://graph.facebook.com/v25.0` by default.
    pub graph_url: Option<String>,
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
    /// Meta's WhatsApp Cloud API.
    pub meta: Option<Meta>,
    /// Telegram bots.
    pub telegram: Vec<Bot>,
    /// Facebook Messenger.
    pub messenger: Option<Messenger>,
    /// X direct messages.
    pub x: Option<X>,
    /// The voice line on Exotel.
    pub exotel: Option<Exotel>,
    /// WhatsApp templates for police messages outside the 24-hour window.
    pub templates: Templates,
}

/// Exotel settings.
#[derive(Clone, Debug)]
pub struct Exotel {
    /// The path secret.
    pub token: SecretString,
    /// Account SID.
    pub account_sid: String,
    /// API key.
    pub api_key: String,
    /// API token.
    pub api_token: SecretString,
    /// API base without a trailing slash.
    pub api_url: String,
    /// Origins recordings are fetched from (`https://host[:port]`, as `Url::origin` writes them).
    pub recording_origins: Vec<String>,
    /// The flow a missed call is called back into.
    pub callback_flow_url: Option<String>,
    /// ExoPhone (E.164) and its district.
    pub exophones: Vec<(String, Option<crate::jurisdiction::DistrictId>)>,
}

impl RawExotel {
    fn validate(self) -> Result<Exotel, String> {
        let token_ok = (24..=128).contains(&self.token.len())
            && self
                .token
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
        if !token_ok {
            return Err("channels.exotel.token must be 24 to 128 of A-Z a-z 0-9 _ -".into());
        }
        let id_ok = |v: &str| {
            !v.is_empty()
                && v.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        };
        if !id_ok(&self.account_sid) || !id_ok(&self.api_key) || self.api_token.is_empty() {
            return Err("channels.exotel: account_sid, api_key and api_token must be set".into());
        }
        let mut recording_origins = Vec::new();
        for given in self
            .recording_origins
            .unwrap_or_else(|| vec!["https://recordings.exotel.com".into()])
        {
            let origin = reqwest::Url::parse(&given)
                .ok()
                .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
                .map(|u| u.origin().ascii_serialization())
                .ok_or_else(|| {
                    format!("channels.exotel.recording_origins: `{given}` is not an http(s) origin")
                })?;
            recording_origins.push(origin);
        }
        let mut exophones = Vec::new();
        for p in self.exophones {
            let number = super::exotel::e164(&p.number).ok_or_else(|| {
                format!(
                    "channels.exotel.exophones: `{}` is not a phone number",
                    p.number
                )
            })?;
            let district = match &p.district {
                Some(d) => Some(crate::jurisdiction::DistrictId::parse(d).ok_or_else(|| {
                    format!("channels.exotel.exophones: district = `{d}` is not a district id")
                })?),
                None => None,
            };
            exophones.push((number, district));
        }
        Ok(Exotel {
            token: SecretString::from(self.token),
            account_sid: self.account_sid,
            api_key: self.api_key,
            api_token: SecretString::from(self.api_token),
            api_url: base_url(
                "channels.exotel.api_url",
                self.api_url.as_deref(),
                "https://api.in.exotel.com",
            )?,
            recording_origins,
            callback_flow_url: match self.callback_flow_url {
                Some(url) => Some(base_url(
                    "channels.exotel.callback_flow_url",
                    Some(&url),
                    "",
                )?),
                None => None,
            },
            exophones,
        })
    }
}

/// Messenger settings.
#[derive(Clone, Debug)]
pub struct Messenger {
    /// App secret.
    pub app_secret: SecretString,
    /// Handshake token.
    pub verify_token: SecretString,
    /// Graph API base without a trailing slash.
    pub graph_url: String,
    /// The districts' pages.
    pub pages: Vec<Account>,
}

/// X settings.
#[derive(Clone, Debug)]
pub struct X {
    /// Consumer secret.
    pub consumer_secret: SecretString,
    /// API base without a trailing slash.
    pub api_url: String,
    /// The districts' accounts.
    pub accounts: Vec<Account>,
}

/// A district's page or account.
#[derive(Clone, Debug)]
pub struct Account {
    /// Page id or user id.
    pub id: String,
    /// Its district.
    pub district: Option<crate::jurisdiction::DistrictId>,
    /// Token to send with.
    pub token: SecretString,
}

fn base_url(key: &str, given: Option<&str>, default: &str) -> Result<String, String> {
    let url = given.unwrap_or(default);
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url.trim_end_matches('/').to_owned())
    } else {
        Err(format!(
            "{key} = `{url}` must start with https:// or http://"
        ))
    }
}

fn accounts(key: &str, raw: Vec<RawAccount>) -> Result<Vec<Account>, String> {
    let mut out: Vec<Account> = Vec::new();
    for a in raw {
        let district = match &a.district {
            Some(d) => Some(
                crate::jurisdiction::DistrictId::parse(d)
                    .ok_or_else(|| format!("{key}: district = `{d}` is not a district id"))?,
            ),
            None => None,
        };
        if a.id.is_empty() || !a.id.bytes().all(|b| b.is_ascii_digit()) || a.token.is_empty() {
            return Err(format!(
                "{key}: each needs a numeric id and a token (got id `{}`)",
                a.id
            ));
        }
        if out.iter().any(|o| o.id == a.id) {
            return Err(format!("{key}: id `{}` is given twice", a.id));
        }
        out.push(Account {
            id: a.id,
            district,
            token: SecretString::from(a.token),
        });
    }
    Ok(out)
}

/// A Telegram bot.
#[derive(Clone, Debug)]
pub struct Bot {
    /// Its name in the webhook path (`/hooks/telegram/NAME`): the district id, or `range`.
    pub name: String,
    /// Its district.
    pub district: Option<crate::jurisdiction::DistrictId>,
    /// Token.
    pub token: SecretString,
    /// Webhook secret.
    pub secret_token: SecretString,
    /// Bot API base without a trailing slash.
    pub api_url: String,
}

/// Meta settings.
#[derive(Clone, Debug)]
pub struct Meta {
    /// App secret.
    pub app_secret: SecretString,
    /// Handshake token.
    pub verify_token: SecretString,
    /// Sending token.
    pub access_token: SecretString,
    /// Graph API base without a trailing slash.
    pub graph_url: String,
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
        let meta = match self.meta {
            Some(m) => {
                if m.app_secret.len() < 8 || m.verify_token.len() < 8 || m.access_token.is_empty() {
                    return Err("channels.meta: app_secret and verify_token need at least 8 characters, and access_token must be set".into());
                }
                let graph_url = m
                    .graph_url
                    .as_deref()
                    .unwrap_or("https://graph.facebook.com/v25.0");
                if !graph_url.starts_with("https://") && !graph_url.starts_with("http://") {
                    return Err(format!(
                        "channels.meta.graph_url = `{graph_url}` must start with https:// or http://"
                    ));
                }
                Some(Meta {
                    app_secret: SecretString::from(m.app_secret),
                    verify_token: SecretString::from(m.verify_token),
                    access_token: SecretString::from(m.access_token),
                    graph_url: graph_url.trim_end_matches('/').to_owned(),
                })
            }
            None => None,
        };
        let mut telegram: Vec<Bot> = Vec::new();
        for b in self.telegram {
            let district = match &b.district {
                Some(d) => Some(crate::jurisdiction::DistrictId::parse(d).ok_or_else(|| {
                    format!("channels.telegram: district = `{d}` is not a district id")
                })?),
                None => None,
            };
            let name = b.district.clone().unwrap_or_else(|| "range".into());
            let secret_ok = (1..=256).contains(&b.secret_token.len())
                && b.secret_token
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
            if !secret_ok || b.secret_token.len() < 16 || !b.token.contains(':') {
                return Err(format!(
                    "channels.telegram `{name}`: token must be BotFather's (`123:ABC…`) and secret_token 16 to 256 of A-Z a-z 0-9 _ -"
                ));
            }
            if telegram.iter().any(|t| t.name == name) {
                return Err(format!("channels.telegram: two bots for `{name}`"));
            }
            let api_url = b.api_url.as_deref().unwrap_or("https://api.telegram.org");
            if !api_url.starts_with("https://") && !api_url.starts_with("http://") {
                return Err(format!(
                    "channels.telegram.api_url = `{api_url}` must start with https:// or http://"
                ));
            }
            telegram.push(Bot {
                name,
                district,
                token: SecretString::from(b.token),
                secret_token: SecretString::from(b.secret_token),
                api_url: api_url.trim_end_matches('/').to_owned(),
            });
        }
        let messenger = match self.messenger {
            Some(m) => {
                if m.app_secret.len() < 8 || m.verify_token.len() < 8 {
                    return Err("channels.messenger: app_secret and verify_token need at least 8 characters".into());
                }
                Some(Messenger {
                    app_secret: SecretString::from(m.app_secret),
                    verify_token: SecretString::from(m.verify_token),
                    graph_url: base_url(
                        "channels.messenger.graph_url",
                        m.graph_url.as_deref(),
                        "https://graph.facebook.com/v25.0",
                    )?,
                    pages: accounts("channels.messenger.pages", m.pages)?,
                })
            }
            None => None,
        };
        let x = match self.x {
            Some(x) => {
                if x.consumer_secret.len() < 8 {
                    return Err("channels.x: consumer_secret needs at least 8 characters".into());
                }
                Some(X {
                    consumer_secret: SecretString::from(x.consumer_secret),
                    api_url: base_url(
                        "channels.x.api_url",
                        x.api_url.as_deref(),
                        "https://api.x.com",
                    )?,
                    accounts: accounts("channels.x.accounts", x.accounts)?,
                })
            }
            None => None,
        };
        Ok(Channels {
            twilio,
            meta,
            telegram,
            messenger,
            x,
            exotel: self.exotel.map(RawExotel::validate).transpose()?,
            templates: self
                .templates
                .map(RawTemplates::validate)
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exotel(token: &str) -> RawExotel {
        RawExotel {
            token: token.into(),
            account_sid: "tipline1".into(),
            api_key: "key".into(),
            api_token: "secret".into(),
            api_url: None,
            recording_origins: None,
            callback_flow_url: None,
            exophones: vec![RawExoPhone {
                number: "07759400100".into(),
                district: Some("korba".into()),
            }],
        }
    }

    #[test]
    fn templates_are_checked() {
        let meta = |name: &str, hindi: &str| RawTemplates {
            meta: Some(RawMetaTemplate {
                name: name.into(),
                hindi: hindi.into(),
                english: "en_US".into(),
            }),
            twilio: None,
        };
        let ok = meta("tip_police_message", "hi").validate().unwrap();
        let m = ok.meta.unwrap();
        assert_eq!(
            (m.name.as_str(), m.language.english.as_str()),
            ("tip_police_message", "en_US")
        );
        for bad in [
            meta("Tip Message", "hi"),
            meta("tip", "Hindi"),
            meta("tip", "hi_"),
            meta("tip", "en_us"),
        ] {
            assert!(bad.validate().is_err());
        }
        let twilio = |sid: &str| RawTemplates {
            meta: None,
            twilio: Some(RawTwilioTemplate {
                hindi: sid.into(),
                english: sid.into(),
            }),
        };
        let sid = format!("HX{}", "0a".repeat(16));
        assert_eq!(twilio(&sid).validate().unwrap().twilio.unwrap().hindi, sid);
        assert!(twilio("HX123").validate().is_err());
        assert!(twilio(&sid.replace("HX", "MG")).validate().is_err());
    }

    #[test]
    fn exotel_settings_are_checked() {
        let token = "a".repeat(24);
        let ok = exotel(&token).validate().unwrap();
        assert_eq!(ok.api_url, "https://api.in.exotel.com");
        assert_eq!(ok.recording_origins, ["https://recordings.exotel.com"]);
        assert_eq!(ok.exophones[0].0, "+917759400100");
        assert_eq!(
            ok.exophones[0].1.as_ref().map(|d| d.as_str()),
            Some("korba")
        );
        // An origin is kept as scheme, host and port, whatever path it was written with.
        let mut given = exotel(&token);
        given.recording_origins = Some(vec!["https://Recordings.in.exotel.com:443/x/".into()]);
        assert_eq!(
            given.validate().unwrap().recording_origins,
            ["https://recordings.in.exotel.com"]
        );
        for bad in [
            exotel("too-short"),
            exotel(&format!("{token}/")),
            RawExotel {
                recording_origins: Some(vec!["ftp://recordings.exotel.com".into()]),
                ..exotel(&token)
            },
            RawExotel {
                exophones: vec![RawExoPhone {
                    number: "hotline".into(),
                    district: None,
                }],
                ..exotel(&token)
            },
            RawExotel {
                api_key: String::new(),
                ..exotel(&token)
            },
        ] {
            assert!(bad.validate().is_err());
        }
    }
}
