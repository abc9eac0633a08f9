//! Intake and follow-up: where a parsed submission becomes a sealed tip record, and where a tip
//! number and secret open the tipster's view of it. Everything here works on domain types; the
//! channels (web form, API, later the webhooks) parse their input before calling in.
//!
//! Must never: log or return tip text except to its tipster, store anything in clear that the
//! tipster wrote, or tell a wrong tip number apart from a wrong secret.

use std::sync::Mutex;

use serde_json::json;

use crate::app::Core;
use crate::crypto::{CryptoError, ct_eq};
use crate::domain::{Channel, Language, TipId, TipNumber, TipSecret, TipStatus, TipText};
use crate::jurisdiction::DistrictId;
use crate::keyring::RANGE_SCOPE;
use crate::search::{self, Fingerprint};
use crate::store::{AuditDraft, NewMessage, NewTip, StoreError, TipLink, TipRecord};

/// Wrong secrets allowed per tip number in one window before it locks until the window ends.
pub const GUESSES_PER_TIP: i64 = 5;
/// The per-tip window, in milliseconds (15 minutes).
pub const GUESS_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Wrong guesses allowed over all tips, per node, in one minute; beyond it every follow-up waits.
pub const GUESSES_OVERALL_PER_MINUTE: u32 = 300;

/// A tip as a channel hands it in, already parsed.
#[derive(Clone, Debug)]
pub struct Submission {
    /// What happened.
    pub text: TipText,
    /// The district chosen or implied by the hotline, if any.
    pub district: Option<DistrictId>,
    /// Where (free text, bounded).
    pub place: Option<String>,
    /// When (free text, bounded).
    pub when: Option<String>,
    /// The tipster says it is happening now.
    pub happening_now: bool,
    /// A lexicon category id chosen by the tipster.
    pub category: Option<String>,
    /// The tipster's language.
    pub language: Language,
    /// How it came in.
    pub channel: Channel,
    /// The station a control-room operator chose while taking the call (it wins over triage's,
    /// but never over the exclusion of an accused station).
    pub station: Option<String>,
    /// The officer who typed it in for a caller (`officer:7`): the creation is then audited as
    /// `tip.entered` by that officer, in the same transaction as the tip.
    pub entered_by: Option<String>,
    /// Photos sent with it (checked and cleaned).
    pub photos: Vec<crate::domain::attachment::Photo>,
    /// Documents sent with it (checked, held for the range supervisor).
    pub documents: Vec<crate::domain::held::HeldFile>,
}

/// A new tip, announced to open queue pages: only what routing needs, never content.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TipEvent {
    /// Its district, if known.
    pub district_id: Option<String>,
    /// Urgent: the console plays a sound.
    pub urgent: bool,
    /// Alleges police involvement (never shown to operators).
    pub police_involvement: bool,
}

/// What the tipster keeps.
#[derive(Clone, Debug)]
pub struct Receipt {
    /// The tip's internal id.
    pub tip_id: TipId,
    /// The tip number.
    pub tip_number: TipNumber,
    /// The secret (shown once).
    pub secret: TipSecret,
    /// The district it went to, if known.
    pub district: Option<DistrictId>,
    /// When it was stored.
    pub created_at: i64,
}

/// Why intake or follow-up failed.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Crypto failed (random source, or a value that will not open).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Tip number or secret is wrong (deliberately not saying which).
    #[error("tip number or secret is wrong")]
    NoMatch,
    /// Too many wrong secrets for this tip number recently.
    #[error("locked for a while after wrong secrets")]
    Locked,
    /// Too many wrong guesses over all tips: follow-up pauses briefly for everyone.
    #[error("too many attempts; try again in a minute")]
    Busy,
}

/// A message on the tipster's thread, opened.
#[derive(Clone, Debug)]
pub struct ThreadMessage {
    /// `tipster` or `police`.
    pub author: String,
    /// The text.
    pub text: String,
    /// When.
    pub created_at: i64,
}

/// What the tipster sees on follow-up.
#[derive(Clone, Debug)]
pub struct TipsterView {
    /// The tip number.
    pub tip_number: TipNumber,
    /// Status.
    pub status: TipStatus,
    /// District id, if any.
    pub district_id: Option<String>,
    /// When it arrived.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
    /// Messages both ways, oldest first.
    pub messages: Vec<ThreadMessage>,
}

/// Counts failures (wrong tip secrets, wrong officer logins) in one-minute windows, in memory
/// only (no who, no where); past the limit every attempt waits for the next minute.
pub struct GuessLimiter {
    state: Mutex<(i64, u32)>,
    limit: u32,
}

impl Default for GuessLimiter {
    fn default() -> Self {
        Self::per_minute(GUESSES_OVERALL_PER_MINUTE)
    }
}

impl GuessLimiter {
    fn with<T>(&self, f: impl FnOnce(&mut (i64, u32)) -> T) -> T {
        let mut guard = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// A limiter allowing `limit` failures a minute.
    pub fn per_minute(limit: u32) -> Self {
        Self {
            state: Mutex::new((0, 0)),
            limit,
        }
    }

    /// Attempts are allowed now.
    pub fn is_open(&self, now: i64) -> bool {
        self.with(|(start, count)| now - *start >= 60_000 || *count < self.limit)
    }

    /// Counts one failure.
    pub fn record_failure(&self, now: i64) {
        self.with(|(start, count)| {
            if now - *start >= 60_000 {
                *start = now;
                *count = 0;
            }
            *count += 1;
        });
    }
}

fn tip_subject(id: TipId) -> String {
    format!("tip:{id}")
}

pub(crate) fn aad(column: &str, id: i64) -> Vec<u8> {
    format!("{column}|{id}").into_bytes()
}

/// Tells every open queue page, on every node, that a tip arrived or changed. Through the
/// database where it carries events between nodes (PostgreSQL NOTIFY, which also comes back to
/// this node), else straight to this node's pages. Nobody listening is fine: the pages read the
/// store anyway.
pub async fn announce(core: &Core, event: TipEvent) {
    let shared = match serde_json::to_string(&event) {
        Ok(payload) => core.store.announce(&payload).await,
        Err(e) => Err(StoreError::Config(e.to_string())),
    };
    match shared {
        Ok(true) => {}
        Ok(false) => {
            let _ = core.events.send(event);
        }
        Err(e) => {
            tracing::warn!(error = %e, "live event not shared with other nodes");
            let _ = core.events.send(event);
        }
    }
}

/// Stores a new tip: number and secret, sealed content, blind-index terms and the audit entry in
/// one transaction. Retries with a fresh number in the rare case the random one is taken.
pub async fn submit_tip(core: &Core, s: Submission) -> Result<Receipt, IntakeError> {
    submit_tip_with(core, s, |_, _| Ok(())).await
}

/// [`submit_tip`], with `finish` adding to the sealed tip what needs its number and secret (a
/// provider channel's message id and answer, stored in the same transaction).
pub async fn submit_tip_with(
    core: &Core,
    s: Submission,
    finish: impl Fn(&mut NewTip, &Receipt) -> Result<(), IntakeError>,
) -> Result<Receipt, IntakeError> {
    let mut attempts = 0;
    loop {
        let (mut tip, receipt) = seal_tip(core, &s)?;
        finish(&mut tip, &receipt)?;
        let event = TipEvent {
            district_id: tip.district_id.clone(),
            urgent: tip.urgent,
            police_involvement: tip.police_involvement,
        };
        match core.store.create_tip(tip).await {
            Ok(()) => {
                announce(core, event).await;
                return Ok(receipt);
            }
            Err(StoreError::Conflict("tip number")) if attempts < 5 => attempts += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Near-duplicates are looked for among the tips of the last 30 days.
pub const NEAR_DUPLICATE_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;
/// Estimated word overlap from which two tips are near-duplicates.
pub const NEAR_DUPLICATE_SIMILARITY: f64 = 0.5;
/// Tips naming one person within this window...
pub const HARASSMENT_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;
/// ...from this many on are flagged as a possible harassment campaign.
pub const HARASSMENT_TIPS: usize = 3;
/// A new tip repeats a place where a tip was closed after action within this window.
pub const REPEAT_WINDOW_MS: i64 = 90 * 24 * 3600 * 1000;
/// Tips about the same station and category within this window are linked.
pub const SAME_PLACE_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;

/// Earlier tips related to a tip: near-duplicates by fingerprint (the same message sent twice,
/// or two people describing one thing in nearly the same words), and tips about the same station
/// and category in the week before. They are linked for the officer, never merged. Run by the
/// background indexer shortly after the tip is stored, off the intake path.
pub async fn related_tips(core: &Core, tip: &TipRecord) -> Result<Vec<TipLink>, IntakeError> {
    let mut links: Vec<TipLink> = Vec::new();
    if let Some(mine) = tip.fingerprint.as_deref().and_then(Fingerprint::from_bytes) {
        let since_id = TipId::first_at(tip.created_at - NEAR_DUPLICATE_WINDOW_MS).get();
        for (id, bytes) in core
            .store
            .tips_sharing_bands(&mine.bands(), since_id, 10)
            .await?
        {
            let Some(theirs) = Fingerprint::from_bytes(&bytes) else {
                continue;
            };
            let similarity = mine.similarity(&theirs);
            if similarity >= NEAR_DUPLICATE_SIMILARITY && id != tip.tip_id {
                let score = (similarity * 100.0).round() as i64;
                links.push(TipLink {
                    related_tip_id: id,
                    kind: "near_duplicate".into(),
                    score,
                });
            }
        }
    }
    if let (Some(station), Some(category)) = (&tip.station_id, &tip.category) {
        let since = tip.created_at - SAME_PLACE_WINDOW_MS;
        for id in core
            .store
            .tips_at_station(station, category, since, 10)
            .await?
        {
            if id != tip.tip_id && !links.iter().any(|l| l.related_tip_id == id) {
                links.push(TipLink {
                    related_tip_id: id,
                    kind: "same_place".into(),
                    score: 100,
                });
            }
        }
    }
    // A repeat alarm: the same station and category, where a tip was closed after action in the
    // last 90 days (the trade came back, or was never stopped). Listed on the range dashboard.
    if let (Some(station), Some(category)) = (&tip.station_id, &tip.category) {
        let since = tip.created_at - REPEAT_WINDOW_MS;
        for id in core
            .store
            .tips_acted_at_station(station, category, since, 5)
            .await?
        {
            if id == tip.tip_id {
                continue;
            }
            links.retain(|l| l.related_tip_id != id);
            links.push(TipLink {
                related_tip_id: id,
                kind: "repeat_after_action".into(),
                score: 101,
            });
        }
    }
    // A possible harassment campaign: the same person named in this week's tips, this one and at
    // least two others. Linked (never merged) and listed for the range supervisor.
    for person in core.store.persons_of(tip.tip_id).await? {
        let since = tip.created_at - HARASSMENT_WINDOW_MS;
        let others: Vec<TipId> = core
            .store
            .tips_naming(&person, since, 20)
            .await?
            .into_iter()
            .filter(|id| *id != tip.tip_id)
            .collect();
        if others.len() + 1 >= HARASSMENT_TIPS {
            for id in others {
                links.retain(|l| l.related_tip_id != id);
                links.push(TipLink {
                    related_tip_id: id,
                    kind: "same_person_burst".into(),
                    score: 102,
                });
            }
        }
    }
    links.sort_by_key(|l| std::cmp::Reverse(l.score));
    links.truncate(20);
    Ok(links)
}

/// What triage decided, merged with what the tipster chose.
pub(crate) struct Triaged {
    district: Option<String>,
    station: Option<String>,
    category: String,
    priority: String,
    urgent: bool,
    police_involvement: bool,
    barred_station: Option<String>,
    assessment_json: String,
}

/// Triage of a submission. The tipster's own choices win (a chosen district or category); triage
/// fills what they left open. A station is kept only inside the tip's district, and never when it
/// is the station the tip accuses. "Happening now" from the tipster makes a tip urgent.
pub(crate) fn triage(core: &Core, s: &Submission) -> Triaged {
    let text = match &s.place {
        Some(place) => format!("{}\n{place}", s.text.as_str()),
        None => s.text.as_str().to_owned(),
    };
    let chosen = s.district.as_ref().map(DistrictId::as_str);
    let a = core.triage.assess(&text, chosen);
    let district = chosen
        .map(str::to_owned)
        .or_else(|| a.district.as_ref().map(|d| d.to_string()));
    let barred = a.routing.barred_station.as_ref().map(|b| b.to_string());
    let station = s
        .station
        .clone()
        .or_else(|| a.station.as_ref().map(|st| st.to_string()))
        .and_then(|st| core.jurisdiction.station(&st))
        .filter(|(d, _)| Some(d.id.as_str()) == district.as_deref())
        .map(|(_, st)| st.id.to_string())
        .filter(|st| Some(st) != barred.as_ref());
    let urgent = a.urgent || s.happening_now;
    let priority = if urgent {
        "urgent".to_owned()
    } else {
        a.routing.priority.as_str().to_owned()
    };
    Triaged {
        district,
        station,
        category: s.category.clone().unwrap_or_else(|| a.category.clone()),
        priority,
        urgent,
        police_involvement: a.police_involvement,
        barred_station: barred,
        assessment_json: assessment_json(&a),
    }
}

/// The assessment as stored (sealed) with the tip. It holds only strings, numbers and lists, so
/// it always serialises; were it ever not to, the tip keeps its triage fields and an empty `{}`.
fn assessment_json(a: &crate::triage::Assessment) -> String {
    serde_json::to_string(a).unwrap_or_else(|e| {
        tracing::error!(error = %e, "triage assessment not serialised; stored as {{}}");
        "{}".to_owned()
    })
}

/// A submission's blind-index terms, and the fingerprint of its text's terms.
pub(crate) struct Indexed {
    terms: Vec<[u8; 16]>,
    fingerprint: Option<Fingerprint>,
    persons: Vec<[u8; 16]>,
}

/// The blind-index terms of a submission: its text's, then its place's.
pub(crate) fn index(keys: &crate::crypto::Keys, s: &Submission) -> Indexed {
    let words = search::all_words(s.text.as_str());
    let mut terms = search::terms_of(keys, &search::distinct(&words));
    // The fingerprint covers the text alone, so that a place typed differently does not hide a
    // repeated message.
    let fingerprint = Fingerprint::of(&terms);
    if let Some(place) = &s.place {
        let extra: Vec<_> = search::terms(keys, place)
            .into_iter()
            .filter(|t| !terms.contains(t))
            .collect();
        terms.extend(extra);
    }
    let persons = crate::triage::person::named_persons_in(&words)
        .iter()
        .map(|name| keys.search_term(name))
        .collect();
    Indexed {
        terms,
        fingerprint,
        persons,
    }
}

fn seal_tip(core: &Core, s: &Submission) -> Result<(NewTip, Receipt), IntakeError> {
    let indexed = index(core.keyring.keys(), s);
    seal(core, s, &triage(core, s), &indexed, core.clock.now_ms())
}

/// Associated data of an attachment's sealed parts.
pub fn attachment_aad(part: &str, attachment_id: i64) -> Vec<u8> {
    aad(&format!("attachment.{part}"), attachment_id)
}

/// What officers see of an attachment (sealed with it).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AttachmentFacts {
    /// `image/jpeg` or `image/png`.
    pub kind: String,
    /// Size of the original in bytes.
    pub size: usize,
    /// SHA-256 of the original, hex.
    pub sha256: String,
    /// A recording's length in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u32>,
    /// The original's type where it differs from `kind` (an MP3 recording, heard as WAV; a held
    /// file's PDF or video type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_kind: Option<String>,
}

/// The `kind` of a held video or document: it has no copy for officers, only the sealed original.
pub const HELD_KIND: &str = "held";

fn seal_photos(
    core: &Core,
    key_scope: &str,
    photos: &[crate::domain::attachment::Photo],
    now: i64,
) -> Result<Vec<crate::store::NewAttachment>, IntakeError> {
    photos
        .iter()
        .map(|photo| seal_photo(core, key_scope, photo, now))
        .collect()
}

/// Seals one photo as an attachment under `key_scope`'s current key.
pub fn seal_photo(
    core: &Core,
    key_scope: &str,
    photo: &crate::domain::attachment::Photo,
    now: i64,
) -> Result<crate::store::NewAttachment, IntakeError> {
    let facts = AttachmentFacts {
        kind: photo.kind.to_owned(),
        size: photo.original.len(),
        sha256: photo.sha256.clone(),
        seconds: None,
        original_kind: None,
    };
    seal_attachment(core, key_scope, &facts, &photo.original, &photo.clean, now)
}

/// Seals one voice recording (the original, and the disguised copy officers hear) as an
/// attachment under `key_scope`'s current key.
pub fn seal_recording(
    core: &Core,
    key_scope: &str,
    recording: &crate::domain::recording::Recording,
    now: i64,
) -> Result<crate::store::NewAttachment, IntakeError> {
    let facts = AttachmentFacts {
        kind: recording.kind.to_owned(),
        size: recording.original.len(),
        sha256: recording.sha256.clone(),
        seconds: Some(recording.seconds),
        original_kind: (recording.original_kind != recording.kind)
            .then(|| recording.original_kind.to_owned()),
    };
    seal_attachment(
        core,
        key_scope,
        &facts,
        &recording.original,
        &recording.clean,
        now,
    )
}

/// Seals one held video or document (the original only; officers get no copy) as an attachment
/// under `key_scope`'s current key.
pub fn seal_held(
    core: &Core,
    key_scope: &str,
    file: &crate::domain::held::HeldFile,
    now: i64,
) -> Result<crate::store::NewAttachment, IntakeError> {
    let facts = AttachmentFacts {
        kind: HELD_KIND.to_owned(),
        size: file.original.len(),
        sha256: file.sha256.clone(),
        seconds: None,
        original_kind: Some(file.kind.to_owned()),
    };
    seal_attachment(core, key_scope, &facts, &file.original, &[], now)
}

fn seal_attachment(
    core: &Core,
    key_scope: &str,
    facts: &AttachmentFacts,
    original: &[u8],
    clean: &[u8],
    now: i64,
) -> Result<crate::store::NewAttachment, IntakeError> {
    let (_, key) = core.keyring.current(key_scope)?;
    let attachment_id = TipId::generate(now)?.get();
    let facts = serde_json::to_vec(facts).unwrap_or_default();
    Ok(crate::store::NewAttachment {
        attachment_id,
        original_sealed: key.seal(&attachment_aad("original", attachment_id), original)?,
        clean_sealed: key.seal(&attachment_aad("clean", attachment_id), clean)?,
        facts_sealed: key.seal(&attachment_aad("facts", attachment_id), &facts)?,
    })
}

/// Seals a triaged and indexed submission as a new tip stored at `now`: a fresh id, number and
/// secret, the content under the district's current data key with the row identity as associated
/// data. Triage and terms depend only on the submission, so `generate` computes them once per
/// distinct text and seals many tips with them.
pub(crate) fn seal(
    core: &Core,
    s: &Submission,
    triaged: &Triaged,
    indexed: &Indexed,
    now: i64,
) -> Result<(NewTip, Receipt), IntakeError> {
    let tip_id = TipId::generate(now)?;
    let tip_number = TipNumber::generate()?;
    let secret = TipSecret::generate()?;
    let keys = core.keyring.keys();
    let scope = triaged.district.as_deref().unwrap_or(RANGE_SCOPE);
    let (key_scope, key) = core.keyring.current(scope)?;
    let seal = |column: &str, text: &str| key.seal(&aad(column, tip_id.get()), text.as_bytes());
    let fingerprint = indexed.fingerprint.as_ref();
    let detail = json!({
        "channel": s.channel.as_str(),
        "district": triaged.district,
        "station": triaged.station,
        "category": triaged.category,
        "category_by_tipster": s.category.is_some(),
        "happening_now": s.happening_now,
        "priority": triaged.priority,
        "urgent": triaged.urgent,
        "police_involvement": triaged.police_involvement,
        "barred_station": triaged.barred_station,
    });
    let tip = NewTip {
        tip_id,
        tip_number: tip_number.as_str().to_owned(),
        secret_mac: keys
            .secret_mac(tip_number.as_str(), secret.expose())
            .to_vec(),
        channel: s.channel.as_str().to_owned(),
        district_id: triaged.district.clone(),
        station_id: triaged.station.clone(),
        category: Some(triaged.category.clone()),
        status: TipStatus::New.as_str().to_owned(),
        happening_now: s.happening_now,
        language: s.language.code().to_owned(),
        key_scope,
        text_sealed: seal("tip.text", s.text.as_str())?,
        place_sealed: s
            .place
            .as_deref()
            .map(|p| seal("tip.place", p))
            .transpose()?,
        when_sealed: s.when.as_deref().map(|w| seal("tip.when", w)).transpose()?,
        priority: triaged.priority.clone(),
        urgent: triaged.urgent,
        police_involvement: triaged.police_involvement,
        barred_station_id: triaged.barred_station.clone(),
        triage_sealed: Some(seal("tip.triage", &triaged.assessment_json)?),
        deadlines: Some(core.policy.deadlines.for_tip_in(
            &triaged.priority,
            Some(&triaged.category),
            now,
        )),
        fingerprint: fingerprint.map(Fingerprint::to_bytes),
        bands: fingerprint.map(Fingerprint::bands).unwrap_or_default(),
        terms: indexed.terms.clone(),
        created_at: now,
        inbound: None,
        attachments: {
            let mut sealed = seal_photos(core, scope, &s.photos, now)?;
            for document in &s.documents {
                sealed.push(seal_held(core, scope, document, now)?);
            }
            sealed
        },
        persons: indexed.persons.clone(),
        audit: AuditDraft {
            actor: s
                .entered_by
                .clone()
                .unwrap_or_else(|| format!("tipster:{}", s.channel.as_str())),
            action: if s.entered_by.is_some() {
                "tip.entered"
            } else {
                "tip.create"
            }
            .into(),
            subject: tip_subject(tip_id),
            detail: detail.to_string(),
            created_at: now,
        },
    };
    let receipt = Receipt {
        tip_id,
        tip_number,
        secret,
        district: s.district.clone(),
        created_at: now,
    };
    Ok((tip, receipt))
}

/// Checks a tip number and secret. Wrong guesses count against the tip number (in the database,
/// shared by all nodes) and against all tips (in memory); neither records who guessed.
pub async fn authenticate(
    core: &Core,
    number: &TipNumber,
    secret: &TipSecret,
) -> Result<TipId, IntakeError> {
    let now = core.clock.now_ms();
    if !core.guesses.is_open(now) {
        return Err(IntakeError::Busy);
    }
    let keys = core.keyring.keys();
    let candidate = keys.secret_mac(number.as_str(), secret.expose());
    let Some(auth) = core.store.tip_auth(number.as_str()).await? else {
        core.guesses.record_failure(now);
        // The same write as for a wrong secret (matching no row), so that the time taken does not
        // tell an unknown tip number from a wrong secret.
        core.store
            .record_failed_guess(TipId::from_db(0), now, GUESS_WINDOW_MS)
            .await?;
        return Err(IntakeError::NoMatch);
    };
    let window_open = auth.guess_window_start >= now - GUESS_WINDOW_MS;
    if window_open && auth.guess_failures >= GUESSES_PER_TIP {
        return Err(IntakeError::Locked);
    }
    if !ct_eq(&candidate, &auth.secret_mac) {
        core.guesses.record_failure(now);
        core.store
            .record_failed_guess(auth.tip_id, now, GUESS_WINDOW_MS)
            .await?;
        return Err(IntakeError::NoMatch);
    }
    if auth.guess_failures != 0 {
        core.store.clear_failed_guesses(auth.tip_id).await?;
    }
    Ok(auth.tip_id)
}

/// The tipster's view of a tip they have authenticated for.
pub async fn tipster_view(core: &Core, tip_id: TipId) -> Result<TipsterView, IntakeError> {
    let record = core.store.tip(tip_id).await?.ok_or(IntakeError::NoMatch)?;
    let messages = thread_of(core, &record).await?;
    view_of(record, messages)
}

/// The messages of a tip's thread the tipster sees, opened (officers' internal notes, such as a
/// reason for "not actionable", are on the thread but never shown to the tipster).
pub async fn thread_of(core: &Core, record: &TipRecord) -> Result<Vec<ThreadMessage>, IntakeError> {
    let mut messages = Vec::new();
    let shown = core
        .store
        .messages(record.tip_id)
        .await?
        .into_iter()
        .filter(|m| m.author != "note");
    for m in shown {
        let text = core.keyring.open(
            &record.key_scope,
            &aad("tip_message.body", m.message_id),
            &m.body_sealed,
        )?;
        messages.push(ThreadMessage {
            author: m.author,
            text: String::from_utf8_lossy(&text).into_owned(),
            created_at: m.created_at,
        });
    }
    Ok(messages)
}

fn view_of(r: TipRecord, messages: Vec<ThreadMessage>) -> Result<TipsterView, IntakeError> {
    Ok(TipsterView {
        tip_number: TipNumber::parse(&r.tip_number).ok_or(IntakeError::NoMatch)?,
        status: TipStatus::parse(&r.status).unwrap_or(TipStatus::New),
        district_id: r.district_id,
        created_at: r.created_at,
        updated_at: r.updated_at,
        messages,
    })
}

/// Adds a message to a tip's thread, sealed, with its audit entry. `author` is `tipster` or
/// `police`; `actor` is who is recorded in the audit log (`tipster:web`, `officer:<id>`).
pub async fn add_message(
    core: &Core,
    tip_id: TipId,
    author: &str,
    actor: &str,
    text: &TipText,
) -> Result<(), IntakeError> {
    add_message_with(core, tip_id, author, actor, text, None, Vec::new()).await
}

/// [`add_message`], with the provider message that brought it (stored once) and messages for
/// the outbox, in the same transaction.
pub async fn add_message_with(
    core: &Core,
    tip_id: TipId,
    author: &str,
    actor: &str,
    text: &TipText,
    inbound: Option<crate::store::NewInbound>,
    outbox: Vec<crate::store::NewOutbox>,
) -> Result<(), IntakeError> {
    let record = core.store.tip(tip_id).await?.ok_or(IntakeError::NoMatch)?;
    let now = core.clock.now_ms();
    let message_id = TipId::generate(now)?.get();
    let (_, key) = core.keyring.current(&record.key_scope)?;
    let body_sealed = key.seal(
        &aad("tip_message.body", message_id),
        text.as_str().as_bytes(),
    )?;
    let terms = if author == "tipster" {
        search::terms(core.keyring.keys(), text.as_str())
    } else {
        Vec::new()
    };
    let message = NewMessage {
        message_id,
        tip_id,
        author: author.to_owned(),
        body_sealed,
        terms,
        created_at: now,
        inbound,
        outbox,
        audit: AuditDraft {
            actor: actor.to_owned(),
            action: format!("message.{author}"),
            subject: tip_subject(tip_id),
            detail: json!({ "message_id": message_id }).to_string(),
            created_at: now,
        },
    };
    core.store.add_message(message).await?;
    Ok(())
}

/// Opens a tip's text (for officers, through the console; and for tests of sealing).
pub async fn open_tip_text(core: &Core, tip_id: TipId) -> Result<String, IntakeError> {
    let record = core.store.tip(tip_id).await?.ok_or(IntakeError::NoMatch)?;
    open_text_of(core, &record)
}

/// A loaded tip's triage assessment as it was decided on arrival (JSON), opened.
pub fn open_triage_of(
    core: &Core,
    record: &TipRecord,
) -> Result<Option<serde_json::Value>, IntakeError> {
    let Some(sealed) = &record.triage_sealed else {
        return Ok(None);
    };
    let plain = core.keyring.open(
        &record.key_scope,
        &aad("tip.triage", record.tip_id.get()),
        sealed,
    )?;
    Ok(serde_json::from_slice(&plain).ok())
}

/// A loaded tip's text, opened.
pub fn open_text_of(core: &Core, record: &TipRecord) -> Result<String, IntakeError> {
    let plain = core.keyring.open(
        &record.key_scope,
        &aad("tip.text", record.tip_id.get()),
        &record.text_sealed,
    )?;
    Ok(String::from_utf8_lossy(&plain).into_owned())
}
