//! Each provider's way to fetch a file sent to it, and to delete it there afterwards.

use std::time::Duration;

use reqwest::Url;
use secrecy::ExposeSecret;

use super::Reference;
use crate::app::Core;
use crate::channels::{MediaKind, Provider};

/// Redirects followed at most (Twilio's media URL answers with one, to a signed URL).
const MAX_REDIRECTS: usize = 3;

/// Fetches the file `r` names, at most as large as its kind may be.
pub(super) async fn fetch(
    core: &Core,
    client: &reqwest::Client,
    provider: &str,
    r: &Reference,
    kind: MediaKind,
) -> Result<Vec<u8>, String> {
    let max = kind.max_bytes();
    let channels = &core.channels;
    match provider {
        p if p == Provider::Meta.as_str() => {
            let meta = channels
                .meta
                .as_ref()
                .ok_or("channels.meta is not configured")?;
            let token = meta.access_token.expose_secret();
            let info: serde_json::Value = get(
                client,
                &format!("{}/{}", meta.graph_url, encode(&r.reference)),
                Auth::Bearer(token),
                64 * 1024,
            )
            .await
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))?;
            let url = info["url"].as_str().ok_or("no url for the media")?;
            get(client, url, Auth::Bearer(token), max).await
        }
        p if p == Provider::Telegram.as_str() => {
            let bot = channels
                .telegram
                .iter()
                .find(|b| b.name == r.via)
                .ok_or("no such Telegram bot")?;
            let token = bot.token.expose_secret();
            let file: serde_json::Value = get(
                client,
                &format!(
                    "{}/bot{token}/getFile?file_id={}",
                    bot.api_url,
                    encode(&r.reference)
                ),
                Auth::None,
                64 * 1024,
            )
            .await
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))?;
            let path = file["result"]["file_path"].as_str().ok_or("no file_path")?;
            let url = format!("{}/file/bot{token}/{path}", bot.api_url);
            get(client, &url, Auth::None, max).await
        }
        p if p == Provider::Twilio.as_str() => {
            let (url, user, token) = twilio_file(core, &r.reference, kind)?;
            // A recording is asked for as WAVE; a message's file comes as it was sent.
            let url = match kind {
                MediaKind::Call => format!("{url}.wav"),
                _ => url,
            };
            get(client, &url, Auth::Basic(&user, &token), max).await
        }
        p if p == Provider::Messenger.as_str() => {
            let m = channels
                .messenger
                .as_ref()
                .ok_or("channels.messenger is not configured")?;
            checked_public(&r.reference, &m.graph_url)?;
            get(client, &r.reference, Auth::None, max).await
        }
        p if p == Provider::X.as_str() => {
            let xc = channels.x.as_ref().ok_or("channels.x is not configured")?;
            let account = xc
                .accounts
                .iter()
                .find(|a| a.id == r.via)
                .ok_or("no token for the X account")?;
            checked_public(&r.reference, &xc.api_url)?;
            let token = account.token.expose_secret();
            get(client, &r.reference, Auth::Bearer(token), max).await
        }
        p if p == Provider::Exotel.as_str() => {
            let exotel = channels
                .exotel
                .as_ref()
                .ok_or("channels.exotel is not configured")?;
            // Checked again here: the origins may have changed since the webhook took it.
            if !crate::channels::exotel::recording_allowed(exotel, &r.reference) {
                return Err("the recording is not on a configured Exotel recordings host".into());
            }
            let auth = Auth::Basic(&exotel.api_key, exotel.api_token.expose_secret());
            get(client, &r.reference, auth, max).await
        }
        other => Err(format!("no media from {other}")),
    }
}

/// Deletes the provider's copy of a file stored or given up: Twilio's recording or message file
/// (`DELETE ….json`, 204) and Meta's media (`DELETE /{media-id}`); a copy already gone (404)
/// counts as deleted. The other providers have no such API: nothing to do.
pub(super) async fn delete(
    core: &Core,
    client: &reqwest::Client,
    provider: &str,
    r: &Reference,
    kind: MediaKind,
) -> Result<(), String> {
    let request = match provider {
        p if p == Provider::Twilio.as_str() => {
            let (url, user, token) = twilio_file(core, &r.reference, kind)?;
            client
                .delete(format!("{url}.json"))
                .basic_auth(user, Some(token))
        }
        p if p == Provider::Meta.as_str() => {
            let meta = core
                .channels
                .meta
                .as_ref()
                .ok_or("channels.meta is not configured")?;
            client
                .delete(format!(
                    "{}/{}?phone_number_id={}",
                    meta.graph_url,
                    encode(&r.reference),
                    encode(&r.via)
                ))
                .bearer_auth(meta.access_token.expose_secret())
        }
        _ => return Ok(()),
    };
    let response = request
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| format!("request failed: {}", e.without_url()))?;
    let status = response.status();
    if status.is_success() || status == reqwest::StatusCode::NOT_FOUND {
        Ok(())
    } else {
        Err(format!("the provider answered {status}"))
    }
}

/// The address of a Twilio file (without `.json` or `.wav`) and the account's credentials: a
/// call recording's from its sid and the configured API; a message's file only if its URL is
/// one of this account's message media on the configured API (the credentials go nowhere else).
fn twilio_file(
    core: &Core,
    reference: &str,
    kind: MediaKind,
) -> Result<(String, String, String), String> {
    let (api_url, user, token) = twilio_credentials(core)?;
    let account = format!("{api_url}/2010-04-01/Accounts/{user}");
    let url = match kind {
        MediaKind::Call if crate::channels::voice::valid_sid(reference, "RE") => {
            format!("{account}/Recordings/{reference}")
        }
        MediaKind::Call => return Err("not a recording id".into()),
        _ => {
            let rest = reference
                .strip_prefix(&format!("{account}/Messages/"))
                .ok_or("the file is not this account's message media")?;
            let mut parts = rest.split('/');
            let valid = matches!(
                (parts.next(), parts.next(), parts.next(), parts.next()),
                (Some(message), Some("Media"), Some(media), None)
                    if (crate::channels::voice::valid_sid(message, "MM")
                        || crate::channels::voice::valid_sid(message, "SM"))
                        && crate::channels::voice::valid_sid(media, "ME")
            );
            if !valid {
                return Err("not a Twilio message media URL".into());
            }
            reference.to_owned()
        }
    };
    Ok((url, user, token))
}

/// The Twilio account's credentials, if Twilio is configured.
fn twilio_credentials(core: &Core) -> Result<(&str, String, String), String> {
    let twilio = core
        .channels
        .twilio
        .as_ref()
        .ok_or("channels.twilio is not configured")?;
    Ok((
        &twilio.api_url,
        twilio.account_sid.clone(),
        twilio.auth_token.expose_secret().to_owned(),
    ))
}

/// A provider's file URL is fetched only over https, or from the provider's configured API
/// itself (a local fake in tests).
fn checked_public(url: &str, api_url: &str) -> Result<(), String> {
    let parsed = Url::parse(url).map_err(|_| "not a URL")?;
    let same_origin = Url::parse(api_url).is_ok_and(|api| api.origin() == parsed.origin());
    if parsed.scheme() == "https" || same_origin {
        Ok(())
    } else {
        Err("the file's URL is not https".into())
    }
}

/// How a fetch is authorised.
enum Auth<'a> {
    None,
    Bearer(&'a str),
    Basic(&'a str, &'a str),
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A GET whose body may not exceed `max` bytes (with some room for JSON). Redirects are
/// followed by hand, a few at most: the credentials go only to the first URL's origin, and a
/// redirect to another origin must be https.
async fn get(
    client: &reqwest::Client,
    url: &str,
    auth: Auth<'_>,
    max: usize,
) -> Result<Vec<u8>, String> {
    let first = Url::parse(url).map_err(|_| "not a URL")?;
    let mut at = first.clone();
    for _ in 0..=MAX_REDIRECTS {
        let mut request = client.get(at.clone()).timeout(Duration::from_secs(30));
        if at.origin() == first.origin() {
            request = match auth {
                Auth::None => request,
                Auth::Bearer(token) => request.bearer_auth(token),
                Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
            };
        }
        // Errors without the URL: it may carry a bot token or a provider's file path.
        let response = request
            .send()
            .await
            .map_err(|e| format!("request failed: {}", e.without_url()))?;
        if response.status().is_redirection() {
            let next = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| at.join(l).ok())
                .ok_or("a redirect without a usable Location")?;
            if next.origin() != first.origin() && next.scheme() != "https" {
                return Err("a redirect to another host that is not https".into());
            }
            at = next;
            continue;
        }
        return read_body(response, max).await;
    }
    Err("too many redirects".into())
}

async fn read_body(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    if !response.status().is_success() {
        return Err(format!("provider answered {}", response.status()));
    }
    let limit = max + 64 * 1024;
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("body failed: {}", e.without_url()))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            return Err("the file is larger than an attachment may be".into());
        }
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_must_be_https_or_the_configured_api() {
        assert!(
            checked_public(
                "https://scontent.xx.fbcdn.net/v/a.jpg",
                "https://graph.facebook.com"
            )
            .is_ok()
        );
        assert!(checked_public("http://127.0.0.1:9/cdn/a.jpg", "http://127.0.0.1:9").is_ok());
        assert!(
            checked_public(
                "http://169.254.169.254/latest",
                "https://graph.facebook.com"
            )
            .is_err()
        );
        assert!(checked_public("file:///etc/passwd", "https://graph.facebook.com").is_err());
        assert!(checked_public("not a url", "https://graph.facebook.com").is_err());
    }
}
