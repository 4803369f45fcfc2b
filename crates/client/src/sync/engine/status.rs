//! MW-2: a failed session as the bell window and the tray show it, a calm status (reconnecting,
//! maintenance until…, offline with the reason) and when the next attempt comes, never an error
//! toast; and how long that wait is for each failure ([`pacing`](crate::sync::pacing)).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{SyncEngine, SyncError};
use crate::sync::pacing;
use crate::sync::source::{Source, SourceError};
use crate::sync::ConnState;

impl<S: Source> SyncEngine<S> {
    /// How long to wait before the next attempt: what the server asked, when believable.
    fn delay(&self, e: &SyncError, attempt: u32) -> Duration {
        if let SyncError::Source(SourceError::Unavailable { retry_after: Some(r), .. }) = e {
            let announced = self.status.borrow().maintenance.clone();
            match pacing::after_retry_after(*r, self.clock.now(), announced.as_ref()) {
                Some(wait) => return wait,
                None => {
                    tracing::warn!(asked = ?r, "a Retry-After beyond any announced maintenance: backing off instead")
                }
            }
        }
        let slow = matches!(
            e,
            SyncError::Source(SourceError::Unauthorized(_) | SourceError::Untrusted(_)) | SyncError::Store(_)
        );
        pacing::backoff(&self.config, attempt, slow)
    }

    /// A panicked session: the status says so (offline, with the reason), and when it retries.
    pub(super) fn fault(&mut self, e: &SyncError, wait: Duration) {
        let next_attempt_at = self.next_attempt_at(wait);
        self.status.send_modify(|s| s.state = ConnState::Offline { reason: e.to_string(), next_attempt_at });
    }

    fn next_attempt_at(&self, wait: Duration) -> DateTime<Utc> {
        let now = self.clock.now();
        chrono::Duration::from_std(wait).ok().and_then(|w| now.checked_add_signed(w)).unwrap_or(now)
    }

    /// A failed session: the status it shows, and how long to wait (the maintenance the server
    /// announces is read first, because it decides how long a wait is believable).
    pub(super) async fn report_failure(&mut self, e: &SyncError, attempt: u32) -> Duration {
        let maintenance = matches!(e, SyncError::Source(SourceError::Unavailable { maintenance: true, .. }));
        let mut until = None;
        if maintenance {
            let status = self.source.maintenance().await.ok().flatten();
            until = status.as_ref().and_then(|m| m.until);
            if status.is_some() {
                self.status.send_modify(|s| s.maintenance = status);
            }
        }
        let wait = self.delay(e, attempt);
        let next_attempt_at = self.next_attempt_at(wait);
        let state = match e {
            _ if maintenance => ConnState::Maintenance { until, next_attempt_at },
            SyncError::Source(SourceError::Unauthorized(m) | SourceError::Untrusted(m)) => {
                ConnState::Offline { reason: m.clone(), next_attempt_at }
            }
            SyncError::Store(e) => ConnState::Offline { reason: e.to_string(), next_attempt_at },
            _ => ConnState::Reconnecting { next_attempt_at },
        };
        tracing::info!(error = %e, ?wait, "sync interrupted");
        self.status.send_modify(|s| s.state = state);
        wait
    }
}
