//! Group commit: a write waits for the commit in progress, and all that arrived meanwhile are
//! applied together in the next one (one transaction, one WAL write or round trip to PostgreSQL,
//! for many requests; measured in docs/PERFORMANCE.md). Each request still gets its own answer,
//! and its changes are published only after the commit. Producer events and Qontak's room events
//! each have a queue.

use std::future::Future;

use super::{ServiceError, ServiceResult};
use crate::db::{DbError, DbResult};

type Reply<R> = tokio::sync::oneshot::Sender<Result<R, BatchFailed>>;

/// Why a batch was not applied, as each request in it is answered: an unreachable database (or a
/// deadlock between nodes) is a 503 that producers and Qontak retry, anything else a fault.
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

/// The jobs waiting for the next commit (at most `MOST` go in one), and the turn to commit them.
pub(super) struct GroupCommit<J, R, const MOST: usize> {
    waiting: std::sync::Mutex<Vec<(J, Reply<R>)>>,
    /// Held by the one caller that commits; the others wait on it and find their job done.
    committing: tokio::sync::Mutex<()>,
}

impl<J, R, const MOST: usize> Default for GroupCommit<J, R, MOST> {
    fn default() -> Self {
        GroupCommit { waiting: std::sync::Mutex::new(Vec::new()), committing: tokio::sync::Mutex::new(()) }
    }
}

impl<J, R, const MOST: usize> GroupCommit<J, R, MOST> {
    /// Applies `job` in the next commit, committing it (and what waits with it) with `commit` if
    /// no one else is. `commit` answers each job of its batch, in order, and publishes what was
    /// committed. Should a committer's request be dropped mid-commit, those it carried answer with
    /// an error although committed: the sender re-sends, and the re-delivery is a duplicate (MW-4).
    pub(super) async fn apply<F, Fut>(&self, job: J, commit: F) -> ServiceResult<R>
    where
        F: Fn(Vec<J>) -> Fut,
        Fut: Future<Output = DbResult<Vec<R>>>,
    {
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        self.waiting.lock().unwrap_or_else(|p| p.into_inner()).push((job, reply));
        let lost = || ServiceError::Storage(DbError::Worker("the write was lost".into()));
        loop {
            // One committer at a time; whoever holds the turn commits everything waiting. A job
            // another commit carried is answered without taking the turn: the jobs of one batch
            // do not queue for it one after another, ahead of the next batch's committer.
            let _turn = tokio::select! {
                biased;
                result = &mut answer => return result.map_err(|_| lost())?.map_err(ServiceError::from),
                turn = self.committing.lock() => turn,
            };
            // Done by the committer before us? (Replies are sent before the turn passes on.)
            match answer.try_recv() {
                Ok(result) => return result.map_err(ServiceError::from),
                Err(tokio::sync::oneshot::error::TryRecvError::Closed) => return Err(lost()),
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
            }
            let batch: Vec<_> = {
                let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
                let n = waiting.len().min(MOST);
                waiting.drain(..n).collect()
            };
            if batch.is_empty() {
                return Err(ServiceError::Storage(DbError::Worker("the write was not queued".into())));
            }
            let (jobs, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            let n = jobs.len();
            match commit(jobs).await {
                Ok(results) if results.len() == n => {
                    for (result, reply) in results.into_iter().zip(replies) {
                        let _ = reply.send(Ok(result));
                    }
                }
                outcome => {
                    let failed = match outcome {
                        Err(DbError::Unavailable(why)) => BatchFailed::Unavailable(why),
                        Err(other) => BatchFailed::Failed(other.to_string()),
                        Ok(results) => {
                            BatchFailed::Failed(format!("{} answers for {n} writes", results.len()))
                        }
                    };
                    tracing::error!(error = ?failed, "a group of writes was not applied");
                    for reply in replies {
                        let _ = reply.send(Err(failed.clone()));
                    }
                }
            }
        }
    }
}
