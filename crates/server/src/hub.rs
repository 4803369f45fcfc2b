//! Fan-out of changes to open streams. Each user has a broadcast channel; maintenance notices go to
//! everyone. A change is serialised once, however many devices receive it. A receiver that falls
//! behind is not buffered without bound: its stream notices the gap and replays from the database, so
//! nothing is lost (MW-3).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::db::UserChange;

/// Frames buffered per user. The slots are allocated up front for every user with a stream, so this
/// stays small; a stream that falls further behind replays from the database instead (no loss).
const USER_CAPACITY: usize = 16;
const GLOBAL_CAPACITY: usize = 64;

#[derive(Debug, Clone)]
pub enum Frame {
    /// A change, as JSON, with its sequence number (the SSE `id:`).
    Change {
        seq: i64,
        json: Arc<str>,
    },
    Maintenance(Arc<str>),
    Presence(Arc<str>),
    /// End the stream (maintenance began).
    Close,
}

pub struct Hub {
    users: Mutex<HashMap<String, broadcast::Sender<Frame>>>,
    global: broadcast::Sender<Frame>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub { users: Mutex::new(HashMap::new()), global: broadcast::channel(GLOBAL_CAPACITY).0 }
    }
}

impl Hub {
    /// Receivers for one user's frames and for everyone's.
    pub fn subscribe(&self, user: &str) -> (broadcast::Receiver<Frame>, broadcast::Receiver<Frame>) {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let tx = users.entry(user.to_owned()).or_insert_with(|| broadcast::channel(USER_CAPACITY).0);
        (tx.subscribe(), self.global.subscribe())
    }

    pub fn publish(&self, changes: &[UserChange]) {
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        for (user, change) in changes {
            if let Some(tx) = users.get(user) {
                match serde_json::to_string(change) {
                    Ok(json) => {
                        // No receiver is fine: nobody is streaming.
                        let _ = tx.send(Frame::Change { seq: change.seq, json: json.into() });
                    }
                    Err(e) => tracing::error!(%e, "change not serialisable"),
                }
            }
        }
    }

    pub fn send_to(&self, user: &str, frame: Frame) {
        if let Some(tx) = self.users.lock().unwrap_or_else(|p| p.into_inner()).get(user) {
            let _ = tx.send(frame);
        }
    }

    pub fn broadcast(&self, frame: Frame) {
        let _ = self.global.send(frame);
    }

    /// Drops the channels of users with no open stream.
    pub fn prune_idle(&self) {
        self.users.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, tx| tx.receiver_count() > 0);
    }

    /// Open streams.
    pub fn streams(&self) -> usize {
        self.global.receiver_count()
    }
}
