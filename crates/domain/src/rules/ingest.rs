//! What the server admits from a producer: the rules' decision (NC-R1, NC-R2, NC-R4) for an event
//! whose time is believable and whose link the organisation's policy allows; a recipient whose
//! item would already be past its tab's retention gets nothing (NC-R5), so nothing expired is ever
//! listed. Times are checked against the server's clock, passed in.

use chrono::{DateTime, Duration, Utc};

use super::{decide, is_expired, Decision, InvalidEvent, Outcome, ProducerEvent, SuppressReason};
use crate::link::UrlPolicy;

/// The earliest time an event may carry.
const EARLIEST: &str = "2000-01-01T00:00:00Z";

/// How far ahead of the server's clock an event may be dated (clocks differ; not by days).
fn latest(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_add_signed(Duration::days(1)).unwrap_or(now)
}

pub fn admit(event: &ProducerEvent, now: DateTime<Utc>, links: &UrlPolicy) -> Result<Outcome, InvalidEvent> {
    let (at, url) = match event {
        ProducerEvent::Notification(e) => (e.occurred_at, &e.url),
        ProducerEvent::ChatMessage(m) => (m.received_at, &m.url),
    };
    let earliest: DateTime<Utc> = EARLIEST.parse().unwrap_or(DateTime::<Utc>::MIN_UTC);
    if at < earliest || at > latest(now) {
        return Err(InvalidEvent::BadTime(at));
    }
    let outcome = decide(event)?;
    if let Some(why) = links.refusal(url) {
        return Err(InvalidEvent::Link(why));
    }
    Ok(match outcome {
        Outcome::List(decisions) => Outcome::List(
            decisions
                .into_iter()
                .map(|d| match d {
                    Decision::Notify(draft) if is_expired(draft.category.tab(), draft.created_at, now) => {
                        Decision::Suppressed {
                            recipient_id: draft.recipient_id,
                            reason: SuppressReason::Expired,
                        }
                    }
                    d => d,
                })
                .collect(),
        ),
        toast_only => toast_only,
    })
}
