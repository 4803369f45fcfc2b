//! A pause and quiet hours: whether toasts are held now, what is held (logged in the
//! [`HeldLog`](crate::toast::HeldLog), so a restart meanwhile loses none of it), and the one
//! summary of it when quiet ends, by the clock or by hand. Summaries are held by quiet too, so
//! they are shown from here.

use chrono::{DateTime, Utc};

use super::ToastCenter;
use crate::toast::ports::Held;
use crate::toast::quiet::QuietState;
use crate::toast::settings::ToastSettings;

impl ToastCenter {
    pub(super) fn quiet_in(&self, settings: &ToastSettings) -> Option<QuietState> {
        settings.quiet(self.clock.now(), self.zone)
    }

    /// Whether toasts are held now (a pause or quiet hours), and until when.
    pub fn quiet(&self) -> Option<QuietState> {
        self.quiet_in(&self.settings())
    }

    /// ORG-6: whether the OS's Do Not Disturb held toasts back when last looked at (the tray says
    /// so; its end is noticed within [`super::drive`]'s few seconds).
    pub fn system_quiet(&self) -> bool {
        self.state().system_quiet
    }

    pub(super) fn held_back(&self, what: Held<'_>) {
        self.held.hold(what);
        self.state().maybe_held = true;
    }

    /// Shows a summary under `key` unless toasts are held now.
    pub(super) async fn summary(&self, key: &str, body: String) {
        if self.quiet().is_some() || self.system_quiet() {
            return;
        }
        if let Some(handle) = self.show(key, self.summary_toast(body)).await {
            self.record(key, handle, "", |_| {});
        }
    }

    /// Pauses toasts until `until` ("1 hour", "until tomorrow").
    pub fn pause(&self, until: DateTime<Utc>) {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).paused_until = Some(until);
    }

    /// Ends a pause now, and skips the scheduled quiet period running now; what arrived meanwhile
    /// gets one summary.
    pub async fn resume(&self) {
        {
            let mut settings = self.settings.lock().unwrap_or_else(|p| p.into_inner());
            settings.paused_until = None;
            if let Some(q) = settings.quiet(self.clock.now(), self.zone) {
                settings.quiet_skipped_until = Some(q.until);
            }
        }
        self.end_quiet_if_over().await;
    }

    /// When quiet has ended (by time, by hand, or the OS's Do Not Disturb turned off), one silent
    /// summary of what it held back that is still unread; after a restart too.
    pub async fn end_quiet_if_over(&self) {
        // The OS's quiet, while it was on, is asked again: its end is noticed (and the tray told)
        // even when it held nothing back.
        let asked = self.system_quiet();
        if asked && self.probe_dnd().await {
            return;
        }
        if self.quiet_in(&self.settings()).is_some() || !self.state().maybe_held {
            return;
        }
        // Something may be held: not into the OS's quiet, which may have begun unseen (during quiet
        // hours, before a start).
        if !asked && self.probe_dnd().await {
            return;
        }
        let settings = self.settings();
        // A pause may have begun while the OS was asked: the summary waits for its end.
        if self.quiet_in(&settings).is_some() {
            return;
        }
        self.state().maybe_held = false;
        let held = self.held.release();
        if held > 0 {
            let count = i64::try_from(held).unwrap_or(i64::MAX);
            let text = self.catalog.message(settings.lang, "paused-summary", &[("count", count.into())]);
            self.summary("summary:paused", text).await;
        }
    }
}
