//! The task that runs the toast center: every event goes to it, every activation comes back to
//! it, and the end of quiet is noticed on time. Apart from the center so that the center stays a
//! set of plain async calls that tests drive one by one, without a task or a timer.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;

use super::ToastCenter;
use crate::sync::SyncEvent;
use crate::toast::ports::Activation;
use crate::toast::quiet::QuietState;

/// The longest the end of quiet goes unnoticed.
const MINUTE: std::time::Duration = std::time::Duration::from_secs(60);

/// ORG-6: how often the OS's Do Not Disturb is asked whether it is still on, while it holds toasts
/// (a D-Bus call, or one Windows call; nothing at all while it holds none).
const DND_POLL: std::time::Duration = std::time::Duration::from_secs(3);

/// Runs the toast center: every event goes to it (and to `also`, e.g. the window), every
/// activation comes back to it, and quiet is checked when it is due to end (and once a minute even
/// when nothing arrives). This is the app's one quiet-hours timer: when quiet begins or ends by the
/// clock, `on_quiet` hears it (the tray's look and the window's "Resume" change). A panic while
/// handling one event (a bug) is logged and the next event is handled: toasts never stop for the
/// rest of the day.
pub async fn drive(
    center: Arc<ToastCenter>,
    mut events: tokio::sync::mpsc::UnboundedReceiver<SyncEvent>,
    mut activations: tokio::sync::mpsc::UnboundedReceiver<Activation>,
    also: impl Fn(&SyncEvent) + Send,
    on_quiet: impl Fn(Option<QuietState>) + Send,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut was = (center.quiet(), center.system_quiet());
    loop {
        // Quiet is looked at when it is due to end, and at least once a minute (a clock change);
        // the OS's Do Not Disturb, which says nothing when it ends, every few seconds while it holds.
        let poll = if center.system_quiet() { DND_POLL } else { MINUTE };
        let wake = center
            .quiet()
            .and_then(|q| (q.until - center.clock.now()).to_std().ok())
            .unwrap_or(MINUTE)
            .min(poll)
            // A moment past the end, so that it has passed on every clock.
            + std::time::Duration::from_millis(50);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            e = events.recv() => match e {
                Some(e) => {
                    survive("an event", AssertUnwindSafe(center.handle(&e)).catch_unwind().await);
                    survive("the window's refresh", std::panic::catch_unwind(AssertUnwindSafe(|| also(&e))));
                }
                None => return,
            },
            Some(a) = activations.recv() => {
                survive("a click", AssertUnwindSafe(center.activate(a)).catch_unwind().await.map(drop));
            }
            _ = tokio::time::sleep(wake) => {
                survive("the end of quiet", AssertUnwindSafe(center.end_quiet_if_over()).catch_unwind().await);
            }
        }
        // Looked at after every turn: a steady flow of events must not hide the start of quiet.
        let now = (center.quiet(), center.system_quiet());
        if now != was {
            survive("the change of quiet", std::panic::catch_unwind(AssertUnwindSafe(|| on_quiet(now.0))));
            was = now;
        }
    }
}

/// Logs a panic caught while handling `what`; the caller goes on.
fn survive(what: &str, outcome: std::thread::Result<()>) {
    if outcome.is_err() {
        tracing::error!("the toast center failed on {what}; going on with the next");
    }
}
