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
        b.reads.extend(l.reads);
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
