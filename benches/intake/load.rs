//! The load: N keep-alive clients, each posting the report form as fast as answers come back,
//! for a fixed time. A tip counts as accepted only on a 200 whose page carries a tip number.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// A realistic tip: Hindi with Hinglish, about 300 characters, as typed on a phone.
const TIP_TEXT: &str = "मेरे मोहल्ले में रोज़ रात 10 बजे के बाद एक सफ़ेद बोलेरो आती है और पान ठेले के \
    पीछे गांजा और नशे की गोलियाँ बेचते हैं। bhai log school ke bacchon ko bhi maal dete hain, \
    chowki paas hi hai par koi action nahi hota. गाड़ी का नंबर CG 10 से शुरू होता है, ड्राइवर \
    का नाम शायद राजू है। कृपया जल्दी कार्रवाई करें, बच्चे बर्बाद हो रहे हैं।";
const PLACE: &str = "तालापारा, मस्जिद के पीछे वाली गली";
const WHEN: &str = "रोज़ रात 10 से 12 बजे";

/// The form bodies, encoded once.
pub struct FormBody {
    text: String,
    place: String,
    when: String,
}

impl FormBody {
    /// Encodes the fixed parts.
    pub fn new() -> Self {
        let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        Self {
            text: enc(TIP_TEXT),
            place: enc(PLACE),
            when: enc(WHEN),
        }
    }

    /// Characters in the tip text.
    pub fn text_chars() -> usize {
        TIP_TEXT.chars().count()
    }

    /// The body for request `n`: the tip ends with its sequence number, so no two are alike.
    fn body(&self, n: u64) -> String {
        format!(
            "text={}%20%23{n}&district=bilaspur&place={}&when={}&now=1&category=",
            self.text, self.place, self.when
        )
    }
}

/// What one load run saw.
#[derive(Default)]
pub struct Outcome {
    /// 200 responses carrying a tip number.
    pub accepted: u64,
    /// Everything else: other statuses, pages without a number, transport errors.
    pub errors: u64,
    /// The first error, for the report.
    pub first_error: Option<String>,
    /// Latency of every completed request, in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// From the first request sent to the last answer received.
    pub elapsed: Duration,
}

impl Outcome {
    /// Accepted tips per second.
    pub fn rate(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at quantile `q` (0..=1), in milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        let n = self.latencies_us.len();
        if n == 0 {
            return f64::NAN;
        }
        let i = ((n - 1) as f64 * q).round() as usize;
        f64::from(self.latencies_us[i.min(n - 1)]) / 1000.0
    }
}

/// Runs `clients` keep-alive clients against `url` for `duration`.
pub async fn run(
    url: &str,
    form: Arc<FormBody>,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Outcome> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?;
    let url: Arc<str> = url.into();
    let seq = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (http, url, form, seq) = (http.clone(), url.clone(), form.clone(), seq.clone());
            tokio::spawn(async move { client(http, &url, &form, &seq, deadline).await })
        })
        .collect();
    let mut total = Outcome::default();
    for task in tasks {
        let one = task.await?;
        total.accepted += one.accepted;
        total.errors += one.errors;
        total.first_error = total.first_error.or(one.first_error);
        total.latencies_us.extend(one.latencies_us);
    }
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    Ok(total)
}

async fn client(
    http: reqwest::Client,
    url: &str,
    form: &FormBody,
    seq: &AtomicU64,
    deadline: Instant,
) -> Outcome {
    let mut out = Outcome::default();
    while Instant::now() < deadline {
        let body = form.body(seq.fetch_add(1, Ordering::Relaxed));
        let sent = Instant::now();
        let result = post(&http, url, body).await;
        out.latencies_us
            .push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
        match result {
            Ok(()) => out.accepted += 1,
            Err(e) => {
                out.errors += 1;
                out.first_error.get_or_insert(e);
            }
        }
    }
    out
}

async fn post(http: &reqwest::Client, url: &str, body: String) -> Result<(), String> {
    let response = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let page = response
        .bytes()
        .await
        .map_err(|e| format!("body failed: {e}"))?;
    if status != reqwest::StatusCode::OK {
        return Err(format!("status {status}"));
    }
    if has_tip_number(&page) {
        Ok(())
    } else {
        Err("200 without a tip number".into())
    }
}

/// The receipt shows `<dd id="tip-number">NNNNN NNNNN</dd>`.
fn has_tip_number(page: &[u8]) -> bool {
    const MARK: &[u8] = b"<dd id=\"tip-number\">";
    let Some(at) = page.windows(MARK.len()).position(|w| w == MARK) else {
        return false;
    };
    let rest = &page[at + MARK.len()..];
    rest.len() >= 16
        && rest[..5].iter().all(u8::is_ascii_digit)
        && rest[5] == b' '
        && rest[6..11].iter().all(u8::is_ascii_digit)
        && rest[11..].starts_with(b"</dd>")
}
