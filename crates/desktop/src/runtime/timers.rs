//! What runs by the clock besides sync: snoozed items brought back at their time (through the one
//! path for actions) and the search index kept up to date. Quiet hours have one timer, the toast
//! center's own (`lonceng_client::toast::drive`).

use std::sync::Arc;
use std::time::Duration;

use lonceng_client::sync::SharedStore;
use tokio_util::sync::CancellationToken;

use crate::actions::UiNotify;
use crate::views::UiEvent;

use super::Desktop;

impl Desktop {
    /// Brings snoozed items back at their time: unread, with a fresh toast (quiet hours permitting).
    /// It sleeps until the next snooze ends, at most a minute (the clock may be changed), and wakes
    /// when one is set.
    pub(super) fn spawn_snooze_timer(&self) {
        let (actions, clock, shutdown) = (self.actions.clone(), self.clock.clone(), self.shutdown.clone());
        let wake = actions.snooze_wake();
        tokio::spawn(async move {
            const MINUTE: Duration = Duration::from_secs(60);
            // After a failure, a due snooze is tried again a little later, not at once forever.
            let mut backoff = Duration::ZERO;
            loop {
                let next = actions.next_snooze();
                let wait =
                    next.map_or(MINUTE, |t| (t - clock.now()).to_std().unwrap_or(Duration::ZERO).min(MINUTE));
                let wait = wait.max(backoff);
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = wake.notified() => continue,
                    _ = tokio::time::sleep(wait) => {}
                }
                let (due_now, now) = (actions.clone(), clock.now());
                let due = tokio::task::spawn_blocking(move || due_now.bring_back_due(now)).await;
                backoff = Duration::ZERO;
                match due {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "snoozed items not brought back");
                        backoff = Duration::from_secs(5);
                    }
                    Err(e) => tracing::warn!(error = %e, "the snooze timer failed"),
                }
            }
        });
    }
}

/// Keeps search up to date: after every change of the list (and once at start, for a store from
/// before search), what is not indexed yet is, 500 items per turn on the store, so that the window
/// and sync never wait long for it (docs/PERFORMANCE.md).
pub(super) fn spawn_indexer(
    store: SharedStore,
    wake: Arc<tokio::sync::Notify>,
    notify: UiNotify,
    shutdown: CancellationToken,
) {
    tokio::spawn(async move {
        loop {
            let mut indexed = false;
            loop {
                let store = store.clone();
                let step = tokio::task::spawn_blocking(move || {
                    store.lock().unwrap_or_else(|p| p.into_inner()).index_some(500)
                })
                .await;
                match step {
                    Ok(Ok(0)) => break,
                    Ok(Ok(_)) => indexed = true,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "search index not brought up to date");
                        break;
                    }
                    Err(e) => return tracing::warn!(error = %e, "the search indexer failed"),
                }
            }
            // A search open in the window finds what just arrived.
            if indexed {
                notify(UiEvent::Changed);
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = wake.notified() => {}
            }
        }
    });
}
