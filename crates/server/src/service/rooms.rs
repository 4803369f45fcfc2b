//! Group commit of Qontak room events: a webhook's room event waits for the commit in progress, and
//! all that arrived meanwhile are applied together in the next one (one commit, one WAL sync, for
//! many webhooks; measured in docs/PERFORMANCE.md). Each still gets its own answer, and its changes
//! are published only after the commit.

use super::{Service, ServiceError, ServiceResult};
use crate::db::{Applied, Database, DbError, RoomJob};

/// Room events applied in one transaction at most (group commit).
const ROOMS_PER_COMMIT: usize = 64;

type RoomReply = tokio::sync::oneshot::Sender<Result<Result<Applied, String>, BatchFailed>>;

/// Why a batch was not applied, as each webhook in it is answered: an unreachable database (or a
/// deadlock between nodes) is a 503 that Qontak retries, anything else a fault.
#[derive(Debug, Clone)]
enum BatchFailed {
    Unavailable(String),
    Failed(String),
}

impl From<BatchFailed> for ServiceError {
    fn from(e: BatchFailed) -> ServiceError {
        match e {
            BatchFailed::Unavailable(why) => DbError::Unavailable(why).into(),
            BatchFailed::Failed(why) => ServiceError::Storage(DbError::Worker(why)),
        }
    }
}

/// The room events waiting for the next commit, and the turn to commit them.
#[derive(Default)]
pub(super) struct RoomQueue {
    waiting: std::sync::Mutex<Vec<(RoomJob, RoomReply)>>,
    /// Held by the one caller that commits; the others wait on it and find their job done.
    committing: tokio::sync::Mutex<()>,
}

impl RoomQueue {
    /// Applies `job` in the next commit, committing it (and what waits with it) if no one else is.
    /// Should a committer's request be dropped mid-commit, those it carried answer with an error
    /// although committed: Qontak re-sends, and the re-delivery is a duplicate (MW-4).
    pub(super) async fn apply_with<D: Database>(
        &self,
        service: &Service<D>,
        job: RoomJob,
    ) -> ServiceResult<Result<Applied, String>> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.waiting.lock().unwrap_or_else(|p| p.into_inner()).push((job, reply));
        let mut answer = answer;
        loop {
            // One committer at a time; whoever holds the turn commits everything waiting.
            let _turn = self.committing.lock().await;
            // Done by the committer before us? (Replies are sent before the turn passes on.)
            match answer.try_recv() {
                Ok(result) => return result.map_err(ServiceError::from),
                Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                    return Err(ServiceError::Storage(DbError::Worker("the room event was lost".into())))
                }
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
            }
            let batch: Vec<_> = {
                let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
                let n = waiting.len().min(ROOMS_PER_COMMIT);
                waiting.drain(..n).collect()
            };
            if batch.is_empty() {
                return Err(ServiceError::Storage(DbError::Worker("the room event was not queued".into())));
            }
            let (jobs, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            match service.db.apply_rooms(jobs, service.clock.now()).await {
                Ok(results) => {
                    for (result, reply) in results.into_iter().zip(replies) {
                        if let Ok(applied) = &result {
                            service.publish(&applied.changes);
                        }
                        let _ = reply.send(Ok(result));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "room events not applied");
                    let failed = match e {
                        DbError::Unavailable(why) => BatchFailed::Unavailable(why),
                        other => BatchFailed::Failed(other.to_string()),
                    };
                    for reply in replies {
                        let _ = reply.send(Err(failed.clone()));
                    }
                }
            }
        }
    }
}
