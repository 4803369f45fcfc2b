//! A pulled page into the store, atomically, and out to the app as events: each new item once
//! (MW-4), read and removed ones so their toasts go (NC-R13), fresh chat messages once. MW-5's
//! bookkeeping lives here too, because only applying a page knows which arrivals were late: they
//! are counted while recovering from an outage and summarised once, when they have settled.

use std::collections::HashSet;
use std::time::Instant;

use super::{SyncEngine, SyncError};
use crate::sync::source::{Pulled, Source};
use crate::sync::SyncEvent;

/// MW-5: late arrivals are counted only while recovering from an outage (a first sync's backlog is
/// not news), and summarised once they have settled.
#[derive(Debug, Default)]
pub(super) struct LateTally {
    /// An outage happened and its late arrivals are being counted.
    counting: bool,
    pending: usize,
    /// The last late arrival, or the reconnection: the summary waits for quiet after it.
    last: Option<Instant>,
}

impl LateTally {
    /// An outage began (or goes on): its late arrivals are counted.
    pub(super) fn outage(&mut self) {
        self.counting = true;
    }

    /// Back online: the summary waits for quiet after the reconnection too.
    pub(super) fn reconnected(&mut self) {
        self.last = Some(Instant::now());
    }
}

impl<S: Source> SyncEngine<S> {
    /// Applies one page atomically, then tells the app what changed. Arrivals are late (quiet,
    /// MW-5) when they are old, or when the page is part of a catch-up that brought more than a
    /// handful (`quiet`).
    pub(super) async fn apply(&mut self, page: Pulled, quiet: bool) -> Result<(), SyncError> {
        let now = self.clock.now();
        let batch = page.batch;
        let (batch, report) = self
            .with_store(move |s| {
                let report = s.apply(&batch, now)?;
                Ok((batch, report))
            })
            .await?;
        let mut changed = !report.newly_read.is_empty()
            || !report.newly_unread.is_empty()
            || report.removed > 0
            || report.quarantined > 0;
        if !report.inserted.is_empty() {
            changed = true;
            // A page can hold an item and its re-send (MW-4): report each inserted id once.
            let mut inserted: HashSet<&str> = report.inserted.iter().map(String::as_str).collect();
            for n in batch.items.into_iter().filter(|n| inserted.remove(n.id.as_str())) {
                let late = quiet || now - n.created_at > self.config.late_after;
                if late && self.late.counting {
                    self.late.pending += 1;
                    self.late.last = Some(Instant::now());
                }
                self.emit(SyncEvent::Arrived { notification: n, late });
            }
        }
        if !report.newly_read.is_empty() {
            self.emit(SyncEvent::Read { ids: report.newly_read });
        }
        if report.removed > 0 {
            self.emit(SyncEvent::Removed { ids: batch.expired });
        }
        for chat in page.chats {
            if self.recent_chats.first_time(&chat.event_id)
                && now - chat.received_at <= self.config.late_after
            {
                self.emit(SyncEvent::Chat(chat));
            }
        }
        if changed {
            self.emit(SyncEvent::StoreChanged);
        }
        Ok(())
    }

    /// MW-5: once an outage's late arrivals have settled, one summary for all of them.
    pub(super) fn maybe_summarise(&mut self) {
        let settled = self.late.last.is_some_and(|t| t.elapsed() >= self.config.summary_settle);
        if self.late.counting && settled {
            let count = std::mem::take(&mut self.late.pending);
            if count > 0 {
                self.emit(SyncEvent::LateSummary { count });
            }
            self.late = LateTally::default();
        }
    }
}
