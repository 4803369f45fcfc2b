//! Search over the retained history: an FTS5 index of each item's text as the agent reads it, in
//! both languages, and its parameters (names, deal and ticket titles, numbers).
//!
//! Why this shape:
//! - **Contentless** (`content=''`): the text is rendered from the template and the parameters,
//!   so the index keeps only its tokens; `contentless_delete` lets retention remove an item's
//!   entry (a trigger does, whichever way a row goes).
//! - **Rendered text, not templates.** An agent types what she saw ("ditugaskan", "PT Maju"); the
//!   store cannot render, so the app hands it an [`Indexer`] (the catalog, both languages).
//! - **Prefix terms, all required**: each word typed becomes `"word"*`, so a query is never FTS
//!   syntax (no operator, column or quote from the agent reaches the parser).
//! - **Newest arrivals first, by rowid** (the local `seq`): FTS5 walks its rowids backwards and
//!   stops at the limit, so a common word over 100,000 items costs no sort (docs/PERFORMANCE.md).

use std::sync::Arc;

use rusqlite::params;

use super::notifications::{collect_rows, collect_rows_with, decode, COLUMNS};
use super::state::{get_state, set_state};
use super::{Scope, Store, StoreError};
use crate::i18n::{strip_bidi_controls, Catalog, Lang};
use crate::model::{Notification, ParamValue};

/// The text an item is found by.
pub type Indexer = Arc<dyn Fn(&Notification) -> String + Send + Sync>;

/// The sync state key: items up to this `seq` are indexed.
pub(super) const INDEXED_KEY: &str = "search_upto";
/// The most results a search returns.
pub const MAX_RESULTS: usize = 200;
/// The most words of a query that count, and the longest word.
const MAX_TERMS: usize = 8;
const MAX_TERM: usize = 64;

/// What is searched: everywhere, or within a tab (and chip), unread only or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub text: String,
    pub scope: Option<Scope>,
    pub unread_only: bool,
    pub limit: usize,
}

/// The parameters' values: what a store without a catalog finds items by.
pub fn params_text(n: &Notification) -> String {
    n.params
        .0
        .values()
        .map(|v| match v {
            ParamValue::Text(s) => s.clone(),
            ParamValue::Count(x) => x.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The app's indexer: the text as the agent reads it in both languages (title and list text),
/// and the parameters.
pub fn rendered(catalog: Arc<Catalog>) -> Indexer {
    Arc::new(move |n: &Notification| {
        let mut text = params_text(n);
        for lang in Lang::ALL {
            let r = catalog.render(*lang, n.kind, &n.params);
            for part in [r.title, r.body] {
                text.push(' ');
                text.push_str(&strip_bidi_controls(&part));
            }
        }
        text
    })
}

/// The words of `text` as an FTS5 query of quoted prefix terms, all required; `None` when there is
/// no word in it.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_TERMS)
        .map(|w| format!("\"{}\"*", w.chars().take(MAX_TERM).collect::<String>()))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

impl Store {
    /// Finds items by what the agent reads in them, newest arrivals first.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<Notification>, StoreError> {
        let Some(matching) = fts_query(&q.text) else { return Ok(vec![]) };
        let (filter, key) = match q.scope {
            None => ("", 0),
            Some(Scope { category: Some(c), .. }) => (" AND n.category = ?3", c.code()),
            Some(Scope { tab, category: None }) => (" AND n.tab = ?3", tab.code()),
        };
        let unread = if q.unread_only {
            " AND n.read_at IS NULL AND n.seq > (SELECT upto_seq FROM read_marks WHERE category = n.category)"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM search JOIN notifications n ON n.seq = search.rowid \
             WHERE search MATCH ?1{filter}{unread} ORDER BY search.rowid DESC LIMIT ?2"
        );
        let limit = q.limit.clamp(1, MAX_RESULTS) as i64;
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = if q.scope.is_some() {
            stmt.query(params![matching, limit, key])
        } else {
            stmt.query(params![matching, limit])
        }
        .map_err(|e| self.err(e))?;
        let mut items = collect_rows(rows)
            .map_err(|e| self.err(e))?
            .into_iter()
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        items.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(items)
    }

    /// Finds items that arrive from now on by `indexer`'s text.
    pub fn set_indexer(&mut self, indexer: Indexer) {
        self.indexer = indexer;
    }

    /// Indexes what is not yet (a store from before search), in batches. Returns how many items
    /// it indexed.
    pub fn index_missing(&mut self) -> Result<u64, StoreError> {
        let index = self.indexer.clone();
        let mut done = 0;
        loop {
            let batch = self.write(|tx, _| {
                let upto: i64 = get_state(tx, INDEXED_KEY)?.and_then(|v| v.parse().ok()).unwrap_or(0);
                let mut stmt = tx.prepare_cached(&format!(
                    "SELECT {COLUMNS}, n.seq FROM notifications n WHERE n.seq > ?1 ORDER BY n.seq LIMIT 1000"
                ))?;
                let rows = collect_rows_with(stmt.query([upto])?)?;
                let Some(last) = rows.last().and_then(|(_, seq)| *seq) else { return Ok(0) };
                // Items that landed while the index was incomplete are indexed already.
                let mut forget = tx.prepare_cached("DELETE FROM search WHERE rowid = ?1")?;
                let mut insert = tx.prepare_cached("INSERT INTO search (rowid, text) VALUES (?1, ?2)")?;
                for (row, seq) in &rows {
                    forget.execute([seq])?;
                    // A row that cannot be read back is found by nothing; it stays listed.
                    if let Ok(n) = decode(row.clone()) {
                        insert.execute(params![seq, index(&n)])?;
                    }
                }
                set_state(tx, INDEXED_KEY, &last.to_string())?;
                Ok(rows.len() as u64)
            })?;
            if batch == 0 {
                return Ok(done);
            }
            done += batch;
        }
    }
}
