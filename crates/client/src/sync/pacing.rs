//! How long the engine waits between attempts (MW-2): the server's `Retry-After` when it gave one,
//! plus a little jitter so that every client of a recovering server does not return in the same
//! second; otherwise exponential backoff with full jitter.
//!
//! A server-given delay is read by `lonceng_domain::net::RetryAfter` (both forms, capped at
//! `MAX_SERVER_DELAY`); after the cap the engine simply tries again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lonceng_domain::net::RetryAfter;
use rand::Rng;

use super::SyncConfig;

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
        let wait = after_retry_after(RetryAfter::Seconds(120), now);
        assert!(wait >= Duration::from_secs(120) && wait <= Duration::from_secs(125));
    }

    // MW-2: the jitter on a capped wait never overflows.
    #[test]
    fn mw2_jitter_on_the_longest_wait_does_not_overflow() {
        let now: DateTime<Utc> = "1994-11-06T08:00:00Z".parse().unwrap();
        let wait = after_retry_after(RetryAfter::Seconds(u64::MAX), now);
        assert!(wait >= MAX_SERVER_DELAY && wait <= MAX_SERVER_DELAY + Duration::from_secs(5));
    }
}
