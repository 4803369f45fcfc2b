//! Whether a toast readies the bell window hidden. An agent who sees a toast is likely to click
//! it or the icon, and a readied window opens in a few milliseconds instead of a few hundred; but
//! a readied window is WebKit alive (about 150 MB) for the linger, and on a busy day toasts come
//! every few seconds, so WebKit would never go (measured in docs/PERFORMANCE.md). So: every toast
//! readies the window while the agent uses it (opened it since the last readying) or while toasts
//! are sparse; toasts the agent lets pass ready it at most once a [`QUIET_SPELL`].

use std::time::{Duration, Instant};

/// How often toasts the agent lets pass ready the window.
pub const QUIET_SPELL: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct Readiness {
    /// When a toast last readied the window.
    last: Option<Instant>,
    /// Whether the window was opened since.
    used: bool,
}

impl Readiness {
    /// A toast appeared at `now`: whether it readies the window.
    pub fn toast(&mut self, now: Instant) -> bool {
        let ready = match self.last {
            None => true,
            Some(last) => self.used || now.saturating_duration_since(last) >= QUIET_SPELL,
        };
        if ready {
            self.last = Some(now);
            self.used = false;
        }
        ready
    }

    /// The agent opened the window.
    pub fn opened(&mut self) {
        self.used = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which of toasts every `every` for `spell` ready the window, when the agent opens it after
    /// the toasts numbered in `opened_after`.
    fn readied(every: Duration, spell: Duration, opened_after: &[usize]) -> Vec<usize> {
        let t0 = Instant::now();
        let mut r = Readiness::default();
        let n = (spell.as_secs_f64() / every.as_secs_f64()) as usize;
        let mut out = Vec::new();
        for i in 0..n {
            if r.toast(t0 + every * i as u32) {
                out.push(i);
            }
            if opened_after.contains(&i) {
                r.opened();
            }
        }
        out
    }

    #[test]
    fn sparse_toasts_each_ready_the_window() {
        let every = Duration::from_secs(60);
        assert_eq!(readied(every, Duration::from_secs(600), &[]), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn toasts_every_few_seconds_that_the_agent_lets_pass_ready_it_once_a_minute() {
        let every = Duration::from_secs(3);
        let got = readied(every, Duration::from_secs(600), &[]);
        assert_eq!(got, (0..10).map(|m| m * 20).collect::<Vec<_>>(), "one in twenty: once a minute");
    }

    #[test]
    fn while_the_agent_opens_the_window_every_toast_readies_it_again() {
        let every = Duration::from_secs(3);
        // Opened after toasts 0..5: each readies it, then the quiet spell applies again.
        let got = readied(every, Duration::from_secs(120), &[0, 1, 2, 3, 4]);
        assert_eq!(got, [0, 1, 2, 3, 4, 5, 25]);
    }
}
