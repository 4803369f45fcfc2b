//! Fan-out of changes to this node's open streams. Each user has a broadcast channel; maintenance
//! notices go to everyone. A change is serialised once, however many devices receive it. A receiver
//! that falls behind is not buffered without bound: its stream notices the gap and replays from the
//! database, so nothing is lost (MW-3).
//!
//! Changes committed on other nodes (PostgreSQL) are read once per node and handed on here like
//! local ones ([`Hub::behind`] says from where), so 10,000 streams of one user cost one query, not
//! 10,000.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use lonceng_domain::protocol;
use tokio::sync::broadcast;

use crate::db::UserChange;

/// Frames buffered per user. The slots are allocated up front for every user with a stream, so this
/// stays small; a stream that falls further behind replays from the database instead (no loss).
const USER_CAPACITY: usize = 16;
const GLOBAL_CAPACITY: usize = 64;

#[derive(Debug, Clone)]
pub enum Frame {
    /// A change with its sequence number, as the SSE event every stream of the user writes (one
    /// copy, however many streams).
    Change {
        seq: i64,
        /// When it was committed (the delivery lag is measured from it).
        at: DateTime<Utc>,
        sse: Bytes,
    },
    /// The user's feed has grown to `seq`: a stream behind it reads the feed.
    Wake(i64),
    /// The maintenance status, and the agent's presence: as SSE events, rendered once for every
    /// stream that writes them.
    Maintenance(Bytes),
    Presence(Bytes),
    /// End the stream (maintenance began).
    Close,
    /// ORG-2: these devices of the user were signed out: their streams end.
    Revoked(Arc<[String]>),
}

struct Channel {
    tx: broadcast::Sender<Frame>,
    /// The newest sequence number handed on (0: none yet).
    published: i64,
    /// Whether `published` is the user's newest as far as this node knows: read from the database
    /// for a stream, or handed on since.
    known: bool,
}

pub struct Hub {
    users: Mutex<HashMap<String, Channel>>,
    global: broadcast::Sender<Frame>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub { users: Mutex::new(HashMap::new()), global: broadcast::channel(GLOBAL_CAPACITY).0 }
    }
}

impl Hub {
    fn users(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Receivers for one user's frames and for everyone's.
    pub fn subscribe(&self, user: &str) -> (broadcast::Receiver<Frame>, broadcast::Receiver<Frame>) {
        let mut users = self.users();
        let channel = users.entry(user.to_owned()).or_insert_with(|| Channel {
            tx: broadcast::channel(USER_CAPACITY).0,
            published: 0,
            known: false,
        });
        (channel.tx.subscribe(), self.global.subscribe())
    }

    pub fn publish(&self, changes: &[UserChange]) {
        let mut users = self.users();
        for (user, change) in changes {
            if let Some(channel) = users.get_mut(user) {
                channel.published = channel.published.max(change.seq);
                channel.known = true;
                match serde_json::to_string(change) {
                    Ok(json) => {
                        // No receiver is fine: nobody is streaming.
                        let sse = sse_frame(protocol::sse::CHANGE, Some(change.seq), &json, None);
                        let frame = Frame::Change { seq: change.seq, at: change.at, sse };
                        let _ = channel.tx.send(frame);
                    }
                    Err(e) => tracing::error!(%e, "change not serialisable"),
                }
            }
        }
    }

    /// The user's newest sequence number, for a stream just subscribed, when other open streams of
    /// the user keep it current here (what is handed on to them moves it on); `None` when it must be
    /// read. A number a moment behind is harmless: the stream then starts with what followed it.
    pub fn newest(&self, user: &str) -> Option<i64> {
        let users = self.users();
        let channel = users.get(user)?;
        (channel.known && channel.tx.receiver_count() > 1).then_some(channel.published)
    }

    /// The user's newest sequence number as read from the database.
    pub fn note_newest(&self, user: &str, seq: i64) {
        if let Some(channel) = self.users().get_mut(user) {
            channel.published = channel.published.max(seq);
            channel.known = true;
        }
    }

    /// A node committed a user's changes `from..=seq`: where to read them from for this node's
    /// streams, or `None` when no stream here needs them. A stream further behind than what this
    /// node handed on sees a gap and reads for itself.
    pub fn behind(&self, user: &str, from: i64, seq: i64) -> Option<i64> {
        let users = self.users();
        let channel = users.get(user).filter(|c| c.tx.receiver_count() > 0)?;
        let since = if channel.published > 0 { channel.published } else { from.saturating_sub(1) };
        (seq > since).then_some(since)
    }

    pub fn send_to(&self, user: &str, frame: Frame) {
        if let Some(channel) = self.users().get(user) {
            let _ = channel.tx.send(frame);
        }
    }

    /// A user's streams read their feed up to `seq` themselves.
    pub fn wake(&self, user: &str, seq: i64) {
        self.send_to(user, Frame::Wake(seq));
    }

    /// Every stream reads its feed again (signals may have been missed).
    pub fn wake_all(&self) {
        for channel in self.users().values_mut() {
            // What was handed on may be behind now: the next stream reads for itself.
            channel.known = false;
            let _ = channel.tx.send(Frame::Wake(i64::MAX));
        }
    }

    pub fn broadcast(&self, frame: Frame) {
        let _ = self.global.send(frame);
    }

    /// Drops the channels of users with no open stream.
    pub fn prune_idle(&self) {
        self.users().retain(|_, c| c.tx.receiver_count() > 0);
    }

    /// Open streams.
    pub fn streams(&self) -> usize {
        self.global.receiver_count()
    }
}

/// One Server-Sent Event: a line per line of `data`, so that no text can end the event early.
pub fn sse_frame(event: &str, id: Option<i64>, data: &str, retry_ms: Option<u64>) -> Bytes {
    let mut out = String::with_capacity(data.len() + 40);
    out.push_str("event: ");
    out.push_str(event);
    out.push('\n');
    if let Some(id) = id {
        out.push_str(&format!("id: {id}\n"));
    }
    for line in data.split(['\n', '\r']) {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    if let Some(ms) = retry_ms {
        out.push_str(&format!("retry: {ms}\n"));
    }
    out.push('\n');
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lonceng_domain::protocol::{Change, ChangeBody};

    // Where a new stream starts is known without the database only while other streams of the
    // user keep it current, and forgotten when signals may have been missed.
    #[test]
    fn the_newest_sequence_number_is_known_while_other_streams_keep_it_current() {
        let hub = Hub::default();
        let _first = hub.subscribe("u-1");
        assert_eq!(hub.newest("u-1"), None, "the first stream reads it");
        hub.note_newest("u-1", 5);
        let _second = hub.subscribe("u-1");
        assert_eq!(hub.newest("u-1"), Some(5));
        let change = Change {
            seq: 6,
            at: DateTime::UNIX_EPOCH,
            body: ChangeBody::Read { ids: vec!["n".into()], read_at: DateTime::UNIX_EPOCH },
        };
        hub.publish(&[("u-1".to_owned(), change)]);
        assert_eq!(hub.newest("u-1"), Some(6), "what was handed on moves it");
        hub.wake_all();
        assert_eq!(hub.newest("u-1"), None, "after missed signals it is read again");
        drop(_second);
        hub.note_newest("u-1", 7);
        assert_eq!(hub.newest("u-1"), None, "a stream alone reads it");
    }
}
