//! The outbox sender: claims due messages (a lease, so a node that dies mid-send leaves them to
//! another), opens each, hands it to its gateway, and records the result: sent; or retried with
//! backoff; or, after the last attempt or a refusal no retry can fix, failed, which the range
//! dashboard shows.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::{Payload, payload_aad};
use crate::app::Core;
use crate::crypto::{encode_hex, hmac_sha256};
use crate::keyring::RANGE_SCOPE;
use crate::store::{Delivery, OutboxRow, StoreError};

/// Attempts before a message is given up as failed.
pub const MAX_ATTEMPTS: i64 = 10;
/// Messages claimed at once.
const BATCH: i64 = 50;

/// Why an attempt failed.
enum Failure {
    /// Worth trying again (network, timeout, the gateway's 5xx or 429).
    Transient(String),
    /// No retry can fix it (refused address, bad credentials, unreadable payload).
    Permanent(String),
}

/// The wait before attempt `n + 1`: 5 s, 10 s, 20 s, ... at most 10 minutes.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 8) - 1;
    (5_000 * (1_i64 << exp)).min(10 * 60_000)
}

/// One pass: delivers every due message. Returns how many were handed over.
pub async fn deliver_due(core: &Core, client: &reqwest::Client) -> Result<usize, StoreError> {
    let now = core.clock.now_ms();
    let lease = Duration::from_secs(core.alerts.lease_seconds);
    let rows = core
        .store
        .claim_outbox(now, now + lease.as_millis() as i64, BATCH)
        .await?;
    // An attempt must end well inside the lease, or another node could take the message over and
    // send it while this one still waits for the gateway. Half the default lease is more than the
    // HTTP and SMTP timeouts; only a shorter configured lease cuts attempts shorter.
    let limit = lease / 2;
    let results = futures_util::future::join_all(rows.iter().map(|r| async move {
        tokio::time::timeout(limit, attempt(core, client, r))
            .await
            .unwrap_or_else(|_| Err(Failure::Transient("no answer within half the lease".into())))
    }))
    .await;
    let mut sent = 0;
    for (row, result) in rows.iter().zip(results) {
        let delivery = match result {
            Ok(()) => {
                sent += 1;
                Delivery::Sent
            }
            Err(Failure::Permanent(error)) => Delivery::Failed { error },
            Err(Failure::Transient(error)) if row.attempts >= MAX_ATTEMPTS => {
                Delivery::Failed { error }
            }
            Err(Failure::Transient(error)) => Delivery::Retry {
                error,
                at: core.clock.now_ms() + backoff_ms(row.attempts),
            },
        };
        if let Delivery::Failed { error } = &delivery {
            // Only ids: the destination and the message stay sealed.
            tracing::warn!(outbox_id = row.outbox_id, channel = %row.channel, %error, "alert given up");
        }
        core.store
            .finish_outbox(row.outbox_id, row.attempts, delivery, core.clock.now_ms())
            .await?;
    }
    Ok(sent)
}

async fn attempt(core: &Core, client: &reqwest::Client, row: &OutboxRow) -> Result<(), Failure> {
    let plain = core
        .keyring
        .open(
            RANGE_SCOPE,
            &payload_aad(&row.outbox_key),
            &row.payload_sealed,
        )
        .map_err(|e| Failure::Permanent(format!("cannot open the payload: {e}")))?;
    let payload: Payload = serde_json::from_slice(&plain)
        .map_err(|e| Failure::Permanent(format!("unreadable payload: {e}")))?;
    let alerts = &core.alerts;
    match row.channel.as_str() {
        "sms" => {
            let sms = alerts
                .sms
                .as_ref()
                .ok_or_else(|| Failure::Permanent("SMS is not configured".into()))?;
            let url = format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                sms.api_url, sms.account_sid
            );
            let address = |number: &str| match sms.whatsapp {
                true => format!("whatsapp:{number}"),
                false => number.to_owned(),
            };
            let form = [
                ("To", address(&payload.to)),
                ("From", address(&sms.from)),
                ("Body", payload.text()),
            ];
            let request = client
                .post(url)
                .basic_auth(&sms.account_sid, Some(sms.auth_token.expose_secret()))
                .form(&form);
            answer(request.send().await).await
        }
        "webhook" => {
            let hook = alerts
                .webhook
                .as_ref()
                .ok_or_else(|| Failure::Permanent("the webhook is not configured".into()))?;
            let facts = payload
                .facts
                .as_ref()
                .ok_or_else(|| Failure::Permanent("only alerts go to the webhook".into()))?;
            let body = serde_json::to_vec(&serde_json::json!({
                "delivery": row.outbox_key,
                "alert": facts,
            }))
            .map_err(|e| Failure::Permanent(e.to_string()))?;
            let signature = encode_hex(&hmac_sha256(hook.secret.expose_secret().as_bytes(), &body));
            let request = client
                .post(&hook.url)
                .header("content-type", "application/json")
                .header("x-tipline-delivery", &row.outbox_key)
                .header("x-tipline-signature", format!("sha256={signature}"))
                .body(body);
            answer(request.send().await).await
        }
        "email" => {
            let email = alerts
                .email
                .as_ref()
                .ok_or_else(|| Failure::Permanent("email is not configured".into()))?;
            super::smtp::send(
                &email.smtp_host,
                email.smtp_port,
                &email.from,
                &payload.to,
                &payload.subject(),
                &payload.text(),
                &row.outbox_key.replace(':', "."),
            )
            .await
            .map_err(Failure::Transient)
        }
        "tipster_twilio" => {
            let twilio =
                core.channels.twilio.as_ref().ok_or_else(|| {
                    Failure::Permanent("channels.twilio is not configured".into())
                })?;
            let relay = relay_of(core, &payload)?;
            let url = format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                twilio.api_url, twilio.account_sid
            );
            let form = [
                ("To", payload.to.as_str()),
                ("From", relay.via.as_str()),
                ("Body", relay.text.as_str()),
            ];
            let request = client
                .post(url)
                .basic_auth(&twilio.account_sid, Some(twilio.auth_token.expose_secret()))
                .form(&form);
            answer(request.send().await).await
        }
        "tipster_meta" => {
            let meta = core
                .channels
                .meta
                .as_ref()
                .ok_or_else(|| Failure::Permanent("channels.meta is not configured".into()))?;
            let relay = relay_of(core, &payload)?;
            let to = payload.to.as_str();
            let mut body = serde_json::json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "type": "text",
                "text": { "preview_url": false, "body": relay.text },
            });
            // A business-scoped user id (`IN.…`) goes as `recipient`, a number as `to`.
            body[if to.contains('.') { "recipient" } else { "to" }] = to.into();
            let request = client
                .post(format!("{}/{}/messages", meta.graph_url, relay.via))
                .bearer_auth(meta.access_token.expose_secret())
                .json(&body);
            answer(request.send().await).await
        }
        "tipster_telegram" => {
            let relay = relay_of(core, &payload)?;
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
                .json(&serde_json::json!({ "chat_id": chat_id, "text": relay.text }));
            answer(request.send().await).await
        }
        "tipster_messenger" | "tipster_x" => {
            let relay = relay_of(core, &payload)?;
            let channels = &core.channels;
            let (url, accounts, body) = if row.channel == "tipster_messenger" {
                let m = channels.messenger.as_ref().ok_or_else(|| {
                    Failure::Permanent("channels.messenger is not configured".into())
                })?;
                (
                    format!("{}/{}/messages", m.graph_url, relay.via),
                    &m.pages,
                    serde_json::json!({
                        "recipient": { "id": payload.to },
                        "messaging_type": "RESPONSE",
                        "message": { "text": relay.text },
                    }),
                )
            } else {
                let xc = channels
                    .x
                    .as_ref()
                    .ok_or_else(|| Failure::Permanent("channels.x is not configured".into()))?;
                if !payload.to.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Failure::Permanent("not an X user id".into()));
                }
                (
                    format!(
                        "{}/2/dm_conversations/with/{}/messages",
                        xc.api_url, payload.to
                    ),
                    &xc.accounts,
                    serde_json::json!({ "text": relay.text }),
                )
            };
            let account = accounts
                .iter()
                .find(|a| a.id == relay.via)
                .ok_or_else(|| Failure::Permanent(format!("no token for `{}`", relay.via)))?;
            let request = client
                .post(url)
                .bearer_auth(account.token.expose_secret())
                .json(&body);
            answer(request.send().await).await
        }
        "exotel_callback" => {
            let exotel =
                core.channels.exotel.as_ref().ok_or_else(|| {
                    Failure::Permanent("channels.exotel is not configured".into())
                })?;
            let flow = exotel.callback_flow_url.as_deref().ok_or_else(|| {
                Failure::Permanent("channels.exotel.callback_flow_url is not set".into())
            })?;
            let relay = relay_of(core, &payload)?;
            // Exotel rings `From` (the caller) first and connects the answered call to the flow,
            // showing `CallerId` (the ExoPhone they called).
            let form = [
                ("From", payload.to.as_str()),
                ("CallerId", relay.via.as_str()),
                ("Url", flow),
                ("CallType", "trans"),
            ];
            let request = client
                .post(format!(
                    "{}/v1/Accounts/{}/Calls/connect",
                    exotel.api_url, exotel.account_sid
                ))
                .basic_auth(&exotel.api_key, Some(exotel.api_token.expose_secret()))
                .form(&form);
            answer(request.send().await).await
        }
        other => Err(Failure::Permanent(format!("unknown channel {other}"))),
    }
}

/// The message for a tipster in a payload, if it may still be sent (WhatsApp and Messenger take
/// free text only within 24 hours of the tipster's last message).
fn relay_of<'a>(core: &Core, payload: &'a super::Payload) -> Result<&'a super::Relay, Failure> {
    let relay = payload
        .relay
        .as_ref()
        .ok_or_else(|| Failure::Permanent("not a message for a tipster".into()))?;
    if relay
        .window_until
        .is_some_and(|until| core.clock.now_ms() > until)
    {
        return Err(Failure::Permanent(
            "outside the channel's 24-hour window: the tipster sees it on follow-up".into(),
        ));
    }
    Ok(relay)
}

/// A gateway's answer: 2xx sent; 429 and 5xx and network errors worth a retry; other 4xx not.
async fn answer(result: reqwest::Result<reqwest::Response>) -> Result<(), Failure> {
    let response =
        result.map_err(|e| Failure::Transient(format!("request failed: {}", e.without_url())))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let reason = format!("gateway answered {status}");
    if status.as_u16() == 429 || status.is_server_error() {
        Err(Failure::Transient(reason))
    } else {
        Err(Failure::Permanent(reason))
    }
}

/// The client the sender uses: short timeouts, no redirects (a gateway does not redirect).
pub fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        assert_eq!(backoff_ms(1), 5_000);
        assert_eq!(backoff_ms(2), 10_000);
        assert_eq!(backoff_ms(4), 40_000);
        assert_eq!(backoff_ms(9), 600_000);
        assert_eq!(backoff_ms(100), 600_000);
    }
}
