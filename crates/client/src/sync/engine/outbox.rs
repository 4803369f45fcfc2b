//! MW-6: the actions the agent took offline, sent in the order they were taken once a session
//! is up (and at once when the app nudges). Only this room decides what a refusal means for the
//! queue.

use super::{SyncEngine, SyncError};
use crate::sync::source::{Source, SourceError};

impl<S: Source> SyncEngine<S> {
    /// Sends queued offline actions in order (MW-6). A refusal for good drops the action (retrying
    /// cannot help, and it must not block the ones behind it); anything else stops the flush.
    pub(super) async fn flush_outbox(&mut self) -> Result<(), SyncError> {
        loop {
            let now = self.clock.now();
            let pending = self.with_store(move |s| s.outbox_pending(50, now)).await?;
            if pending.is_empty() {
                return Ok(());
            }
            for entry in pending {
                let covered = if self.source.needs_covered_ids() {
                    let op = entry.op.clone();
                    self.with_store(move |s| s.ids_covered(&op)).await?
                } else {
                    Vec::new()
                };
                let sent = entry.clone();
                match self.source.push(&entry, &covered).await {
                    Ok(()) => self.with_store(move |s| s.outbox_done(&sent)).await?,
                    Err(SourceError::Rejected { status, message }) => {
                        tracing::warn!(status, %message, key = %entry.idempotency_key, "server refused a queued action; dropped");
                        self.with_store(move |s| s.outbox_done(&sent)).await?;
                    }
                    Err(e) => {
                        let why = e.to_string();
                        self.with_store(move |s| s.outbox_failed(&sent, &why)).await?;
                        return Err(e.into());
                    }
                }
            }
        }
    }
}
