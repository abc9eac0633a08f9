//! Urgency and police involvement, decided from cue words and their neighbourhood as
//! data/README.md defines them: urgency needs an incident in progress, a threat to life, a
//! vulnerable person in danger or missing, an imminent child marriage, or money just lost to
//! fraud, and is cancelled by hearsay (for in-progress claims), a finished event or police on the
//! spot. Police involvement needs a police actor next to money, protection, a tip-off or the
//! actor's own part in the crime; impostors and other agencies do not count.

use super::cues::{CueSet, Cues};
use super::normalize::Token;

/// Why a tip was found urgent (shown to the duty officer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UrgentReason {
    /// Happening now or the person is still there.
    InProgress,
    /// A threat to life, confinement or harm being done.
    ThreatToLife,
    /// A child or vulnerable person missing or in danger.
    VulnerablePerson,
    /// A child marriage today or tomorrow.
    ImminentChildMarriage,
    /// Money lost to fraud within the last hours.
    MoneyJustLost,
    /// A dead body found and the police not yet there.
    BodyFound,
    /// A bag or box that nobody owns: it may hide a bomb.
    SuspiciousObject,
}

/// The facts urgency is decided from.
#[derive(Clone, Copy, Debug, Default)]
pub struct UrgencyFacts {
    /// The tip's main category is cyber fraud.
    pub cyber: bool,
    /// The main category is missing persons or human trafficking.
    pub missing: bool,
    /// The main category is child marriage.
    pub child_marriage: bool,
    /// "Minutes ago" makes the tip urgent (not for the daily rackets): a robbery, a theft, a
    /// hit and run that just happened.
    pub just_now_counts: bool,
}

fn spans(set: &CueSet, tokens: &[Token]) -> Vec<(usize, usize)> {
    set.find_all(tokens)
        .iter()
        .map(|h| (h.start, h.start + h.len))
        .collect()
}

/// The reasons a tip is urgent; empty when it is not.
pub fn urgency(tokens: &[Token], cues: &Cues, facts: UrgencyFacts) -> Vec<UrgentReason> {
    let has = |set: &CueSet| set.any(tokens);
    let present = spans(&cues.present, tokens)
        .into_iter()
        .any(|(start, end)| {
            let after_ok = end >= tokens.len() || !cues.not_present.any(&tokens[end..end + 1]);
            let before_ok = start == 0 || !cues.not_present_before.any(&tokens[start - 1..start]);
            after_ok && before_ok
        });
    let mut reasons = Vec::new();
    if facts.cyber {
        if has(&cues.loss) && has(&cues.recent) && !has(&cues.hearsay) {
            reasons.push(UrgentReason::MoneyJustLost);
        }
        return reasons;
    }
    if has(&cues.over) {
        return reasons;
    }
    let past = has(&cues.past);
    // A child, an old person or someone ill; a son or daughter said to be grown ("beta 20 saal
    // ka") is not vulnerable for being away.
    let ages = stated_ages(tokens);
    let minor = ages.iter().any(|a| *a < 18)
        || ages.iter().any(|a| *a >= 60)
        || has(&cues.condition)
        || (has(&cues.vulnerable) && ages.is_empty());
    let just_happened = facts.just_now_counts && has(&cues.just_now) && !has(&cues.long_ago);
    if (present || just_happened) && !has(&cues.hearsay) {
        reasons.push(UrgentReason::InProgress);
    }
    let harm_now = harm_in_progress(tokens, cues) && !has(&cues.long_ago);
    if harm_now || (danger(tokens, cues) && (!past || present || has(&cues.ongoing))) {
        reasons.push(UrgentReason::ThreatToLife);
    }
    // A body found the day before yesterday is news for the investigation, not an alarm.
    if has(&cues.body) && !has(&cues.long_ago) && (!past || present) {
        reasons.push(UrgentReason::BodyFound);
    }
    if unattended_object(tokens, cues) {
        reasons.push(UrgentReason::SuspiciousObject);
    }
    if minor && ((facts.missing && !has(&cues.long_ago)) || has(&cues.request)) {
        reasons.push(UrgentReason::VulnerablePerson);
    }
    if facts.child_marriage && (has(&cues.imminent) || present) {
        reasons.push(UrgentReason::ImminentChildMarriage);
    }
    reasons
}

/// Violence against a person going on now: a harm verb or verbal noun with the progressive
/// ("maar raha", "मारपीट हो रही"), the Chhattisgarhi present in -त before "is" ("मारत हे",
/// "pitat havay"), or an English progressive ("is beating").
fn harm_in_progress(tokens: &[Token], cues: &Cues) -> bool {
    let is = |set: &CueSet, i: usize| {
        tokens
            .get(i)
            .is_some_and(|t| set.any(std::slice::from_ref(t)))
    };
    let hindi = cues.harm.find_all(tokens).iter().any(|h| {
        let end = h.start + h.len;
        is(&cues.progressive, end) || (is(&cues.light_verb, end) && is(&cues.progressive, end + 1))
    });
    let chhattisgarhi = tokens.iter().enumerate().any(|(i, t)| {
        is(&cues.copula_hne, i + 1)
            && cues.harm_stems.iter().any(|stem| {
                t.key
                    .strip_prefix(stem.as_str())
                    .is_some_and(|rest| matches!(rest, "t" | "at" | "vat"))
            })
    });
    hindi || chhattisgarhi || cues.harm_now.any(tokens)
}

/// A bag, box or packet that nobody owns, named with "lawaris"/"unattended" in the same sentence
/// or the next ("एक डब्बा रखाय हे। कोनो नइ उठाइस").
fn unattended_object(tokens: &[Token], cues: &Cues) -> bool {
    let objects = cues.object.find_all(tokens);
    cues.unattended.find_all(tokens).iter().any(|u| {
        let sentence = tokens[u.start].sentence;
        objects
            .iter()
            .any(|o| tokens[o.start].sentence.abs_diff(sentence) <= 1)
    })
}

/// A threat to life or confinement, except "band kar" after a verb's infinitive ("bhejna band
/// kar diya", "आना बंद कर दिया") or "hukka-pani": that is "stopped doing" or a boycott, not
/// "locked up".
fn danger(tokens: &[Token], cues: &Cues) -> bool {
    cues.danger.find_all(tokens).iter().any(|h| {
        let stopped = tokens[h.start].key.starts_with("band")
            && h.start.checked_sub(1).is_some_and(|p| {
                let k = tokens[p].key.as_str();
                k.ends_with("na") || k.ends_with("ne") || k == "pani"
            });
        !stopped
    })
}

/// Ages stated next to an age word ("17 saal", "15-year-old", "14 बछर", "62 वर्ष", "only 15",
/// "umar 16") or after a relative ("nephew (17)", "cousin is 16"); not a span of time ("2 saal
/// se", "5 years ago", "10 बछर पहिली", "bhai 2 din se").
fn stated_ages(tokens: &[Token]) -> Vec<u32> {
    const KIN: &[&str] = &[
        "nephew",
        "niece",
        "cousin",
        "son",
        "daughter",
        "brother",
        "sister",
        "beta",
        "beti",
        "bhai",
        "behen",
        "bahan",
        "bhatija",
        "bhatiji",
        "ladka",
        "ladki",
        "बेटा",
        "बेटी",
        "भाई",
        "बहन",
        "भतीजा",
        "भतीजी",
    ];
    let age = |t: &Token| t.key.parse::<u32>().ok().filter(|a| (1..120).contains(a));
    let key = |i: usize| tokens.get(i).map_or("", |t| t.key.as_str());
    let text_is = |i: usize, word: &str| {
        tokens
            .get(i)
            .is_some_and(|t| t.text.eq_ignore_ascii_case(word))
    };
    let kin = |i: usize| KIN.iter().any(|k| text_is(i, k));
    let unit = |k: &str| {
        matches!(
            k,
            "sal" | "year" | "years" | "yr" | "yrs" | "bacar" | "baras" | "vars" | "varas"
        )
    };
    (0..tokens.len())
        .filter_map(|i| {
            let after_number = key(i + 2);
            let span = matches!(
                after_number,
                "se" | "pahle" | "pehle" | "ago" | "since" | "le" | "pahili" | "bad" | "tak"
            );
            // A unit of time or count after a relative's number: "bhai 2 din se".
            let counted = unit(after_number)
                || matches!(
                    after_number,
                    "din"
                        | "ganta"
                        | "gante"
                        | "hafte"
                        | "mahine"
                        | "baje"
                        | "min"
                        | "minute"
                        | "hours"
                        | "days"
                        | "log"
                        | "hajar"
                        | "rupaye"
                );
            let of_kin = (kin(i) || (text_is(i, "is") && i > 0 && kin(i - 1))) && !counted;
            let lead = of_kin || matches!(key(i), "only" | "age" | "aged" | "umar" | "umr" | "ayu");
            if unit(key(i + 1)) && !span {
                age(&tokens[i])
            } else if lead {
                age(tokens.get(i + 1)?)
            } else {
                None
            }
        })
        .collect()
}

/// Police involvement: whether it is alleged and which police mentions carry it.
#[derive(Clone, Debug, Default)]
pub struct PoliceFinding {
    /// A police actor is accused.
    pub involved: bool,
    /// Token spans of the accused police mentions (for the named station).
    pub actors: Vec<(usize, usize)>,
    /// Collusion by anyone (police or other officials): feeds `corruption_collusion`.
    pub collusion: bool,
    /// An accused police actor demanded money (the bribe is the main complaint).
    pub demanded: bool,
    /// A sum of money paid or asked for, by anyone.
    pub payment: bool,
}

/// Looks for police (or other officials) next to money, protection or tip-off words, or a police
/// actor doing the crime himself.
pub fn police(tokens: &[Token], cues: &Cues, crime_spans: &[(usize, usize)]) -> PoliceFinding {
    let mut collusion = spans(&cues.collusion, tokens);
    let paid = payments(tokens, cues);
    let mut demands = spans(&cues.demand, tokens);
    demands.extend(paid.iter().filter(|p| p.asked).map(|p| p.span));
    collusion.extend(paid.iter().map(|p| p.span));
    collusion.extend(tip_offs(tokens, cues));
    let impostor = spans(&cues.impostor, tokens);
    let participation = spans(&cues.participation, tokens);
    let officials = spans(&cues.officials, tokens);
    // Near: anywhere in the same sentence, or within a few words across one sentence break.
    let near = |list: &[(usize, usize)], (s, e): (usize, usize), before: usize, after: usize| {
        list.iter().any(|&(a, b)| {
            let (sa, ss) = (tokens[a].sentence, tokens[s].sentence);
            sa == ss || (sa.abs_diff(ss) <= 1 && b + before > s && a < e + after)
        })
    };
    let mut finding = PoliceFinding {
        payment: !paid.is_empty(),
        ..PoliceFinding::default()
    };
    let actors = spans(&cues.police_actor, tokens);
    // Posts named as landmarks accuse nobody, but name the station when its staff are accused.
    let mut landmarks = Vec::new();
    for &actor in &actors {
        // "आबकारी विभाग के दो सिपाही": another agency's constables are not the police.
        let linking = |t: &Token| {
            matches!(
                t.key.as_str(),
                "ke" | "ka" | "ki" | "vibag" | "do" | "ek" | "tin" | "of"
            ) || t.key.parse::<u32>().is_ok()
        };
        let of_agency = officials.iter().any(|&(_, b)| {
            b <= actor.0 && actor.0 - b <= 3 && tokens[b..actor.0].iter().all(linking)
        });
        if of_agency || near(&impostor, actor, 4, 6) {
            continue;
        }
        if landmark(tokens, actor) {
            landmarks.push(actor);
            continue;
        }
        let paid = near(&collusion, actor, 10, 14);
        let himself = participation
            .iter()
            .any(|&(a, _)| a >= actor.1 && a <= actor.1 + 4)
            && crime_spans
                .iter()
                .any(|&(a, _)| a >= actor.1 && a <= actor.1 + 10);
        if paid || himself {
            finding.involved = true;
            finding.demanded |= near(&demands, actor, 10, 14);
            finding.actors.push(actor);
        }
    }
    if finding.involved {
        finding.actors.extend(landmarks);
    }
    // The post of an accused actor, named next to it ("लालपुर थाना के सिपाही", "constables from
    // Tarbahar thana"), names the accused station too.
    let accused = finding.actors.clone();
    for &other in &actors {
        let same_unit = accused.iter().any(|&(a, b)| {
            tokens[a].sentence == tokens[other.0].sentence
                && (other.1 <= a && a - other.1 <= 5 || other.0 >= b && other.0 - b <= 3)
        });
        if same_unit && !finding.actors.contains(&other) {
            finding.actors.push(other);
        }
    }
    finding.collusion = finding.involved || officials.iter().any(|&o| near(&collusion, o, 8, 12));
    finding
}

/// A police post named as a landmark ("Kotwali ke saamne wali building", "thane ke pichhe",
/// "opposite the thana"): a place, not an actor.
fn landmark(tokens: &[Token], (start, end): (usize, usize)) -> bool {
    let key = |i: usize| tokens.get(i).map_or("", |t| t.key.as_str());
    let after = matches!(key(end), "ke" | "ki")
        && matches!(
            key(end + 1),
            "samne" | "pas" | "pice" | "pic" | "picce" | "bagal" | "age" | "piche" | "pase" | "tir"
        );
    let before = (1..=2).any(|back| {
        start
            .checked_sub(back)
            .is_some_and(|p| matches!(key(p), "oposite" | "behind" | "near" | "outside" | "front"))
    });
    after || before
}

/// A sum of money paid or asked for.
struct Payment {
    span: (usize, usize),
    /// Asked for ("5000 do tabhi likhenge"), not only paid.
    asked: bool,
}

/// A sum of money with a taking or giving word right after it ("500 leke", "20,000 लिए", "paid
/// 5000", "har driver 500 deta hai"), or an asking one ("5000 do", "10 hazar dena padega"): a
/// payment, whoever is named near it. Between the sum and that word only money words and a rate
/// ("5000 per gaadi lete", "500-500 rupaye lete") may stand: "40-50 मोबाइल ले गए" is goods taken,
/// not money.
fn payments(tokens: &[Token], cues: &Cues) -> Vec<Payment> {
    let number = |t: &Token| t.key.parse::<u32>().is_ok();
    let money = |t: &Token| {
        matches!(
            t.key.as_str(),
            "hajar" | "rupaye" | "rupay" | "rupye" | "rupe" | "rs" | "lak" | "lakh" | "rupiya"
        )
    };
    let sum = |t: &Token| t.key.parse::<u32>().is_ok_and(|n| n >= 50) || money(t);
    let take = spans(&cues.take, tokens);
    let ask = spans(&cues.give_now, tokens);
    let at = |list: &[(usize, usize)], j: usize| list.iter().find(|&&(a, _)| a == j).copied();
    (0..tokens.len())
        .filter(|&i| sum(&tokens[i]))
        .filter_map(|i| {
            // After the sum: more of the amount, then at most one rate ("per gaadi").
            let mut j = i + 1;
            while tokens.get(j).is_some_and(|t| number(t) || money(t)) {
                j += 1;
            }
            if tokens
                .get(j)
                .is_some_and(|t| matches!(t.key.as_str(), "per" | "har" | "prati"))
            {
                j += 2;
            }
            let asked = at(&ask, j);
            let after = asked.or_else(|| at(&take, j));
            let before = i.checked_sub(1).and_then(|b| at(&take, b));
            after.or(before).map(|(a, b)| Payment {
                span: (a.min(i), b.max(i + 1)),
                asked: asked.is_some(),
            })
        })
        .collect()
}

/// A raid or check with "before" in the same sentence: someone is warned ahead of it.
fn tip_offs(tokens: &[Token], cues: &Cues) -> Vec<(usize, usize)> {
    let before = spans(&cues.before, tokens);
    spans(&cues.raid, tokens)
        .into_iter()
        .filter(|&(a, _)| {
            before
                .iter()
                .any(|&(b, _)| tokens[b].sentence == tokens[a].sentence)
        })
        .collect()
}
