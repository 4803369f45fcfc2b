//! How long the engine waits between attempts (MW-2): the server's `Retry-After` when it gave one,
//! plus a little jitter so that every client of a recovering server does not return in the same
//! second; otherwise exponential backoff with full jitter.
//!
//! A server-given delay is read by `lonceng_domain::net::RetryAfter` (both forms, capped at
//! `MAX_SERVER_DELAY`), and believed only as far as [`believable`] says: one bad proxy header must
//! not silence an agent for a morning.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lonceng_domain::net::RetryAfter;
use lonceng_domain::protocol::MaintenanceStatus;
use rand::Rng;

use super::SyncConfig;

/// A random wait from zero to `max`.
pub(super) fn jitter(max: Duration) -> Duration {
    if max.is_zero() {
        return max;
    }
    Duration::from_millis(rand::rng().random_range(0..=max.as_millis().min(u64::MAX as u128) as u64))
}

/// A server-given wait longer than this, with no maintenance announced, is not believed.
pub(super) const UNANNOUNCED_LIMIT: Duration = Duration::from_secs(3600);

/// Clocks differ and windows overrun a little: what an announced end is believed beyond.
const ANNOUNCED_SLACK: Duration = Duration::from_secs(15 * 60);

/// MW-2: the wait the server asked for (capped), and a tenth of it (at most 5 s) of jitter; `None`
/// when the ask is beyond any believable maintenance (the caller backs off as usual instead).
pub(super) fn after_retry_after(
    asked: RetryAfter,
    now: DateTime<Utc>,
    announced: Option<&MaintenanceStatus>,
) -> Option<Duration> {
    let asked = asked.delay(now);
    (asked <= believable(now, announced))
        .then(|| asked.saturating_add(jitter((asked / 10).min(Duration::from_secs(5)))))
}

/// The longest believable wait: an hour, or until the end of the maintenance the server announced
/// (the running one's `until`, a window that has begun) with some slack, whichever is later.
fn believable(now: DateTime<Utc>, announced: Option<&MaintenanceStatus>) -> Duration {
    let ends = announced.into_iter().flat_map(|m| {
        let windows = m.windows.iter().filter(|w| w.starts_at <= now).map(|w| w.ends_at);
        m.until.into_iter().chain(windows)
    });
    let until_end = ends.max().and_then(|end| (end - now).to_std().ok()).unwrap_or_default();
    UNANNOUNCED_LIMIT.max(until_end.saturating_add(ANNOUNCED_SLACK))
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
    use lonceng_domain::net::MAX_SERVER_DELAY;

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
        let wait = after_retry_after(RetryAfter::Seconds(120), now, None).unwrap();
        assert!(wait >= Duration::from_secs(120) && wait <= Duration::from_secs(125));
    }

    fn window(now: DateTime<Utc>, from_h: i64, to_h: i64) -> MaintenanceStatus {
        MaintenanceStatus {
            active: from_h <= 0,
            until: None,
            windows: vec![lonceng_domain::protocol::MaintenanceWindow {
                id: 1,
                starts_at: now + chrono::Duration::hours(from_h),
                ends_at: now + chrono::Duration::hours(to_h),
                message: String::new(),
            }],
        }
    }

    // MW-2: a wait beyond any believable maintenance is not obeyed; one within it is.
    #[test]
    fn mw2_a_retry_after_beyond_the_announced_window_is_not_believed() {
        let now: DateTime<Utc> = "2026-01-20T06:00:00Z".parse().unwrap();
        let hours = |h: u64| RetryAfter::Seconds(h * 3600);
        assert_eq!(after_retry_after(hours(6), now, None), None, "nothing announced: an hour at most");
        assert!(after_retry_after(RetryAfter::Seconds(3600), now, None).is_some());
        // A three-hour window running: three hours are believed, six are not.
        let running = window(now, -1, 3);
        assert!(after_retry_after(hours(3), now, Some(&running)).is_some());
        assert_eq!(after_retry_after(hours(6), now, Some(&running)), None);
        // A window announced for later does not make a long wait now believable.
        assert_eq!(after_retry_after(hours(3), now, Some(&window(now, 2, 5))), None);
        // The running maintenance's own `until` counts too.
        let until = MaintenanceStatus {
            active: true,
            until: Some(now + chrono::Duration::hours(4)),
            windows: vec![],
        };
        assert!(after_retry_after(hours(4), now, Some(&until)).is_some());
        // An HTTP-date in the past: no wait at all.
        assert_eq!(
            after_retry_after(RetryAfter::At(now - chrono::Duration::hours(1)), now, None),
            Some(Duration::ZERO)
        );
    }

    // MW-2: the jitter on a capped wait never overflows.
    #[test]
    fn mw2_jitter_on_the_longest_wait_does_not_overflow() {
        let now: DateTime<Utc> = "1994-11-06T08:00:00Z".parse().unwrap();
        let announced =
            MaintenanceStatus { active: true, until: Some(DateTime::<Utc>::MAX_UTC), windows: vec![] };
        let wait = after_retry_after(RetryAfter::Seconds(u64::MAX), now, Some(&announced)).unwrap();
        assert!(wait >= MAX_SERVER_DELAY && wait <= MAX_SERVER_DELAY + Duration::from_secs(5));
    }
}
