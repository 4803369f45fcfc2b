//! How long the engine waits between attempts (MW-2): the server's `Retry-After` when it gave one,
//! plus a little jitter so that every client of a recovering server does not return in the same
//! second; otherwise exponential backoff with full jitter.
//!
//! A server-given delay is data from the network: it is parsed in both of its forms (seconds and
//! HTTP-date), never overflows, and is capped at [`MAX_SERVER_DELAY`] (a maintenance window lasts
//! hours, not years); after the cap the engine simply tries again.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use rand::Rng;

use super::SyncConfig;

/// The longest wait a server can ask for.
pub const MAX_SERVER_DELAY: Duration = Duration::from_secs(6 * 3600);

/// A `Retry-After` header as sent: a number of seconds, or an HTTP-date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// Seconds (saturated: a 20-digit number is `u64::MAX`).
    Seconds(u64),
    At(DateTime<Utc>),
}

impl RetryAfter {
    /// Parses the header value; `None` for what is neither form.
    pub fn parse(value: &str) -> Option<RetryAfter> {
        let v = value.trim();
        if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            return Some(RetryAfter::Seconds(v.parse().unwrap_or(u64::MAX)));
        }
        // IMF-fixdate (and the obsolete RFC 850 and asctime forms HTTP still allows).
        if let Ok(t) = DateTime::parse_from_rfc2822(v) {
            return Some(RetryAfter::At(t.with_timezone(&Utc)));
        }
        ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
            .map(|t| RetryAfter::At(t.and_utc()))
    }

    /// How long to wait from `now`, at most [`MAX_SERVER_DELAY`] (a date in the past: no wait).
    pub fn delay(self, now: DateTime<Utc>) -> Duration {
        let asked = match self {
            RetryAfter::Seconds(s) => Duration::from_secs(s),
            RetryAfter::At(t) => (t - now).to_std().unwrap_or(Duration::ZERO),
        };
        asked.min(MAX_SERVER_DELAY)
    }
}

/// A random wait from zero to `max`.
pub(super) fn jitter(max: Duration) -> Duration {
    if max.is_zero() {
        return max;
    }
    Duration::from_millis(rand::rng().random_range(0..=max.as_millis().min(u64::MAX as u128) as u64))
}

/// The wait the server asked for (capped), and a tenth of it (at most 5 s) of jitter.
pub(super) fn after_retry_after(asked: RetryAfter, now: DateTime<Utc>) -> Duration {
    let asked = asked.delay(now);
    asked.saturating_add(jitter((asked / 10).min(Duration::from_secs(5))))
}

/// Exponential backoff for the `attempt`-th failure in a row, with full jitter; `slow` waits the
/// longest at once (a refused sign-in or a damaged store will not fix itself quickly).
pub(super) fn backoff(config: &SyncConfig, attempt: u32, slow: bool) -> Duration {
    let base = if slow {
        config.backoff_max
    } else {
        config.backoff_min.saturating_mul(2u32.saturating_pow(attempt.min(20))).min(config.backoff_max)
    };
    base / 2 + jitter(base / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mw2_backoff_grows_to_its_cap_with_jitter_and_waits_what_the_server_asked() {
        let config = SyncConfig::default();
        for attempt in [0, 3, 40, u32::MAX] {
            let wait = backoff(&config, attempt, false);
            let base = config
                .backoff_min
                .saturating_mul(2u32.saturating_pow(attempt.min(20)))
                .min(config.backoff_max);
            assert!(wait >= base / 2 && wait <= base, "attempt {attempt}: {wait:?}");
        }
        assert!(backoff(&config, 0, true) >= config.backoff_max / 2);
        let now = "2026-01-20T01:00:00Z".parse().unwrap();
        let wait = after_retry_after(RetryAfter::Seconds(120), now);
        assert!(wait >= Duration::from_secs(120) && wait <= Duration::from_secs(125));
    }

    // MW-2: a server can ask for any wait, in either form, and never for more than the cap.
    #[test]
    fn mw2_retry_after_is_read_in_both_forms_and_capped_without_overflow() {
        let now: DateTime<Utc> = "1994-11-06T08:00:00Z".parse().unwrap();
        assert_eq!(RetryAfter::parse("120"), Some(RetryAfter::Seconds(120)));
        assert_eq!(RetryAfter::parse(" 99999999999999999999 "), Some(RetryAfter::Seconds(u64::MAX)));
        let at = |s: &str| RetryAfter::parse(s).map(|r| r.delay(now));
        let minutes = Some(Duration::from_secs(49 * 60 + 37));
        assert_eq!(at("Sun, 06 Nov 1994 08:49:37 GMT"), minutes);
        assert_eq!(at("Sunday, 06-Nov-94 08:49:37 GMT"), minutes);
        assert_eq!(at("Sun Nov  6 08:49:37 1994"), minutes);
        assert_eq!(at("Sat, 05 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO), "a date gone by: no wait");
        assert_eq!(at("Fri, 31 Dec 9999 23:59:59 GMT"), Some(MAX_SERVER_DELAY));
        for bad in ["", "-1", "1.5", "soon", "12 s", "Sun, 06 Nov 1994"] {
            assert_eq!(RetryAfter::parse(bad), None, "{bad}");
        }
        assert_eq!(RetryAfter::Seconds(u64::MAX).delay(now), MAX_SERVER_DELAY);
        let wait = after_retry_after(RetryAfter::Seconds(u64::MAX), now);
        assert!(wait >= MAX_SERVER_DELAY && wait <= MAX_SERVER_DELAY + Duration::from_secs(5));
    }
}
