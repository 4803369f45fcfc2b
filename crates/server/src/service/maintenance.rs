//! Maintenance windows and the periodic work (the maintenance seed; MW-1, MW-2, MW-4, NC-R5).
//!
//! While maintenance is on, client routes answer 503 with `Retry-After` and producer events queue
//! up; at its start every stream is told and closed; at its end the queue is delivered late,
//! optionally re-sending some items on purpose so that clients prove they dedupe (MW-4) and stay
//! quiet (MW-5). Retention runs once an hour.

use chrono::{DateTime, Duration, Utc};
use lonceng_domain::protocol::{sse, ChangeBody, MaintenanceStatus, MaintenanceWindow};
use lonceng_domain::rules::{self, Outcome};

use super::{Service, ServiceError, ServiceResult};
use crate::db::{Database, MaintenanceChange, Signal, UserChange};
use crate::hub::{sse_frame, Frame};

#[derive(Debug, Default)]
pub struct MaintenanceState {
    /// Started by an operator: `Some(until)`.
    manual: Option<Option<DateTime<Utc>>>,
    windows: Vec<MaintenanceWindow>,
    was_active: bool,
    /// Re-send setting for the end of the current maintenance.
    resend_every: Option<u32>,
    /// Maintenance has ended and its queue is being delivered: clients wait the moment it takes,
    /// so that they come back to the whole backlog at once (one summary, MW-5), not to half of it
    /// with the rest trickling in as if new.
    draining: bool,
    last_prune: Option<DateTime<Utc>>,
    /// When this node last reported its health.
    last_report: Option<DateTime<Utc>>,
}

impl MaintenanceState {
    pub(super) fn new(windows: Vec<MaintenanceWindow>) -> MaintenanceState {
        MaintenanceState { windows, ..MaintenanceState::default() }
    }

    pub(super) fn add_window(&mut self, w: MaintenanceWindow) {
        self.windows.push(w);
        self.windows.sort_by_key(|w| w.starts_at);
    }
}

impl<D: Database> Service<D> {
    pub(super) fn state(&self) -> std::sync::MutexGuard<'_, MaintenanceState> {
        self.maintenance.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// MW-1/MW-2: whether maintenance is on now, until when, and the windows announced.
    pub fn maintenance_status(&self) -> MaintenanceStatus {
        let now = self.clock.now();
        let st = self.state();
        let window = st.windows.iter().find(|w| w.starts_at <= now && now < w.ends_at);
        let active = st.manual.is_some() || window.is_some();
        let until = st.manual.flatten().or(window.map(|w| w.ends_at)).filter(|_| active);
        let windows = st.windows.iter().filter(|w| w.ends_at > now).cloned().collect();
        MaintenanceStatus { active, until, windows }
    }

    /// MW-2: client calls are refused during maintenance, with when to come back.
    pub fn reject_if_maintenance(&self) -> ServiceResult<()> {
        let status = self.maintenance_status();
        if !status.active {
            return match self.state().draining {
                true => Err(ServiceError::Maintenance { until: None, retry_after: 1 }),
                false => Ok(()),
            };
        }
        let retry_after = match status.until {
            Some(t) => (t - self.clock.now()).num_seconds().clamp(1, 3600) as u64,
            None => 60,
        };
        Err(ServiceError::Maintenance { until: status.until, retry_after })
    }

    pub async fn start_maintenance(&self, until: Option<DateTime<Utc>>) -> ServiceResult<MaintenanceStatus> {
        self.state().manual = Some(until);
        self.sync_maintenance().await?;
        self.share(Signal::Maintenance(MaintenanceChange::Started { until })).await;
        Ok(self.maintenance_status())
    }

    pub async fn end_maintenance(&self, resend_every: Option<u32>) -> ServiceResult<MaintenanceStatus> {
        {
            let mut st = self.state();
            st.manual = None;
            st.resend_every = resend_every;
        }
        self.sync_maintenance().await?;
        self.share(Signal::Maintenance(MaintenanceChange::Ended { resend_every })).await;
        Ok(self.maintenance_status())
    }

    /// Another node's operator changed maintenance: this node follows (its streams are told and
    /// closed, or its share of the queue delivered; an event is applied once whichever node
    /// delivers it).
    pub(super) async fn follow_maintenance(&self, change: MaintenanceChange) -> ServiceResult<()> {
        match change {
            MaintenanceChange::Started { until } => self.state().manual = Some(until),
            MaintenanceChange::Ended { resend_every } => {
                let mut st = self.state();
                st.manual = None;
                st.resend_every = resend_every;
            }
            MaintenanceChange::Announced => {
                self.reload_windows().await?;
                self.broadcast_status();
            }
        }
        self.sync_maintenance().await
    }

    /// The announced windows, as the database has them now.
    pub(super) async fn reload_windows(&self) -> ServiceResult<()> {
        let windows = self.db.windows(self.clock.now()).await?;
        self.state().windows = windows;
        Ok(())
    }

    pub(super) fn broadcast_status(&self) {
        if let Ok(json) = serde_json::to_string(&self.maintenance_status()) {
            self.hub.broadcast(Frame::Maintenance(sse_frame(sse::MAINTENANCE, None, &json, None)));
        }
    }

    /// Acts on a change of maintenance state: at the start, tells every stream and closes it; at the
    /// end, delivers the queue.
    pub(super) async fn sync_maintenance(&self) -> ServiceResult<()> {
        let _guard = self.transition.lock().await;
        let active = self.maintenance_status().active;
        let was_active = std::mem::replace(&mut self.state().was_active, active);
        if active && !was_active {
            tracing::info!("maintenance started");
            self.broadcast_status();
            self.hub.broadcast(Frame::Close);
        } else if !active && was_active {
            let resend = self.state().resend_every.take().unwrap_or(self.config.resend_every);
            self.state().draining = true;
            let delivered = self.flush_queue(resend).await;
            self.state().draining = false;
            let delivered = delivered?;
            tracing::info!(delivered, "maintenance ended");
            self.broadcast_status();
        } else if !active {
            // Events queued in the instant maintenance ended.
            self.flush_queue(0).await?;
        }
        Ok(())
    }

    /// Applies queued events in arrival order; re-sends every `resend_every`-th delivered item.
    async fn flush_queue(&self, resend_every: u32) -> ServiceResult<usize> {
        let mut delivered: Vec<UserChange> = Vec::new();
        loop {
            let batch = self.db.queued_events(100).await?;
            if batch.is_empty() {
                break;
            }
            for (key, event) in batch {
                // Admitted when queued; one that no longer passes (past retention by now, say) is
                // recorded as applied to nothing.
                let outcome = rules::admit(&event, self.clock.now(), &self.config.links)
                    .unwrap_or(Outcome::List(vec![]));
                delivered.extend(self.apply(key, outcome).await?.1);
            }
        }
        if resend_every > 0 {
            let again: Vec<(String, ChangeBody)> = delivered
                .iter()
                .filter(|(_, c)| matches!(c.body, ChangeBody::Created { .. } | ChangeBody::Chat { .. }))
                .enumerate()
                .filter(|(i, _)| (i + 1) % resend_every as usize == 0)
                .map(|(_, (user, c))| (user.clone(), c.body.clone()))
                .collect();
            if !again.is_empty() {
                let changes = self.db.append_changes(again, self.clock.now()).await?;
                tracing::info!(resent = changes.len(), "re-sent items on purpose");
                self.publish(&changes);
            }
        }
        Ok(delivered.len())
    }

    /// Periodic work: maintenance windows starting or ending, leftovers in the queue, and retention
    /// (NC-R5) once an hour.
    pub async fn tick(&self) -> ServiceResult<()> {
        self.sync_maintenance().await?;
        let now = self.clock.now();
        let due = self.state().last_prune.is_none_or(|t| now - t >= Duration::hours(1));
        if due {
            let changes = self.db.prune(now).await?;
            self.publish(&changes);
            self.db
                .forget(crate::db::Forget {
                    sign_ins_before: now - super::signin::SIGN_IN_LIFETIME,
                    access_before: now - Duration::days(1),
                    refresh_before: now - super::signin::REFRESH_IDLE,
                    sessions_before: now,
                })
                .await?;
            self.state().last_prune = Some(now);
        }
        self.hub.prune_idle();
        if self.state().last_report.is_none_or(|t| now - t >= super::accounts::NODE_REPORT_EVERY) {
            self.report_health(now).await?;
            self.state().last_report = Some(now);
        }
        Ok(())
    }
}
