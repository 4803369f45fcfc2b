//! Quiet hours: a weekly schedule in the device's time zone during which toasts are held, and
//! the one mechanism the tray's pause shares with it. A period starts on one of its days at
//! `start` and ends at `end` (the next day when `end` is not after `start`: 22:00–07:00). Local
//! times are turned into instants only here, so that a period keeps its wall-clock ends across a
//! daylight-saving change: 22:00–07:00 lasts eight hours on the night the clocks go forward.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Local, LocalResult, NaiveDate, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

use lonceng_domain::model::Category;

/// Minutes in a day: `start` and `end` are below it.
pub const DAY_MINUTES: u16 = 24 * 60;

/// A day of the week, as the schedule names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub const ALL: [Day; 7] = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sat, Day::Sun];

    pub fn of(w: Weekday) -> Day {
        Day::ALL[w.num_days_from_monday() as usize]
    }
}

/// The agent's weekly quiet hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct QuietHours {
    pub enabled: bool,
    /// The days a quiet period starts on.
    pub days: BTreeSet<Day>,
    /// Minutes after local midnight.
    pub start: u16,
    /// Minutes after local midnight; at or before `start` means the next day (the same time: a
    /// whole day).
    pub end: u16,
    /// Categories that toast even during quiet hours and a pause (silently).
    pub breakthrough: BTreeSet<Category>,
}

impl Default for QuietHours {
    fn default() -> Self {
        QuietHours {
            enabled: false,
            days: Day::ALL.into_iter().collect(),
            start: 22 * 60,
            end: 7 * 60,
            breakthrough: BTreeSet::new(),
        }
    }
}

/// The time zone times of day are read in: the device's, or a named one (tests, a server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Device,
    Named(chrono_tz::Tz),
}

impl Zone {
    /// The instant `minutes` after midnight on `date` here. A time skipped by a daylight-saving
    /// jump becomes the first instant after the jump; a repeated one, its first occurrence.
    pub fn at(self, date: NaiveDate, minutes: u16) -> Option<DateTime<Utc>> {
        match self {
            Zone::Device => at(&Local, date, minutes),
            Zone::Named(tz) => at(&tz, date, minutes),
        }
    }

    /// The calendar day of `t` here.
    pub fn date(self, t: DateTime<Utc>) -> NaiveDate {
        match self {
            Zone::Device => t.with_timezone(&Local).date_naive(),
            Zone::Named(tz) => t.with_timezone(&tz).date_naive(),
        }
    }

    /// Minutes after midnight of `t` here.
    pub fn minutes(self, t: DateTime<Utc>) -> u16 {
        use chrono::Timelike;
        let time = match self {
            Zone::Device => t.with_timezone(&Local).time(),
            Zone::Named(tz) => t.with_timezone(&tz).time(),
        };
        (time.hour() * 60 + time.minute()) as u16
    }
}

fn at<Z: TimeZone>(zone: &Z, date: NaiveDate, minutes: u16) -> Option<DateTime<Utc>> {
    let mut local = date.and_hms_opt(u32::from(minutes / 60), u32::from(minutes % 60), 0)?;
    // Jumps are at most a few hours; step through one a minute at a time.
    for _ in 0..=240 {
        match zone.from_local_datetime(&local) {
            LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
            // Not the first of the pair: chrono's `Local` gives the later occurrence first.
            LocalResult::Ambiguous(a, b) => return Some(a.min(b).with_timezone(&Utc)),
            LocalResult::None => local += chrono::Duration::minutes(1),
        }
    }
    None
}

impl QuietHours {
    /// Why a schedule cannot be kept, if it cannot.
    pub fn problem(&self) -> Option<String> {
        (self.start >= DAY_MINUTES || self.end >= DAY_MINUTES).then(|| {
            format!("quiet hours run from {} to {}: both must be times of day", self.start, self.end)
        })
    }

    /// The period that starts on `date`, if it is one of the days.
    fn period(&self, date: NaiveDate, zone: Zone) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.days.contains(&Day::of(date.weekday())) {
            return None;
        }
        let end_date = if self.end > self.start { date } else { date.succ_opt()? };
        Some((zone.at(date, self.start)?, zone.at(end_date, self.end)?))
    }

    /// When the quiet period `now` falls in ends, if it falls in one. Whole days in a row are one
    /// period.
    pub fn until(&self, now: DateTime<Utc>, zone: Zone) -> Option<DateTime<Utc>> {
        if !self.enabled || self.problem().is_some() {
            return None;
        }
        let today = zone.date(now);
        // A period that started yesterday may run across midnight.
        let mut end = [today.pred_opt()?, today]
            .into_iter()
            .filter_map(|d| self.period(d, zone))
            .find(|(start, end)| *start <= now && now < *end)?
            .1;
        for _ in 0..7 {
            match self.period(zone.date(end), zone) {
                Some((start, next)) if start == end => end = next,
                _ => break,
            }
        }
        Some(end)
    }
}

/// Why toasts are held now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum QuietKind {
    /// The agent paused them (the tray: 1 hour, until tomorrow).
    Paused,
    /// The weekly quiet hours.
    Scheduled,
}

/// Toasts are held until `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(rename = "Quiet")]
pub struct QuietState {
    pub kind: QuietKind,
    pub until: DateTime<Utc>,
}

/// The snooze menu's times: in an hour; this afternoon at 13:00 (offered in the morning only);
/// tomorrow at 08:00; all in the device's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SnoozeTimes {
    pub hour: DateTime<Utc>,
    pub afternoon: Option<DateTime<Utc>>,
    pub tomorrow: DateTime<Utc>,
}

pub fn snooze_times(now: DateTime<Utc>, zone: Zone) -> Option<SnoozeTimes> {
    let today = zone.date(now);
    let afternoon = (zone.minutes(now) < 12 * 60).then(|| zone.at(today, 13 * 60)).flatten();
    Some(SnoozeTimes {
        hour: now + chrono::Duration::hours(1),
        afternoon,
        tomorrow: zone.at(today.succ_opt()?, 8 * 60)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Asia::Jakarta, Europe::Berlin};

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn nights(days: &[Day]) -> QuietHours {
        QuietHours { enabled: true, days: days.iter().copied().collect(), ..QuietHours::default() }
    }

    #[test]
    fn a_night_period_runs_across_midnight_in_the_devices_zone() {
        let q = nights(&Day::ALL);
        let z = Zone::Named(Jakarta);
        // 21:59 Jakarta (14:59Z): not yet; 22:00: until 07:00 the next morning (00:00Z).
        assert_eq!(q.until(utc("2026-01-20T14:59:00Z"), z), None);
        assert_eq!(q.until(utc("2026-01-20T15:00:00Z"), z), Some(utc("2026-01-21T00:00:00Z")));
        // 03:00 Jakarta: the period that started yesterday.
        assert_eq!(q.until(utc("2026-01-20T20:00:00Z"), z), Some(utc("2026-01-21T00:00:00Z")));
        // 07:00 sharp: over.
        assert_eq!(q.until(utc("2026-01-21T00:00:00Z"), z), None);
        assert_eq!(QuietHours { enabled: false, ..q }.until(utc("2026-01-20T20:00:00Z"), z), None);
    }

    #[test]
    fn only_the_chosen_days_start_a_period() {
        // Weeknights only: Friday night (starting Friday) is quiet, Saturday night is not.
        let q = nights(&[Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri]);
        let z = Zone::Named(Jakarta);
        // Sat 2026-01-24 02:00 Jakarta: Friday's period.
        assert!(q.until(utc("2026-01-23T19:00:00Z"), z).is_some());
        // Sat 23:00 and Sun 02:00 Jakarta: none.
        assert_eq!(q.until(utc("2026-01-24T16:00:00Z"), z), None);
        assert_eq!(q.until(utc("2026-01-24T19:00:00Z"), z), None);
        // Mon 02:00: Sunday did not start one either.
        assert_eq!(q.until(utc("2026-01-25T19:00:00Z"), z), None);
    }

    #[test]
    fn daylight_saving_keeps_the_wall_clock_ends() {
        let q = nights(&Day::ALL);
        let z = Zone::Named(Berlin);
        // Clocks go forward on 2026-03-29 at 02:00 CET: 22:00 CET (21:00Z) to 07:00 CEST (05:00Z),
        // eight hours.
        assert_eq!(q.until(utc("2026-03-28T21:00:00Z"), z), Some(utc("2026-03-29T05:00:00Z")));
        // Back on 2026-10-25 at 03:00 CEST: 22:00 CEST (20:00Z) to 07:00 CET (06:00Z), ten hours.
        assert_eq!(q.until(utc("2026-10-24T20:00:00Z"), z), Some(utc("2026-10-25T06:00:00Z")));
        // A period that ends at a time the jump skips ends when the jump lands: 01:00–02:30.
        let skipped = QuietHours { start: 60, end: 150, ..q.clone() };
        assert_eq!(skipped.until(utc("2026-03-29T00:30:00Z"), z), Some(utc("2026-03-29T01:00:00Z")));
        // New York (2026-03-08 and 2026-11-01) as well.
        let ny = Zone::Named(New_York);
        assert_eq!(q.until(utc("2026-03-08T03:00:00Z"), ny), Some(utc("2026-03-08T11:00:00Z")));
        assert_eq!(q.until(utc("2026-11-01T02:30:00Z"), ny), Some(utc("2026-11-01T12:00:00Z")));
    }

    #[test]
    fn a_period_starting_in_the_repeated_hour_starts_at_its_first_occurrence() {
        // Berlin, 2026-10-25: 02:00–03:00 happens twice (CEST, 00:00–01:00Z; then CET, 01:00–02:00Z).
        let q = QuietHours { start: 2 * 60 + 30, end: 6 * 60, ..nights(&Day::ALL) };
        let z = Zone::Named(Berlin);
        assert_eq!(
            z.at(NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(), 150),
            Some(utc("2026-10-25T00:30:00Z"))
        );
        // 02:40 CEST, the first time round: quiet already, until 06:00 CET.
        assert_eq!(q.until(utc("2026-10-25T00:40:00Z"), z), Some(utc("2026-10-25T05:00:00Z")));
        // 02:10 CEST, before the start: not yet.
        assert_eq!(q.until(utc("2026-10-25T00:10:00Z"), z), None);
        // 02:10 CET, the second time round: within the period, which began an hour ago.
        assert_eq!(q.until(utc("2026-10-25T01:10:00Z"), z), Some(utc("2026-10-25T05:00:00Z")));
        // The device's zone (chrono's `Local`) names the later occurrence first: still the first.
        let day = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        assert_eq!(at(&LaterFirst(Berlin), day, 150), Some(utc("2026-10-25T00:30:00Z")));
    }

    /// A zone that gives a repeated time's two instants the way `Local` does on Linux, later first.
    #[derive(Clone, Copy)]
    struct LaterFirst(chrono_tz::Tz);

    impl TimeZone for LaterFirst {
        type Offset = <chrono_tz::Tz as TimeZone>::Offset;
        fn from_offset(o: &Self::Offset) -> Self {
            LaterFirst(chrono_tz::Tz::from_offset(o))
        }
        fn offset_from_local_date(&self, d: &NaiveDate) -> LocalResult<Self::Offset> {
            #[allow(deprecated)]
            self.0.offset_from_local_date(d)
        }
        fn offset_from_local_datetime(&self, d: &chrono::NaiveDateTime) -> LocalResult<Self::Offset> {
            match self.0.offset_from_local_datetime(d) {
                LocalResult::Ambiguous(a, b) => LocalResult::Ambiguous(b, a),
                other => other,
            }
        }
        fn offset_from_utc_date(&self, d: &NaiveDate) -> Self::Offset {
            #[allow(deprecated)]
            self.0.offset_from_utc_date(d)
        }
        fn offset_from_utc_datetime(&self, d: &chrono::NaiveDateTime) -> Self::Offset {
            self.0.offset_from_utc_datetime(d)
        }
    }

    #[test]
    fn whole_days_in_a_row_are_one_period_and_bad_times_none() {
        let q = QuietHours { start: 0, end: 0, ..nights(&[Day::Sat, Day::Sun]) };
        let z = Zone::Named(Jakarta);
        // Saturday 10:00 Jakarta: quiet until Monday 00:00 Jakarta (Sunday 17:00Z).
        assert_eq!(q.until(utc("2026-01-24T03:00:00Z"), z), Some(utc("2026-01-25T17:00:00Z")));
        assert_eq!(q.until(utc("2026-01-26T03:00:00Z"), z), None);
        let bad = QuietHours { start: 1440, ..nights(&Day::ALL) };
        assert!(bad.problem().is_some());
        assert_eq!(bad.until(utc("2026-01-24T03:00:00Z"), z), None);
    }

    #[test]
    fn snooze_times_are_wall_clock_times_where_the_agent_is() {
        let z = Zone::Named(Jakarta);
        // 09:30 Jakarta: an hour, 13:00 today, 08:00 tomorrow.
        let t = snooze_times(utc("2026-01-20T02:30:00Z"), z).unwrap();
        assert_eq!(t.hour, utc("2026-01-20T03:30:00Z"));
        assert_eq!(t.afternoon, Some(utc("2026-01-20T06:00:00Z")));
        assert_eq!(t.tomorrow, utc("2026-01-21T01:00:00Z"));
        // 23:30 Jakarta: no afternoon; tomorrow is the next calendar day, not eight hours on.
        let late = snooze_times(utc("2026-01-20T16:30:00Z"), z).unwrap();
        assert_eq!(late.afternoon, None);
        assert_eq!(late.tomorrow, utc("2026-01-21T01:00:00Z"));
        // Across the spring-forward night in Berlin: 08:00 CEST is 06:00Z.
        let b = snooze_times(utc("2026-03-28T20:00:00Z"), Zone::Named(Berlin)).unwrap();
        assert_eq!(b.tomorrow, utc("2026-03-29T06:00:00Z"));
    }
}
