//! Search over the retained history: an FTS5 index of each item's text as the agent reads it, in
//! both languages, and its parameters (names, deal and ticket titles, numbers).
//!
//! Why this shape:
//! - **One index per tab** (`search_general`, …), each with the category as a token: a search in
//!   a tab walks only that tab's words; "in all tabs" asks the three and keeps the newest.
//! - **Contentless** (`content=''`): the text is rendered from the template and the parameters,
//!   so the index keeps only its tokens; `contentless_delete` lets retention remove an item's
//!   entry (a trigger does, whichever way a row goes).
//! - **Rendered text, not templates.** An agent types what she saw ("ditugaskan", "PT Maju"); the
//!   store cannot render, so the app hands it an [`Indexer`] (the catalog, both languages).
//! - **Quoted terms, all required**: each word typed becomes `"word"`, the last `"word"*` (it may
//!   be half typed), so a query is never FTS syntax (no operator, column or quote from the agent
//!   reaches the parser). Whole words stream through FTS5's doclists; only the last is a prefix,
//!   and prefixes of 2 to 6 characters have their own index (`prefix = '2 3 4 5 6'`).
//! - **Indexed after the fact**, in small batches ([`Store::index_some`]): rendering and
//!   tokenising cost more than storing, and a sync batch must not hold the store that long
//!   (docs/PERFORMANCE.md); a new item is findable a moment after it is listed.
//! - **Newest arrivals first, by rowid** (the local `seq`): FTS5 walks its rowids backwards and
//!   stops at the limit, so a common word over 100,000 items costs no sort (docs/PERFORMANCE.md).

use std::sync::Arc;

use rusqlite::params;

use super::notifications::{collect_rows_with, decode, COLUMNS, NOT_SNOOZED};
use super::state::{get_state, set_state};
use super::{search_table, Scope, Store, StoreError};
use lonceng_domain::i18n::{strip_bidi_controls, Catalog, Lang};
use lonceng_domain::model::{Category, Notification, ParamValue, Tab};

/// The text an item is found by.
pub type Indexer = Arc<dyn Fn(&Notification) -> String + Send + Sync>;

/// The sync state key: items up to this `seq` are indexed.
const INDEXED_KEY: &str = "search_upto";
/// The most results a search returns.
pub const MAX_RESULTS: usize = 200;
/// The most words of a query that count, and the longest word.
const MAX_TERMS: usize = 8;
const MAX_TERM: usize = 64;

/// What is searched: everywhere, or within a tab (and chip), unread only or not; and from where
/// (`before`: the previous page's `next`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub text: String,
    pub scope: Option<Scope>,
    pub unread_only: bool,
    pub limit: usize,
    pub before: Option<i64>,
}

/// One page of what a search found, newest arrivals first; `next` continues it (keyset paging on
/// the arrival order, as the list pages: stable while items arrive).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub items: Vec<Notification>,
    pub next: Option<i64>,
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

/// Letters that SQLite's tokenizer keeps as they are (they have no decomposition to strip), as
/// people type them on a keyboard without them: "lukasz" finds "Łukasz", "strasse" "Straße".
/// The window's highlighting folds the same (`ui/src/view.ts`).
pub fn fold(text: &str) -> std::borrow::Cow<'_, str> {
    fn folded(c: char) -> Option<&'static str> {
        Some(match c {
            'ł' => "l",
            'Ł' => "L",
            'ø' => "o",
            'Ø' => "O",
            'đ' | 'ð' => "d",
            'Đ' | 'Ð' => "D",
            'ß' => "ss",
            'ẞ' => "SS",
            'æ' => "ae",
            'Æ' => "AE",
            'œ' => "oe",
            'Œ' => "OE",
            'þ' => "th",
            'Þ' => "TH",
            'ı' => "i",
            'ħ' => "h",
            'Ħ' => "H",
            'ŧ' => "t",
            'Ŧ' => "T",
            _ => return None,
        })
    }
    if !text.chars().any(|c| folded(c).is_some()) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match folded(c) {
            Some(f) => out.push_str(f),
            None => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The words of `text` as an FTS5 query of quoted terms, all required; `None` when there is no
/// word in it. The last word is a prefix (the agent may still be typing it) unless a space
/// follows it; the words before it are whole.
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_TERMS)
        .map(|w| w.chars().take(MAX_TERM).collect())
        .collect();
    let typing = !text.ends_with(char::is_whitespace);
    let last = words.len().checked_sub(1)?;
    let terms: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| if i == last && typing { format!("\"{w}\"*") } else { format!("\"{w}\"") })
        .collect();
    Some(terms.join(" "))
}

/// A category as one token (the tokenizer would split `chat_assignment`).
fn category_token(c: Category) -> String {
    c.as_str().replace('_', "")
}

/// The tabs a query walks.
fn tabs(q: &SearchQuery) -> Vec<Tab> {
    match q.scope {
        Some(s) => vec![s.tab],
        None => Tab::ALL.to_vec(),
    }
}

/// The FTS5 match (the words, and the chip as a token of the `category` column, which FTS5
/// intersects) and the unread condition; `None` when the text has no word.
fn match_clause(q: &SearchQuery) -> Option<(String, &'static str)> {
    let words = fts_query(&q.text)?;
    let matching = match q.scope.and_then(|s| s.category) {
        Some(c) => format!("text : ({words}) AND category : \"{}\"", category_token(c)),
        None => format!("text : ({words})"),
    };
    let unread = if q.unread_only {
        " AND n.read_at IS NULL AND n.seq > (SELECT upto_seq FROM read_marks WHERE category = n.category)"
    } else {
        ""
    };
    Some((matching, unread))
}

impl Store {
    /// Finds items by what the agent reads in them, newest arrivals first: within a tab (and
    /// chip), or in every tab; a page at a time.
    pub fn search(&self, q: &SearchQuery) -> Result<SearchPage, StoreError> {
        let Some((matching, unread)) = match_clause(q) else {
            return Ok(SearchPage { items: vec![], next: None });
        };
        let limit = q.limit.clamp(1, MAX_RESULTS);
        let mut found = Vec::new();
        for tab in tabs(q) {
            let t = search_table(tab);
            // One more than a page says whether another follows.
            let sql = format!(
                "SELECT {COLUMNS}, n.seq FROM {t} CROSS JOIN notifications n ON n.seq = {t}.rowid \
                 WHERE {t} MATCH ?1 AND {t}.rowid < ?3{unread} AND {NOT_SNOOZED} ORDER BY {t}.rowid DESC LIMIT ?2"
            );
            let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
            let before = q.before.unwrap_or(i64::MAX);
            let rows = stmt.query(params![matching, limit as i64 + 1, before]).map_err(|e| self.err(e))?;
            found.extend(collect_rows_with(rows).map_err(|e| self.err(e))?);
        }
        // Every tab's newest arrivals, then the newest of them all.
        found.sort_by_key(|(_, seq)| std::cmp::Reverse(*seq));
        let more = found.len() > limit;
        found.truncate(limit);
        let next = if more { found.last().and_then(|(_, seq)| *seq) } else { None };
        let mut items = found.into_iter().map(|(row, _)| decode(row)).collect::<Result<Vec<_>, _>>()?;
        items.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(SearchPage { items, next })
    }

    /// How many items the search matches in all (what the window says above the first page).
    pub fn search_count(&self, q: &SearchQuery) -> Result<u64, StoreError> {
        let Some((matching, unread)) = match_clause(q) else { return Ok(0) };
        let mut total = 0u64;
        for tab in tabs(q) {
            let t = search_table(tab);
            let sql = format!(
                "SELECT count(*) FROM {t} CROSS JOIN notifications n ON n.seq = {t}.rowid \
                 WHERE {t} MATCH ?1{unread} AND {NOT_SNOOZED}"
            );
            let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
            let n: i64 = stmt.query_row(params![matching], |r| r.get(0)).map_err(|e| self.err(e))?;
            total = total.saturating_add(u64::try_from(n).unwrap_or(0));
        }
        Ok(total)
    }

    /// Finds items by `indexer`'s text from now on (items indexed before keep their text).
    pub fn set_indexer(&mut self, indexer: Indexer) {
        self.indexer = indexer;
    }

    /// Indexes up to `limit` items not indexed yet, oldest first, in one transaction. Returns how
    /// many it indexed: 0 when search is up to date.
    pub fn index_some(&mut self, limit: usize) -> Result<u64, StoreError> {
        let index = self.indexer.clone();
        self.write(|tx, _| {
            let upto: i64 = get_state(tx, INDEXED_KEY)?.and_then(|v| v.parse().ok()).unwrap_or(0);
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS}, n.seq FROM notifications n WHERE n.seq > ?1 ORDER BY n.seq LIMIT ?2"
            ))?;
            let rows = collect_rows_with(stmt.query(params![upto, limit.max(1) as i64])?)?;
            let Some(last) = rows.last().and_then(|(_, seq)| *seq) else { return Ok(0) };
            for (row, seq) in &rows {
                // A row that cannot be read back is found by nothing; it stays listed.
                if let Ok(n) = decode(row.clone()) {
                    let sql = format!(
                        "INSERT INTO {} (rowid, text, category) VALUES (?1, ?2, ?3)",
                        search_table(n.tab())
                    );
                    let text = index(&n);
                    tx.prepare_cached(&sql)?.execute(params![
                        seq,
                        fold(&text),
                        category_token(n.category)
                    ])?;
                }
            }
            set_state(tx, INDEXED_KEY, &last.to_string())?;
            Ok(rows.len() as u64)
        })
    }

    /// Indexes everything not indexed yet (tests, benchmarks; the app goes in batches).
    pub fn index_all(&mut self) -> Result<u64, StoreError> {
        let mut done = 0;
        loop {
            match self.index_some(1_000)? {
                0 => return Ok(done),
                n => done += n,
            }
        }
    }
}
