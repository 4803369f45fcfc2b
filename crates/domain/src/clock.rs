//! Time is passed in, never read inside logic: components take a [`Clock`], so that tests can make
//! hours pass in milliseconds and check every boundary.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(start))
    }

    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }

    /// Moves the clock on by `d`, stopping at the latest instant there is (never overflowing).
    pub fn advance(&self, d: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t = t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Waiting, as a dependency: the sync engine's backoff and poll intervals go through it.
pub trait Sleeper: Send + Sync + 'static {
    fn sleep(&self, d: std::time::Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// Real waiting.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, d: std::time::Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// Waiting that moves a [`ManualClock`] instead of time passing: an hour of backoff takes a
/// millisecond. It still yields, so other tasks run in between, and it records what was slept.
#[derive(Debug)]
pub struct FastForward {
    clock: Arc<ManualClock>,
    /// The total slept, and in how many sleeps.
    slept: Arc<Mutex<(std::time::Duration, u32)>>,
}

impl FastForward {
    pub fn new(clock: Arc<ManualClock>) -> FastForward {
        FastForward { clock, slept: Arc::default() }
    }

    /// The total time "slept" so far.
    pub fn slept(&self) -> std::time::Duration {
        self.slept.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// The total time "slept" and how many sleeps it took, read together (a sleep is recorded as it
    /// starts, so a loop may be one sleep ahead of what else a test counts).
    pub fn sleeps(&self) -> (std::time::Duration, u32) {
        *self.slept.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Sleeper for FastForward {
    fn sleep(&self, d: std::time::Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        self.clock.advance(Duration::from_std(d).unwrap_or(Duration::MAX));
        {
            let mut slept = self.slept.lock().unwrap_or_else(|p| p.into_inner());
            slept.0 += d;
            slept.1 = slept.1.saturating_add(1);
        }
        // A real pause too (short), so that a fast-forwarded loop never starves a server in the test.
        Box::pin(tokio::time::sleep(std::time::Duration::from_millis(5)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = "2026-01-20T01:00:00Z".parse().unwrap();
        let c = ManualClock::new(start);
        assert_eq!(c.now(), start);
        c.advance(Duration::hours(5));
        assert_eq!(c.now(), start + Duration::hours(5));
        c.set(start);
        assert_eq!(c.now(), start);
    }
}
