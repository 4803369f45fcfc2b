//! The rules of time: how long each tab keeps its items (NC-R5), and which section of the list an
//! item is in (NC-R10). The clock and the time zone are passed in.

use std::fmt;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Tab;

/// NC-R5: how long a tab keeps its notifications.
pub fn retention(tab: Tab) -> Duration {
    match tab {
        Tab::General | Tab::Approval => Duration::days(90),
        Tab::Inbox => Duration::days(7),
    }
}

/// NC-R5: items of `tab` created before this instant have expired.
pub fn retention_cutoff(tab: Tab, now: DateTime<Utc>) -> DateTime<Utc> {
    now - retention(tab)
}

pub fn is_expired(tab: Tab, created_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    created_at < retention_cutoff(tab, now)
}

/// NC-R10: the list sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Today,
    Older,
}

/// NC-R10: an item is in Today when its creation falls on the current calendar day of the device's
/// time zone. Items dated after "now" (a skewed server clock) count as Today rather than vanish.
pub fn section<Z: TimeZone>(created_at: DateTime<Utc>, now: DateTime<Utc>, tz: &Z) -> Section {
    let day = |t: DateTime<Utc>| t.with_timezone(tz).date_naive();
    if day(created_at) >= day(now) {
        Section::Today
    } else {
        Section::Older
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Today => "today",
            Section::Older => "older",
        })
    }
}
