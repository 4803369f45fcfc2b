//! The local store's upkeep while the app runs: retention (NC-R5) once an hour, and the compaction
//! that writes mark-all watermarks into rows in small steps (so that the window's queries never wait
//! long for the lock).

use std::sync::Arc;
use std::time::Duration;

use lonceng_client::sync::SharedStore;
use lonceng_domain::clock::Clock;
use tokio_util::sync::CancellationToken;

use crate::actions::UiNotify;
use crate::views::UiEvent;

/// Runs until `stop`.
pub fn spawn(store: SharedStore, clock: Arc<dyn Clock>, notify: UiNotify, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut hourly = tokio::time::interval(Duration::from_secs(3600));
        let mut compact = tokio::time::interval(Duration::from_millis(500));
        let mut compact_failing = false;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = hourly.tick() => {
                    let (store, now) = (store.clone(), clock.now());
                    let pruned = tokio::task::spawn_blocking(move || {
                        store.lock().unwrap_or_else(|p| p.into_inner()).prune_expired(now)
                    })
                    .await;
                    match pruned {
                        Ok(Ok(r)) if r.removed > 0 => notify(UiEvent::Changed),
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::warn!(error = %e, "retention could not run; it is tried again in an hour"),
                        // A panic stays in its blocking task: this loop, and the app, go on.
                        Err(e) => tracing::error!(error = %e, "retention failed unexpectedly; it is tried again in an hour"),
                    }
                }
                _ = compact.tick() => {
                    let (store, now) = (store.clone(), clock.now());
                    let compacted = tokio::task::spawn_blocking(move || {
                        store.lock().unwrap_or_else(|p| p.into_inner()).compact_read_marks(2_000, now)
                    })
                    .await;
                    let failed = match compacted {
                        Ok(Ok(_)) => None,
                        Ok(Err(e)) => Some(e.to_string()),
                        Err(e) => Some(e.to_string()),
                    };
                    // Said once when it starts failing, not twice a second while it does.
                    if let (Some(e), false) = (&failed, compact_failing) {
                        tracing::warn!(error = %e, "compacting read marks failed; it is retried");
                    }
                    compact_failing = failed.is_some();
                }
            }
        }
    });
}
