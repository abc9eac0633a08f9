//! Messages to tipsters on their own channel (answers and relayed police messages), within each
//! provider's rules: WhatsApp takes free text for 24 hours after the tipster's last message and
//! an approved template after that (Meta's `type: template`, Twilio's `ContentSid`), where one is
//! configured; Messenger takes free text for 24 hours and, for up to 7 days, a human officer's
//! message tagged `HUMAN_AGENT`. Past that a message fails visibly on the range dashboard, and the
//! tipster sees it on follow-up.
//!
//! Must never: send free text outside a window (the provider refuses it, 131047, and counts it
//! against the number's quality); put the tipster's address anywhere but the request.

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::send::{Failure, Handed, answer};
use super::{Payload, Relay};
use crate::app::Core;
use crate::channels::config::ByLanguage;
use crate::triage::language::Language as Written;

/// How long after the 24-hour window Messenger still takes a human officer's message.
const HUMAN_AGENT_MS: i64 = 6 * 24 * 3_600_000;

/// Where a message stands against its channel's window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Free text may go (or the channel has no window).
    Open,
    /// Past 24 hours, within 7 days of the tipster's last message.
    HumanAgent,
    /// Past 7 days.
    Closed,
}

impl Window {
    /// The window of `relay` at `now`.
    pub fn of(relay: &Relay, now: i64) -> Self {
        match relay.window_until {
            None => Self::Open,
            Some(until) if now <= until => Self::Open,
            Some(until) if now <= until + HUMAN_AGENT_MS => Self::HumanAgent,
            Some(_) => Self::Closed,
        }
    }
}

/// The refusal for a message past its window with no way to send it.
fn outside() -> Failure {
    Failure::Permanent(
        "outside the channel's 24-hour window and no template configured: the tipster sees it on follow-up"
            .into(),
    )
}

/// The message for a tipster in a payload.
pub(super) fn relay_of(payload: &Payload) -> Result<&Relay, Failure> {
    payload
        .relay
        .as_ref()
        .ok_or_else(|| Failure::Permanent("not a message for a tipster".into()))
}

/// The message as one template parameter: WhatsApp refuses parameters with new lines, tabs or
/// more than four spaces in a row.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The template value for the language the message is written in (officers answer in the
/// tipster's language): English, or Hindi for Devanagari, Hindi in Latin letters and mixed text.
pub fn for_language<'a>(core: &Core, values: &'a ByLanguage, text: &str) -> &'a str {
    let devanagari = text.chars().any(|c| ('\u{0900}'..='\u{097F}').contains(&c));
    if !devanagari && core.triage.language(text) == Written::English {
        &values.english
    } else {
        &values.hindi
    }
}

/// Meta's Cloud API: free text inside the window, the configured template outside it.
pub(super) async fn meta(
    core: &Core,
    client: &reqwest::Client,
    payload: &Payload,
) -> Result<Handed, Failure> {
    let meta = core
        .channels
        .meta
        .as_ref()
        .ok_or_else(|| Failure::Permanent("channels.meta is not configured".into()))?;
    let relay = relay_of(payload)?;
    let mut body = match Window::of(relay, core.clock.now_ms()) {
        Window::Open => json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "type": "text",
            "text": { "preview_url": false, "body": relay.text },
        }),
        Window::HumanAgent | Window::Closed => {
            let template = core.channels.templates.meta.as_ref().ok_or_else(outside)?;
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "type": "template",
                "template": {
                    "name": template.name,
                    "language": { "code": for_language(core, &template.language, &relay.text) },
                    "components": [{
                        "type": "body",
                        "parameters": [{ "type": "text", "text": one_line(&relay.text) }],
                    }],
                },
            })
        }
    };
    let to = payload.to.as_str();
    // A business-scoped user id (`IN.…`) goes as `recipient`, a number as `to`.
    body[if to.contains('.') { "recipient" } else { "to" }] = to.into();
    let request = client
        .post(format!("{}/{}/messages", meta.graph_url, relay.via))
        .bearer_auth(meta.access_token.expose_secret())
        .json(&body);
    let answered = answer(request.send().await).await?;
    Ok(Handed::named("meta", &answered["messages"][0]["id"]))
}

/// Twilio (SMS, or WhatsApp as `whatsapp:+91…`): free text inside the window, the configured
/// Content template outside it; with a status callback where Twilio can reach us.
pub(super) async fn twilio(
    core: &Core,
    client: &reqwest::Client,
    payload: &Payload,
) -> Result<Handed, Failure> {
    let twilio = core
        .channels
        .twilio
        .as_ref()
        .ok_or_else(|| Failure::Permanent("channels.twilio is not configured".into()))?;
    let relay = relay_of(payload)?;
    let mut form = vec![("To", payload.to.clone()), ("From", relay.via.clone())];
    match Window::of(relay, core.clock.now_ms()) {
        Window::Open => form.push(("Body", relay.text.clone())),
        Window::HumanAgent | Window::Closed => {
            let sids = core
                .channels
                .templates
                .twilio
                .as_ref()
                .ok_or_else(outside)?;
            let variables = json!({ "1": one_line(&relay.text) }).to_string();
            form.push((
                "ContentSid",
                for_language(core, sids, &relay.text).to_owned(),
            ));
            form.push(("ContentVariables", variables));
        }
    }
    form.extend(status_callback(core));
    let url = format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        twilio.api_url, twilio.account_sid
    );
    let request = client
        .post(url)
        .basic_auth(&twilio.account_sid, Some(twilio.auth_token.expose_secret()))
        .form(&form);
    let answered = answer(request.send().await).await?;
    Ok(Handed::named("twilio", &answered["sid"]))
}

/// `StatusCallback` for a Twilio message, when the public URL is one Twilio can reach (https;
/// the default `http://` listen address is not).
pub(super) fn status_callback(core: &Core) -> Option<(&'static str, String)> {
    let base = core.public_url.trim_end_matches('/');
    base.starts_with("https://")
        .then(|| ("StatusCallback", format!("{base}/hooks/twilio/status")))
}

/// A Telegram bot's `sendMessage` (no window; Telegram sends no delivery reports).
pub(super) async fn telegram(
    core: &Core,
    client: &reqwest::Client,
    payload: &Payload,
) -> Result<Handed, Failure> {
    let relay = relay_of(payload)?;
    let bot = core
        .channels
        .telegram
        .iter()
        .find(|b| b.name == relay.via)
        .ok_or_else(|| Failure::Permanent(format!("no Telegram bot `{}`", relay.via)))?;
    let chat_id: i64 = payload
        .to
        .parse()
        .map_err(|_| Failure::Permanent("not a Telegram chat id".into()))?;
    let request = client
        .post(format!(
            "{}/bot{}/sendMessage",
            bot.api_url,
            bot.token.expose_secret()
        ))
        .json(&json!({ "chat_id": chat_id, "text": relay.text }));
    let answered = answer(request.send().await).await?;
    // Message ids count up per chat: the chat makes them unique.
    let id = answered["result"]["message_id"]
        .as_i64()
        .map(|id| Value::from(format!("{chat_id}:{id}")));
    Ok(Handed::named("telegram", &id.unwrap_or_default()))
}

/// Messenger: a response inside 24 hours, a `HUMAN_AGENT` message up to 7 days, nothing after.
pub(super) async fn messenger(
    core: &Core,
    client: &reqwest::Client,
    payload: &Payload,
) -> Result<Handed, Failure> {
    let m = core
        .channels
        .messenger
        .as_ref()
        .ok_or_else(|| Failure::Permanent("channels.messenger is not configured".into()))?;
    let relay = relay_of(payload)?;
    let mut body = json!({
        "recipient": { "id": payload.to },
        "messaging_type": "RESPONSE",
        "message": { "text": relay.text },
    });
    match Window::of(relay, core.clock.now_ms()) {
        Window::Open => {}
        // Only police messages carry a window, and officers write them: human-sent.
        Window::HumanAgent => {
            body["messaging_type"] = "MESSAGE_TAG".into();
            body["tag"] = "HUMAN_AGENT".into();
        }
        Window::Closed => {
            return Err(Failure::Permanent(
                "more than 7 days after the tipster's last message: the tipster sees it on follow-up"
                    .into(),
            ));
        }
    }
    let account = token_of(&m.pages, &relay.via)?;
    let request = client
        .post(format!("{}/{}/messages", m.graph_url, relay.via))
        .bearer_auth(account)
        .json(&body);
    let answered = answer(request.send().await).await?;
    let mut handed = Handed::named("messenger", &answered["message_id"]);
    handed.recipient = Some((relay.via.clone(), payload.to.clone()));
    Ok(handed)
}

/// An X direct message (no window; X sends no delivery reports to webhooks).
pub(super) async fn x(
    core: &Core,
    client: &reqwest::Client,
    payload: &Payload,
) -> Result<Handed, Failure> {
    let xc = core
        .channels
        .x
        .as_ref()
        .ok_or_else(|| Failure::Permanent("channels.x is not configured".into()))?;
    let relay = relay_of(payload)?;
    if !payload.to.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::Permanent("not an X user id".into()));
    }
    let url = format!(
        "{}/2/dm_conversations/with/{}/messages",
        xc.api_url, payload.to
    );
    let request = client
        .post(url)
        .bearer_auth(token_of(&xc.accounts, &relay.via)?)
        .json(&json!({ "text": relay.text }));
    let answered = answer(request.send().await).await?;
    Ok(Handed::named("x", &answered["data"]["dm_event_id"]))
}

fn token_of<'a>(
    accounts: &'a [crate::channels::config::Account],
    id: &str,
) -> Result<&'a str, Failure> {
    accounts
        .iter()
        .find(|a| a.id == id)
        .map(|a| a.token.expose_secret())
        .ok_or_else(|| Failure::Permanent(format!("no token for `{id}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(window_until: Option<i64>) -> Relay {
        Relay {
            text: String::new(),
            via: String::new(),
            window_until,
        }
    }

    #[test]
    fn windows_open_for_a_day_and_tag_for_a_week() {
        let day = 24 * 3_600_000;
        assert_eq!(Window::of(&relay(None), i64::MAX), Window::Open);
        assert_eq!(Window::of(&relay(Some(day)), day), Window::Open);
        assert_eq!(Window::of(&relay(Some(day)), day + 1), Window::HumanAgent);
        assert_eq!(Window::of(&relay(Some(day)), 7 * day), Window::HumanAgent);
        assert_eq!(Window::of(&relay(Some(day)), 7 * day + 1), Window::Closed);
    }

    #[test]
    fn template_parameters_are_one_line() {
        assert_eq!(
            one_line(" थाने आइए।\n\nकल  सुबह\t10 बजे     "),
            "थाने आइए। कल सुबह 10 बजे"
        );
    }
}
