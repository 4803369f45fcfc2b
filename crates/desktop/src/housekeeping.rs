//! The local store's upkeep while the app runs: retention (NC-R5) once an hour, and the compaction
//! that writes mark-all watermarks into rows in small steps (so that the window's queries never wait
//! long for the lock).

use std::sync::Arc;
use std::time::Duration;

use lonceng_core::clock::Clock;
use lonceng_core::sync::SharedStore;
use tokio_util::sync::CancellationToken;

use crate::actions::UiNotify;
use crate::views::UiEvent;

/// Runs until `stop`.
pub fn spawn(store: SharedStore, clock: Arc<dyn Clock>, notify: UiNotify, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut hourly = tokio::time::interval(Duration::from_secs(3600));
        let mut compact = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = hourly.tick() => {
                    let (store, now) = (store.clone(), clock.now());
                    let pruned = tokio::task::spawn_blocking(move || {
                        store.lock().unwrap_or_else(|p| p.into_inner()).prune_expired(now)
                    })
                    .await;
                    if matches!(pruned, Ok(Ok(r)) if r.removed > 0) {
                        notify(UiEvent::Changed);
                    }
                }
                _ = compact.tick() => {
                    let (store, now) = (store.clone(), clock.now());
                    let _ = tokio::task::spawn_blocking(move || {
                        store.lock().unwrap_or_else(|p| p.into_inner()).compact_read_marks(2_000, now)
                    })
                    .await;
                }
            }
        }
    });
}
