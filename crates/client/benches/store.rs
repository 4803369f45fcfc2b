//! Store benchmark: a file-backed store (WAL, synchronous=FULL) holding 100,000 notifications.
//!
//! Run: `cargo bench -p lonceng-client --bench store`. Prints a Markdown table for docs/PERFORMANCE.md.
//! Goals (issue 2): page p99 ≤ 1 ms, counts ≤ 0.1 ms, mark all read over 50,000 unread ≤ 20 ms,
//! 10,000 upserts ≤ 100 ms. Issue 15: a search over 100,000 items p99 ≤ 5 ms; the search index's
//! size and its cost on the 10,000 upserts, against the same store with an empty text per item.
//! The store indexes as the app does: the text rendered in both languages and the parameters.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lonceng_domain::model::{Category, Kind, Notification, ParamType, Params, Tab};
use std::sync::Arc;

use lonceng_client::store::{rendered, Indexer, ListQuery, PageCursor, Scope, SearchQuery, Store};
use lonceng_domain::i18n::Catalog;

const TOTAL: usize = 100_000;

fn now() -> DateTime<Utc> {
    "2026-01-20T08:00:00Z".parse().expect("fixed time")
}

/// Deterministic pseudo-random numbers, so every run measures the same data.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn params_for(kind: Kind, i: usize) -> Params {
    let mut p = Params::new();
    for spec in kind.params() {
        p = match spec.ty {
            ParamType::Text => p.with(spec.name, format!("{} {i}", spec.name)),
            ParamType::Count => p.with(spec.name, (i % 500) as i64),
            ParamType::Choice(values) => p.with(spec.name, values[i % values.len()]),
        };
    }
    p
}

/// 60,000 General (50,000 unread), 20,000 Inbox and 20,000 Approval (half unread), over six days.
fn item(i: usize, rng: &mut Lcg, prefix: &str) -> Notification {
    let (tab, unread) = match i % 5 {
        // g numbers the General items 0..60,000; one in six is read.
        g @ 0..=2 => (Tab::General, ((i / 5) * 3 + g) % 6 != 0),
        3 => (Tab::Inbox, i % 2 == 0),
        _ => (Tab::Approval, i % 2 == 0),
    };
    let cats = tab.categories();
    let category = cats[(rng.next() as usize) % cats.len()];
    let kind = *Kind::ALL.iter().find(|k| k.category() == Some(category)).expect("kind per category");
    let created_at = now() - chrono::Duration::seconds((rng.next() % (6 * 86_400)) as i64);
    Notification {
        id: format!("{prefix}-{i}"),
        category,
        kind,
        params: params_for(kind, i),
        actor_id: Some(format!("u-{}", i % 40)),
        recipient_id: "u-1".into(),
        url: format!("https://app.qontak.com/crm/deals/{i}"),
        created_at,
        read_at: (!unread).then_some(created_at),
    }
}

fn build(dir: &std::path::Path, name: &str, indexer: Indexer) -> Store {
    let mut store = Store::open(dir.join(name)).expect("open store");
    store.set_indexer(indexer);
    let mut rng = Lcg(7);
    let items: Vec<Notification> = (0..TOTAL).map(|i| item(i, &mut rng, "n")).collect();
    for chunk in items.chunks(10_000) {
        store.upsert(chunk, now()).expect("upsert");
    }
    store.index_all().expect("index");
    store
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// p50 and p99 of `rounds` runs of `f`.
fn measure(rounds: usize, mut f: impl FnMut(usize)) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(rounds);
    for r in 0..rounds {
        let t = Instant::now();
        f(r);
        times.push(t.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn scopes() -> Vec<Scope> {
    let mut out = Vec::new();
    for tab in Tab::ALL {
        out.push(Scope::new(*tab, None).expect("scope"));
        for c in tab.categories() {
            out.push(Scope::new(*tab, Some(*c)).expect("scope"));
        }
    }
    out
}

fn label(s: &Scope, unread: bool) -> String {
    format!(
        "{} / {} / {}",
        s.tab,
        s.category.map_or("all", Category::as_str),
        if unread { "unread" } else { "any" }
    )
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let t = Instant::now();
    let app_indexer = rendered(Arc::new(Catalog::builtin().expect("catalog")));
    let mut store = build(dir.path(), "main.db", app_indexer.clone());
    println!("built a store of {TOTAL} notifications in {}", ms(t.elapsed()));
    // The peer: the same store whose items are indexed by no text at all.
    let empty: Indexer = Arc::new(|_: &Notification| String::new());
    let mut bare = build(dir.path(), "bare.db", empty);

    println!("\n| measurement | p50 | p99 | goal |\n|---|---|---|---|");

    // Pages: every tab × filter × unread combination, first pages and pages deep in the list.
    let mut worst = (String::new(), Duration::ZERO);
    let mut all_times = Vec::new();
    for scope in scopes() {
        for unread_only in [false, true] {
            let mut cursors = vec![None];
            let mut q = ListQuery { scope, unread_only, after: None, limit: 50 };
            for _ in 0..20 {
                let page = store.page(&q).expect("page");
                match page.next {
                    Some(c) => {
                        cursors.push(Some(c.clone()));
                        q.after = Some(c);
                    }
                    None => break,
                }
            }
            let mut times = Vec::new();
            for r in 0..300 {
                let after: Option<PageCursor> = cursors[r % cursors.len()].clone();
                let q = ListQuery { scope, unread_only, after, limit: 50 };
                let t = Instant::now();
                let page = store.page(&q).expect("page");
                times.push(t.elapsed());
                assert!(!page.items.is_empty());
            }
            times.sort();
            let p99 = percentile(&times, 0.99);
            if p99 > worst.1 {
                worst = (label(&scope, unread_only), p99);
            }
            all_times.extend(times);
        }
    }
    all_times.sort();
    println!(
        "| page of 50, all 26 tab × filter × unread combinations ({} pages) | {} | {} | p99 ≤ 1 ms |",
        all_times.len(),
        us(percentile(&all_times, 0.5)),
        us(percentile(&all_times, 0.99))
    );
    println!("| page of 50, slowest combination: {} | | {} | p99 ≤ 1 ms |", worst.0, us(worst.1));

    let (p50, p99) = measure(10_000, |_| {
        std::hint::black_box(store.unread_counts().expect("counts"));
    });
    println!("| unread counts (all tabs and categories) | {} | {} | ≤ 0.1 ms |", us(p50), us(p99));

    let general = Scope::new(Tab::General, None).expect("scope");
    let unread = store.unread_counts().expect("counts").tab(Tab::General);
    assert_eq!(unread, 50_000);
    let mut mark_times = Vec::new();
    let t = Instant::now();
    let report = store.mark_all_read(general, now()).expect("mark all");
    mark_times.push(t.elapsed());
    assert_eq!(report.changed, 50_000);

    // The unread-only list right after, before compaction has caught up (the worst moment).
    let q = ListQuery { scope: general, unread_only: true, after: None, limit: 50 };
    let t = Instant::now();
    store.page(&q).expect("page");
    let before_compaction = t.elapsed();

    let t = Instant::now();
    let mut chunks = Vec::new();
    loop {
        let c = Instant::now();
        let n = store.compact_read_marks(5_000, now() + chrono::Duration::minutes(1)).expect("compact");
        chunks.push(c.elapsed());
        if n == 0 {
            break;
        }
    }
    let compaction = t.elapsed();
    chunks.sort();

    // Two more mark-all rounds on fresh stores for a spread.
    for name in ["b.db", "c.db"] {
        let mut s = build(dir.path(), name, app_indexer.clone());
        let t = Instant::now();
        let r = s.mark_all_read(general, now()).expect("mark all");
        mark_times.push(t.elapsed());
        assert_eq!(r.changed, 50_000);
    }
    mark_times.sort();
    println!(
        "| mark all read, General, 50,000 unread (3 fresh stores) | {} | max {} | ≤ 20 ms |",
        ms(mark_times[1]),
        ms(mark_times[2])
    );
    println!(
        "| compaction of those 50,000 rows, 5,000 per step (background) | {} per step | max {} per step; {} total | — |",
        ms(percentile(&chunks, 0.5)),
        ms(*chunks.last().expect("steps")),
        ms(compaction)
    );
    println!(
        "| unread-only page right after mark all, before compaction | {} | | — |",
        ms(before_compaction)
    );

    let mut rng = Lcg(99);
    let fresh: Vec<Notification> = (0..10_000).map(|i| item(i, &mut rng, "new")).collect();
    let t = Instant::now();
    let r = store.upsert(&fresh, now()).expect("upsert");
    let insert = t.elapsed();
    assert_eq!(r.inserted.len(), 10_000);
    let t = Instant::now();
    let r = store.upsert(&fresh, now()).expect("upsert");
    let resend = t.elapsed();
    assert_eq!(r.duplicates, 10_000);
    println!(
        "| bulk upsert of 10,000 new items into 100,000 (one transaction) | {} | | ≤ 100 ms |",
        ms(insert)
    );
    println!("| the same 10,000 re-sent (all duplicates, MW-4) | {} | | — |", ms(resend));

    // Indexing them afterwards, as the app does in the background, 500 per transaction.
    let t = Instant::now();
    let mut steps = Vec::new();
    loop {
        let step = Instant::now();
        if store.index_some(500).expect("index") == 0 {
            break;
        }
        steps.push(step.elapsed());
    }
    let total = t.elapsed();
    steps.sort();
    println!(
        "| indexing those 10,000 for search afterwards, 500 per step (background) | {} per step | max {} per step; {} total | — |",
        ms(percentile(&steps, 0.5)),
        ms(steps.last().copied().unwrap_or_default()),
        ms(total)
    );
    // The peer: the same 10,000 indexed with no text (the FTS rows alone).
    bare.upsert(&fresh, now()).expect("upsert");
    let t = Instant::now();
    bare.index_all().expect("index");
    println!("| … the same with no text per item (the peer) | {} total | | — |", ms(t.elapsed()));

    // Search: words an agent types, everywhere and within a tab, first page of results.
    let queries = [
        "deal",
        "deal_name 4821",
        "object_name 777",
        "ta",
        "approval",
        "persetujuan",
        "4821",
        "budi siti",
        "expense_name 12",
        "contact_name",
        "zzz nothing",
    ];
    let mut times = Vec::new();
    let mut per_query = vec![Vec::new(); queries.len()];
    for round in 0..200 {
        for (i, q) in queries.iter().enumerate() {
            let scope = if (round + i) % 2 == 0 { None } else { Some(general) };
            let q = SearchQuery {
                text: (*q).into(),
                scope,
                unread_only: round % 3 == 0,
                limit: 200,
                before: None,
            };
            let t = Instant::now();
            let found = store.search(&q).expect("search").items;
            times.push(t.elapsed());
            per_query[i].push(t.elapsed());
            std::hint::black_box(found);
        }
    }
    times.sort();
    let slowest = per_query
        .iter_mut()
        .zip(queries)
        .map(|(ts, q)| {
            ts.sort();
            (percentile(ts, 0.99), q)
        })
        .max()
        .unwrap_or_default();
    println!("| search, slowest query: \"{}\" | | {} | p99 ≤ 5 ms |", slowest.1, us(slowest.0));
    println!(
        "| search over 110,000 items, {} queries (words, prefixes, numbers, nothing found; everywhere or a tab) | {} | {} | p99 ≤ 5 ms |",
        times.len(),
        us(percentile(&times, 0.5)),
        us(percentile(&times, 0.99))
    );
    drop(store);
    drop(bare);
    let size = |name: &str| std::fs::metadata(dir.path().join(name)).map(|m| m.len()).unwrap_or(0);
    let (with, without) = (size("main.db"), size("bare.db"));
    println!(
        "| database file, 110,000 items: with the search index / without text | {:.1} MB / {:.1} MB | | index ≈ {:.1} MB |",
        with as f64 / 1e6,
        without as f64 / 1e6,
        with.saturating_sub(without) as f64 / 1e6
    );
}
