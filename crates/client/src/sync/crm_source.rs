//! The Qontak CRM notifications API as a sync source: the shared CRM client
//! (`lonceng_domain::crm::client`) polled for its paged list, read marks sent one by one.
//!
//! The CRM's own "mark all as read" marks everything regardless of tab and filter, which NC-R6
//! forbids; a scoped mark-all is therefore sent as one `mark_as_read` per item it covered.

use std::sync::Arc;
use std::time::Duration;

use lonceng_domain::clock::Clock;
use lonceng_domain::crm::client::{CrmClient, Fetched};
use lonceng_domain::crm::Credentials;
use lonceng_domain::protocol::MaintenanceStatus;

use super::source::Sent;
use super::{BoxFut, EventStream, Pulled, Source, SourceError};
use crate::store::{Batch, OutboxEntry, OutboxOp};

pub struct CrmSource {
    client: CrmClient,
    poll_interval: Duration,
}

impl CrmSource {
    /// `base`: `https://api.mekari.com` (production) or `https://api.mekari.io` (staging).
    pub fn new(
        base: &str,
        creds: Credentials,
        recipient_id: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<CrmSource, SourceError> {
        let client = CrmClient::new(base, creds, recipient_id, clock)?;
        Ok(CrmSource { client, poll_interval: Duration::from_secs(30) })
    }

    pub fn with_poll_interval(mut self, d: Duration) -> CrmSource {
        self.poll_interval = d;
        self
    }
}

/// A CRM page as one catch-up page of the engine: the page number is its cursor.
pub fn pulled(page: Fetched) -> Pulled {
    Pulled {
        batch: Batch { items: page.items, rejected: page.rejected, ..Batch::default() },
        chats: Vec::new(),
        next: Some(page.next.to_string()),
        more: page.more,
    }
}

impl Source for CrmSource {
    fn pull(&self, since: Option<String>) -> BoxFut<'_, Result<Pulled, SourceError>> {
        Box::pin(async move {
            let page_no: u32 = since.as_deref().and_then(|p| p.parse().ok()).filter(|p| *p >= 1).unwrap_or(1);
            Ok(pulled(self.client.fetch(page_no).await?))
        })
    }

    fn stream(&self, _since: Option<String>) -> BoxFut<'_, Result<Option<EventStream>, SourceError>> {
        Box::pin(async { Ok(None) })
    }

    fn push<'a>(&'a self, entry: &'a OutboxEntry, covered: &'a [String]) -> Sent<'a> {
        Box::pin(async move {
            match &entry.op {
                OutboxOp::MarkRead { id, .. } => Ok(self.client.mark_read(id).await?),
                // The CRM has no "unread" (the app refuses it in this mode): an unread queued
                // before a switch of source has nothing to reach.
                OutboxOp::MarkUnread { .. } => Ok(()),
                OutboxOp::MarkAllRead { .. } => {
                    for id in covered {
                        self.client.mark_read(id).await?;
                    }
                    Ok(())
                }
            }
        })
    }

    fn needs_covered_ids(&self) -> bool {
        true
    }

    fn maintenance(&self) -> BoxFut<'_, Result<Option<MaintenanceStatus>, SourceError>> {
        Box::pin(async { Ok(None) })
    }

    fn poll_interval(&self) -> Duration {
        self.poll_interval
    }
}
