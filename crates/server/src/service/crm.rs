//! The CRM bridge's way into the service: the service is the bridge's [`CrmHost`], so CRM items and
//! reads go through "commit, then publish" like everything else, and the bridge needs nothing else
//! of the service.

use std::sync::Arc;

use lonceng_domain::clock::Clock;
use lonceng_domain::model::Notification;
use tokio_util::sync::CancellationToken;

use super::qontak::{hex_digest, keepable, CRM_SOURCE};
use super::{Service, ServiceError, ServiceResult};
use crate::bridge::{Bridge, CrmHost};
use crate::db::{AgentLink, Database, NewDeadLetter};

impl<D: Database> CrmHost for Service<D> {
    type Error = ServiceError;

    fn bridge(&self) -> &Bridge {
        &self.bridge
    }

    fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }

    async fn agent_links(&self) -> ServiceResult<Vec<AgentLink>> {
        Ok(self.db.agent_links().await?)
    }

    async fn crm_unsent_reads(&self, user: &str, limit: usize) -> ServiceResult<Vec<String>> {
        Ok(self.db.crm_unsent_reads(user.to_owned(), limit).await?)
    }

    async fn crm_reads_sent(&self, ids: Vec<String>) -> ServiceResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        Ok(self.db.crm_reads_sent(ids).await?)
    }

    /// Kept as a dead letter (an unknown type id, say), once per item.
    async fn keep_crm_item(&self, user_id: &str, body: String, reason: String) -> ServiceResult<()> {
        let key = format!("{CRM_SOURCE}:{user_id}:{}", hex_digest(body.as_bytes()));
        let letter = NewDeadLetter {
            source: CRM_SOURCE,
            key,
            reason: keepable(&reason),
            body: keepable(&body),
            at: self.clock.now(),
        };
        let (id, fresh) = self.db.add_dead_letter(letter).await?;
        if fresh {
            crate::metrics::METRICS.dead_letters.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(dead_letter = id, user = user_id, "a CRM notification kept as a dead letter");
        }
        Ok(())
    }

    /// Commit, then publish.
    async fn crm_sync(&self, user: &str, items: Vec<Notification>) -> ServiceResult<()> {
        let changes = self.db.crm_sync(user.to_owned(), items, self.clock.now()).await?;
        self.publish(&changes);
        Ok(())
    }
}
