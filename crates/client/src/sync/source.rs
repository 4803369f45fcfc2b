//! What a place to sync with provides ([`Source`]), and what it hands the engine: pages of
//! catch-up ([`Pulled`]), live events ([`SourceEvent`]) and failures ([`SourceError`]) that say
//! whether waiting can help.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::Stream;

use crate::store::{Batch, OutboxEntry};
use lonceng_domain::model::ChatMessage;
use lonceng_domain::protocol::{MaintenanceStatus, Presence};

pub use lonceng_domain::net::{RetryAfter, SourceError};

pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
pub type EventStream = Pin<Box<dyn Stream<Item = Result<SourceEvent, SourceError>> + Send>>;
/// A queued action on its way to the source.
pub type Sent<'a> = BoxFut<'a, Result<(), SourceError>>;

/// What a source's live stream carries.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceEvent {
    /// Changes, already parsed by the source into what the store applies.
    Changes(Box<Pulled>),
    Presence(Presence),
    Maintenance(MaintenanceStatus),
    /// Proof of life, nothing else.
    KeepAlive,
}

/// One page of catch-up: what the store applies in one transaction, the chat messages it carried
/// (toasted, never stored: NC-R4), and where the catch-up goes on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pulled {
    /// Items, reads, expiries, rejects and the cursor to store with them (sources without cursors
    /// leave it empty).
    pub batch: Batch,
    pub chats: Vec<ChatMessage>,
    /// Where the next page of this catch-up starts.
    pub next: Option<String>,
    pub more: bool,
}

impl Pulled {
    /// Appends a later piece of the same stream: its cursor wins.
    pub fn merge(&mut self, later: Pulled) {
        let (b, l) = (&mut self.batch, later.batch);
        b.items.extend(l.items);
        // The later page wins over the earlier for an item read in one and unread in the other.
        for r in l.reads {
            b.unreads.retain(|u| *u != r.id);
            b.reads.push(r);
        }
        for u in l.unreads {
            b.reads.retain(|r| r.id != u);
            b.unreads.retain(|x| *x != u);
            b.unreads.push(u);
        }
        b.expired.extend(l.expired);
        b.rejected.extend(l.rejected);
        if l.cursor.is_some() {
            b.cursor = l.cursor;
        }
        self.chats.extend(later.chats);
    }
}

/// A place to sync with: the Lonceng server ([`super::lonceng::LoncengSource`]) or the Qontak CRM
/// API ([`super::crm_source::CrmSource`]).
pub trait Source: Send + Sync + 'static {
    /// One page of catch-up from `since` (a cursor, a page, or nothing for the start).
    fn pull(&self, since: Option<String>) -> BoxFut<'_, Result<Pulled, SourceError>>;
    /// The live stream from `since`; `None` when the source cannot stream (then the engine polls).
    fn stream(&self, since: Option<String>) -> BoxFut<'_, Result<Option<EventStream>, SourceError>>;
    /// Sends one queued action. `covered` lists the ids a mark-all covered, for sources that need
    /// them ([`Source::needs_covered_ids`]).
    fn push<'a>(&'a self, entry: &'a OutboxEntry, covered: &'a [String]) -> Sent<'a>;
    fn needs_covered_ids(&self) -> bool {
        false
    }
    /// Announced maintenance (MW-1), where the source has such a thing.
    fn maintenance(&self) -> BoxFut<'_, Result<Option<MaintenanceStatus>, SourceError>>;
    /// How often to poll when not streaming.
    fn poll_interval(&self) -> Duration;
}

#[cfg(test)]
mod tests {
    use crate::sync::lonceng::decode_changes;

    // ORG-7: a page, and pages merged, apply the later of a read and an unread of one item.
    #[test]
    fn org_7_of_a_read_and_an_unread_the_later_wins() {
        let page = |changes: &str| {
            decode_changes(format!(r#"{{"changes": [{changes}], "cursor": 9}}"#).as_bytes()).unwrap()
        };
        let read = |seq: i64, id: &str| {
            format!(
                r#"{{"seq": {seq}, "at": "2026-01-20T01:00:00Z", "type": "read", "ids": ["{id}"], "read_at": "2026-01-20T01:00:00Z"}}"#
            )
        };
        let unread = |seq: i64, id: &str| {
            format!(r#"{{"seq": {seq}, "at": "2026-01-20T01:00:00Z", "type": "unread", "ids": ["{id}"]}}"#)
        };
        let p = page(&[read(1, "a"), unread(2, "a"), unread(3, "b"), read(4, "b")].join(","));
        assert_eq!(p.batch.unreads, ["a"]);
        assert_eq!(p.batch.reads.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["b"]);
        let mut merged = page(&unread(1, "c"));
        merged.merge(page(&read(2, "c")));
        merged.merge(page(&unread(3, "a")));
        assert_eq!(merged.batch.reads.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["c"]);
        assert_eq!(merged.batch.unreads, ["a"]);
    }
}
