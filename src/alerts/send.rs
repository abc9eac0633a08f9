//! The outbox sender: claims due messages (a lease, so a node that dies mid-send leaves them to
//! another), opens each, hands it to its gateway, and records the result: sent; or retried with
//! backoff; or, after the last attempt or a refusal no retry can fix, failed, which the range
//! dashboard shows.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::{Payload, payload_aad, tipster};
use crate::app::Core;
use crate::crypto::{encode_hex, hmac_sha256};
use crate::keyring::RANGE_SCOPE;
use crate::store::{Delivery, OutboxRow, StoreError};

/// Attempts before a message is given up as failed.
pub const MAX_ATTEMPTS: i64 = 10;
/// Messages claimed at once.
const BATCH: i64 = 50;

/// The longest a gateway's "slow down" is obeyed for one attempt (a longer ask is taken as this).
const MAX_THROTTLE_MS: i64 = 60 * 60_000;

/// Meta's Cloud API errors that ask to slow down rather than refuse: 130429 (the number's
/// throughput), 131056 (too many messages to one user: about one per 6 s), 80007 (the
/// account's rate limit), 4 (the app's call limit).
const META_SLOW_DOWN: [i64; 4] = [130_429, 131_056, 80_007, 4];

/// Why an attempt failed.
pub(super) enum Failure {
    /// Worth trying again (network, timeout, the gateway's 5xx or 429).
    Transient(String),
    /// The gateway asked to slow down: worth trying again, but not sooner than `after_ms` (its
    /// `Retry-After`, Telegram's `retry_after`, X's rate-limit reset, or 6 s for Meta's pair rate).
    Throttled {
        /// What the gateway said (status and code).
        error: String,
        /// The wait it asked for, in ms.
        after_ms: i64,
    },
    /// No retry can fix it (refused address, bad credentials, unreadable payload).
    Permanent(String),
}

/// What a gateway said of a message it took: its id for the message (to match the status
/// callbacks to come) and, on Messenger, the page and recipient (for its watermarks).
#[derive(Default)]
pub(super) struct Handed {
    /// (provider, the provider's message id).
    pub id: Option<(&'static str, String)>,
    /// (page, page-scoped user id).
    pub recipient: Option<(String, String)>,
}

impl Handed {
    /// The id at `value` in a gateway's answer, if it is one (text or a number).
    pub fn named(provider: &'static str, value: &serde_json::Value) -> Self {
        let id = match value {
            serde_json::Value::String(s) if !s.is_empty() && s.len() <= 512 => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        Self {
            id: id.map(|id| (provider, id)),
            recipient: None,
        }
    }

    /// How the attempt is recorded: with the keyed ids where the gateway named the message.
    fn delivery(self, core: &Core, at: i64) -> Delivery {
        match self.id {
            Some((provider, id)) => Delivery::SentAs {
                provider_ref: super::delivery::message_ref(core, provider, &id),
                recipient_ref: self
                    .recipient
                    .map(|(page, psid)| super::delivery::recipient_ref(core, &page, &psid)),
                at,
            },
            None => Delivery::Sent,
        }
    }
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
        let at = core.clock.now_ms();
        let handed = tokio::time::timeout(limit, attempt(core, client, r))
            .await
            .unwrap_or_else(|_| Err(Failure::Transient("no answer within half the lease".into())));
        handed.map(|h| h.delivery(core, at))
    }))
    .await;
    let mut sent = 0;
    for (row, result) in rows.iter().zip(results) {
        let delivery = match result {
            Ok(handed) => {
                sent += 1;
                handed
            }
            Err(Failure::Permanent(error)) => Delivery::Failed { error },
            Err(Failure::Transient(error) | Failure::Throttled { error, .. })
                if row.attempts >= MAX_ATTEMPTS =>
            {
                Delivery::Failed { error }
            }
            Err(Failure::Transient(error)) => Delivery::Retry {
                error,
                at: core.clock.now_ms() + backoff_ms(row.attempts),
            },
            Err(Failure::Throttled { error, after_ms }) => Delivery::Retry {
                error,
                at: core.clock.now_ms()
                    + backoff_ms(row.attempts).max(after_ms.min(MAX_THROTTLE_MS)),
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

async fn attempt(
    core: &Core,
    client: &reqwest::Client,
    row: &OutboxRow,
) -> Result<Handed, Failure> {
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
    match row.channel.as_str() {
        "sms" => sms(core, client, &payload).await,
        "webhook" => webhook(core, client, row, &payload).await,
        "email" => {
            let email = core
                .alerts
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
            .map_err(Failure::Transient)?;
            Ok(Handed::default())
        }
        "tipster_twilio" => tipster::twilio(core, client, &payload).await,
        "tipster_meta" => tipster::meta(core, client, &payload).await,
        "tipster_telegram" => tipster::telegram(core, client, &payload).await,
        "tipster_messenger" => tipster::messenger(core, client, &payload).await,
        "tipster_x" => tipster::x(core, client, &payload).await,
        "exotel_callback" => exotel_callback(core, client, &payload).await,
        other => Err(Failure::Permanent(format!("unknown channel {other}"))),
    }
}

/// An alert by SMS (or WhatsApp) through Twilio, with a status callback where Twilio can reach
/// us.
async fn sms(core: &Core, client: &reqwest::Client, payload: &Payload) -> Result<Handed, Failure> {
    let sms = core
        .alerts
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
    let mut form = vec![
        ("To", address(&payload.to)),
        ("From", address(&sms.from)),
        ("Body", payload.text()),
    ];
    form.extend(tipster::status_callback(core));
    let request = client
        .post(url)
        .basic_auth(&sms.account_sid, Some(sms.auth_token.expose_secret()))
        .form(&form);
    let answered = answer(request.send().await).await?;
    Ok(Handed::named("twilio", &answered["sid"]))
}

/// An alert to the signed webhook.
async fn webhook(
    core: &Core,
    client: &reqwest::Client,
    row: &OutboxRow,
    payload: &Payload,
) -> Result<Handed, Failure> {
    let hook = core
        .alerts
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
    answer(request.send().await).await?;
    Ok(Handed::default())
}

/// A missed call rung back into the IVR through Exotel.
async fn exotel_callback(
    core: &Core,
    client: &reqwest::Client,
    payload: &Payload,
) -> Result<Handed, Failure> {
    let exotel = core
        .channels
        .exotel
        .as_ref()
        .ok_or_else(|| Failure::Permanent("channels.exotel is not configured".into()))?;
    let flow = exotel
        .callback_flow_url
        .as_deref()
        .ok_or_else(|| Failure::Permanent("channels.exotel.callback_flow_url is not set".into()))?;
    let relay = tipster::relay_of(payload)?;
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
    answer(request.send().await).await?;
    Ok(Handed::default())
}

/// A gateway's answer: 2xx sent (with its JSON body, `null` if it has none); 429 and 5xx and
/// network errors worth a retry, after the wait the gateway asks for if it asks (see
/// [`slow_down`]); other 4xx not. A failure names the provider's error code where its body
/// gives one (Meta's `error.code`, Telegram's `error_code`, Twilio's `code`), never its text.
pub(super) async fn answer(
    result: reqwest::Result<reqwest::Response>,
) -> Result<serde_json::Value, Failure> {
    let response =
        result.map_err(|e| Failure::Transient(format!("request failed: {}", e.without_url())))?;
    let status = response.status();
    if status.is_success() {
        // The message is sent whatever the body says; an unreadable one only leaves it unnamed.
        let body = response.bytes().await.unwrap_or_default();
        return Ok(serde_json::from_slice(&body).unwrap_or_default());
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    let (retry_after, reset) = (header("retry-after"), header("x-rate-limit-reset"));
    let body: serde_json::Value = response
        .bytes()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let code = [&body["error"]["code"], &body["error_code"], &body["code"]]
        .into_iter()
        .find_map(serde_json::Value::as_i64);
    let reason = match code {
        Some(code) => format!("gateway answered {status} (code {code})"),
        None => format!("gateway answered {status}"),
    };
    let asked = Asked {
        status: status.as_u16(),
        retry_after_s: retry_after.or_else(|| body["parameters"]["retry_after"].as_i64()),
        reset_at_s: reset,
        meta_code: body["error"]["code"].as_i64(),
    };
    match slow_down(&asked, time::OffsetDateTime::now_utc().unix_timestamp()) {
        Some(after_ms) => Err(Failure::Throttled {
            error: reason,
            after_ms,
        }),
        None if status.as_u16() == 429 || status.is_server_error() => {
            Err(Failure::Transient(reason))
        }
        None => Err(Failure::Permanent(reason)),
    }
}

/// What a refusing gateway said about waiting.
struct Asked {
    status: u16,
    /// `Retry-After` (seconds), or Telegram's `parameters.retry_after`.
    retry_after_s: Option<i64>,
    /// X's `x-rate-limit-reset` (Unix seconds).
    reset_at_s: Option<i64>,
    /// Meta's `error.code`.
    meta_code: Option<i64>,
}

/// The wait (ms) a gateway asked for, if this refusal is a "slow down": a 429 or 503 with
/// `Retry-After` (Twilio and others) or Telegram's `retry_after`; X's 429 until its
/// rate-limit window resets; Meta's rate-limit codes (HTTP 400 or 429), 6 s for the pair rate
/// and otherwise the usual backoff. `now_s` is the wall clock (X's reset is wall-clock time).
fn slow_down(asked: &Asked, now_s: i64) -> Option<i64> {
    let limited = matches!(asked.status, 429 | 503);
    if limited && let Some(seconds) = asked.retry_after_s.filter(|s| *s >= 0) {
        return Some(seconds.saturating_mul(1000));
    }
    if asked.status == 429
        && let Some(reset) = asked.reset_at_s
    {
        return Some(reset.saturating_sub(now_s).max(1).saturating_mul(1000));
    }
    match asked.meta_code {
        Some(131_056) => Some(6_000),
        Some(code) if META_SLOW_DOWN.contains(&code) => Some(0),
        _ => None,
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

    fn asked(status: u16) -> Asked {
        Asked {
            status,
            retry_after_s: None,
            reset_at_s: None,
            meta_code: None,
        }
    }

    #[test]
    fn a_gateway_that_asks_to_slow_down_is_obeyed() {
        let now = 1_764_400_000;
        let retry_after = |status, s| Asked {
            retry_after_s: Some(s),
            ..asked(status)
        };
        assert_eq!(slow_down(&retry_after(429, 40), now), Some(40_000));
        assert_eq!(slow_down(&retry_after(503, 2), now), Some(2_000));
        // A Retry-After on a plain refusal is not an invitation to retry it.
        assert_eq!(slow_down(&retry_after(400, 40), now), None);
        let reset = Asked {
            reset_at_s: Some(now + 300),
            ..asked(429)
        };
        assert_eq!(slow_down(&reset, now), Some(300_000));
        let meta = |code| Asked {
            meta_code: Some(code),
            ..asked(400)
        };
        assert_eq!(slow_down(&meta(131_056), now), Some(6_000));
        assert_eq!(slow_down(&meta(130_429), now), Some(0));
        // Outside the 24-hour window: a refusal, not a rate limit.
        assert_eq!(slow_down(&meta(131_047), now), None);
        assert_eq!(slow_down(&asked(429), now), None);
    }

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        assert_eq!(backoff_ms(1), 5_000);
        assert_eq!(backoff_ms(2), 10_000);
        assert_eq!(backoff_ms(4), 40_000);
        assert_eq!(backoff_ms(9), 600_000);
        assert_eq!(backoff_ms(100), 600_000);
    }
}
