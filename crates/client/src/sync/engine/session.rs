//! One session: catch up from the stored cursor, send what the outbox holds, then follow the live
//! stream (or poll where the source has none) until it ends, dies, or the machine wakes from sleep.
//! What ends a session is returned to the loop, which decides the wait; nothing here sleeps
//! between attempts.

use std::time::Instant;

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use super::{SyncEngine, SyncError, HANDFUL, LAST_SYNCED_KEY};
use crate::store::CURSOR_KEY;
use crate::sync::source::{EventStream, Pulled, Source, SourceError, SourceEvent};
use crate::sync::{ConnState, SyncEvent};
use lonceng_domain::model::Tab;
use lonceng_domain::protocol::MaintenanceStatus;
use lonceng_domain::rules;

/// How a page came: live (the stream, a regular poll), or catching up after a (re)connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arrival {
    Live,
    CatchUp,
}

impl<S: Source> SyncEngine<S> {
    /// One session, until the source ends it (`Ok`) or it fails.
    pub(super) async fn session(&mut self, shutdown: &CancellationToken) -> Result<(), SyncError> {
        self.report_gaps().await?;
        self.catch_up(Arrival::CatchUp).await?;
        self.flush_outbox().await?;
        let maintenance = self.source.maintenance().await.ok().flatten();
        let stream = self.source.stream(self.cursor().await?).await?;
        self.connected(stream.is_some(), maintenance).await?;
        match stream {
            Some(stream) => self.follow(stream, shutdown).await,
            None => self.poll(shutdown).await,
        }
    }

    async fn connected(
        &mut self,
        streaming: bool,
        maintenance: Option<MaintenanceStatus>,
    ) -> Result<(), SyncError> {
        let now = self.clock.now();
        self.with_store(move |s| s.set_state(LAST_SYNCED_KEY, &now.to_rfc3339())).await?;
        if self.outage_since.take().is_some() {
            tracing::info!("back online");
            self.late.reconnected();
        }
        self.status.send_modify(|s| {
            s.state = ConnState::Connected { streaming };
            s.last_synced_at = Some(now);
            if maintenance.is_some() {
                s.maintenance = maintenance;
            }
        });
        Ok(())
    }

    async fn cursor(&self) -> Result<Option<String>, SyncError> {
        self.with_store(|s| s.state(CURSOR_KEY)).await
    }

    /// Pulls and applies pages until the source has no more.
    async fn catch_up(&mut self, arrival: Arrival) -> Result<(), SyncError> {
        let mut since = self.cursor().await?;
        let mut brought = 0usize;
        loop {
            let page = match self.source.pull(since.clone()).await {
                Err(SourceError::CursorGone) => {
                    tracing::warn!("cursor too old for the server's feed: replaying from the start");
                    self.source.pull(Some("0".into())).await?
                }
                other => other?,
            };
            let (more, next) = (page.more, page.next.clone());
            brought = brought.saturating_add(page.batch.items.len());
            let quiet = arrival == Arrival::CatchUp && brought > HANDFUL;
            self.apply(page, quiet).await?;
            if !more {
                return Ok(());
            }
            since = next;
        }
    }

    /// Polls when the source cannot stream.
    async fn poll(&mut self, shutdown: &CancellationToken) -> Result<(), SyncError> {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = self.sleeper.sleep(self.source.poll_interval()) => {}
                _ = self.nudge.notified() => {}
            }
            self.catch_up(Arrival::Live).await?;
            self.flush_outbox().await?;
            self.maybe_summarise();
            let now = self.clock.now();
            self.with_store(move |s| s.set_state(LAST_SYNCED_KEY, &now.to_rfc3339())).await?;
            self.status.send_modify(|s| s.last_synced_at = Some(now));
        }
    }

    /// Follows the live stream until it ends or dies.
    async fn follow(&mut self, stream: EventStream, shutdown: &CancellationToken) -> Result<(), SyncError> {
        // Apply whatever is ready together: a burst after maintenance is one transaction, not hundreds.
        let mut stream = stream.ready_chunks(500);
        let mut wake_check = tokio::time::interval(self.config.wake_check);
        let (mut wall, mut mono) = (self.clock.now(), Instant::now());
        // One deadline across loop turns: a timeout rebuilt on every turn would be reset by the other
        // branches and never fire.
        let mut deadline = tokio::time::Instant::now() + self.config.keepalive_timeout;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep_until(deadline) => return Err(SyncError::Dead),
                next = stream.next() => match next {
                    None => return Ok(()),
                    Some(events) => {
                        deadline = tokio::time::Instant::now() + self.config.keepalive_timeout;
                        self.on_events(events).await?;
                    }
                },
                _ = self.nudge.notified() => self.flush_outbox().await?,
                _ = wake_check.tick() => {
                    let (now_wall, now_mono) = (self.clock.now(), Instant::now());
                    let mono_passed = chrono::Duration::from_std(now_mono - mono).unwrap_or_default();
                    if (now_wall - wall) - mono_passed > self.config.wake_jump {
                        return Err(SyncError::Woke);
                    }
                    (wall, mono) = (now_wall, now_mono);
                    self.maybe_summarise();
                }
            }
        }
    }

    async fn on_events(&mut self, events: Vec<Result<SourceEvent, SourceError>>) -> Result<(), SyncError> {
        let mut page = Pulled::default();
        let mut failure = None;
        for event in events {
            match event {
                Ok(SourceEvent::Changes(p)) => page.merge(*p),
                Ok(SourceEvent::Presence(p)) => self.emit(SyncEvent::Presence(p)),
                Ok(SourceEvent::Maintenance(m)) => self.status.send_modify(|s| s.maintenance = Some(m)),
                Ok(SourceEvent::KeepAlive) => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if page.batch.cursor.is_some() {
            self.apply(page, false).await?;
        }
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Away longer than a tab keeps items: say which tabs may have lost some.
    async fn report_gaps(&mut self) -> Result<(), SyncError> {
        let Some(last) = self.status.borrow().last_synced_at else { return Ok(()) };
        if self.gap_reported == Some(last) {
            return Ok(());
        }
        self.gap_reported = Some(last);
        let now = self.clock.now();
        let away = now - last;
        for tab in Tab::ALL {
            if away > rules::retention(*tab) {
                // Kept, so that the tab shows it until the agent dismisses it.
                let tab = *tab;
                self.with_store(move |s| s.mark_gap(tab, now)).await?;
                self.emit(SyncEvent::Gap { tab });
            }
        }
        Ok(())
    }
}
