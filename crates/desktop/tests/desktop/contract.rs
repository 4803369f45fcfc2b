//! One contract between Rust and the bell window.
//!
//! - The window's TypeScript types (`ui/src/generated/contract.ts`) are generated from the Rust
//!   types the commands take and return, with the tabs, categories and kind → message map of core;
//!   this test fails when the checked-in file differs (`LONCENG_BLESS=1` rewrites it).
//! - `tests/contract/backend.json` says how a bell-window backend behaves; the real runtime runs it
//!   here, and the web mock runs it in `ui/tests/contract.test.ts`, so that browser tests of the
//!   mock prove something about the product.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lonceng_client::doctor;
use lonceng_client::store::{Batch, PageCursor, Scope, Store, UNDO_WINDOW};
use lonceng_client::sync::{BoxFut, ConnState, SyncStatus};
use lonceng_client::toast::{ChatWindowMatch, Focus, FocusProbe, Notifier, NotifyError, Reason, Toast};
use lonceng_desktop::error::AppError;
use lonceng_desktop::focus::ChatFocus;
use lonceng_desktop::keyring::{SecretKind, Secrets, TokenStore};
use lonceng_desktop::ports::Ports;
use lonceng_desktop::runtime::{Desktop, Options};
use lonceng_desktop::settings::{DesktopSettings, SettingsChanges, SettingsView, SourceKind};
use lonceng_desktop::views::{
    CountsView, MarkAllView, PageView, QuarantineView, QuarantinedView, UiEvent, UpdateOffer,
};
use lonceng_domain::clock::ManualClock;
use lonceng_domain::i18n::Lang;
use lonceng_domain::link::Opener;
use lonceng_domain::model::Rejected;
use lonceng_domain::model::{Category, Kind, Tab, WireNotification};
use lonceng_domain::protocol::{MaintenanceStatus, MaintenanceWindow};
use serde_json::{json, Value};
use ts_rs::TS;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The TypeScript the window is written against.
fn generated() -> String {
    let cfg = ts_rs::Config::new().with_large_int("number");
    let decls = [
        Tab::decl(&cfg),
        Category::decl(&cfg),
        Lang::decl(&cfg),
        Reason::decl(&cfg),
        Scope::decl(&cfg),
        PageCursor::decl(&cfg),
        WireNotification::decl(&cfg),
        PageView::decl(&cfg),
        CountsView::decl(&cfg),
        QuarantineView::decl(&cfg),
        QuarantinedView::decl(&cfg),
        MarkAllView::decl(&cfg),
        MaintenanceWindow::decl(&cfg),
        MaintenanceStatus::decl(&cfg),
        ConnState::decl(&cfg),
        SyncStatus::decl(&cfg),
        SourceKind::decl(&cfg),
        lonceng_client::toast::Day::decl(&cfg),
        lonceng_client::toast::QuietHours::decl(&cfg),
        lonceng_client::toast::SoundSettings::decl(&cfg),
        lonceng_client::toast::QuietKind::decl(&cfg),
        lonceng_client::toast::QuietState::decl(&cfg),
        lonceng_client::toast::SnoozeTimes::decl(&cfg),
        lonceng_desktop::views::SnoozedView::decl(&cfg),
        lonceng_desktop::views::SearchView::decl(&cfg),
        DesktopSettings::decl(&cfg),
        SettingsView::decl(&cfg),
        SettingsChanges::decl(&cfg),
        AppError::decl(&cfg),
        UiEvent::decl(&cfg),
        UpdateOffer::decl(&cfg),
        doctor::Level::decl(&cfg),
        doctor::Check::decl(&cfg),
        doctor::Line::decl(&cfg),
        doctor::Report::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types by crates/desktop/tests/contract.rs: do not edit.\n\
         // `LONCENG_BLESS=1 cargo test -p lonceng-desktop --test desktop contract` writes it anew.\n\n",
    );
    for d in decls {
        out.push_str("export ");
        out.push_str(&d);
        out.push_str("\n\n");
    }
    let list = |v: Vec<String>| v.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
    out.push_str(&format!(
        "/** The tabs, in display order. */\nexport const TABS: readonly Tab[] = [{}];\n\n",
        list(Tab::ALL.iter().map(|t| t.to_string()).collect())
    ));
    out.push_str("/** Each tab's category chips, in display order. */\nexport const CATEGORIES: Readonly<Record<Tab, readonly Category[]>> = {\n");
    for t in Tab::ALL {
        out.push_str(&format!(
            "  {t}: [{}],\n",
            list(t.categories().iter().map(|c| c.to_string()).collect())
        ));
    }
    out.push_str("};\n\n/** The catalog message of each kind: its text, with the toast title as `.title` (NC-R11). */\nexport const KIND_MESSAGES: Readonly<Record<string, string>> = {\n");
    for k in Kind::ALL {
        out.push_str(&format!("  {k}: '{}',\n", k.message_id()));
    }
    out.push_str("};\n\n");
    let events: Vec<_> = UiEvent::ALL.iter().map(|e| e.name().to_owned()).collect();
    out.push_str(&format!(
        "/** Every event the window is sent, each on the channel `lonceng://<name>`. */\nexport const BACKEND_EVENTS: readonly BackendEvent[] = [{}];\n\n",
        list(events)
    ));
    out.push_str(&format!(
        "/** How long a mark-all can be undone before it leaves for the server, in milliseconds. */\nexport const UNDO_WINDOW_MS = {};\n",
        UNDO_WINDOW.num_milliseconds()
    ));
    out
}

#[test]
fn the_window_types_are_generated_from_the_rust_types() {
    let path = repo().join("ui/src/generated/contract.ts");
    let want = generated();
    if std::env::var_os("LONCENG_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is not what the Rust types say: run `LONCENG_BLESS=1 cargo test -p lonceng-desktop --test desktop contract` \
         and commit the result",
        path.display()
    );
}

// ---- the backend contract, run against the real runtime ----

struct NoToasts;
impl Notifier for NoToasts {
    fn show(&self, _: Toast, replaces: Option<u32>) -> BoxFut<'_, Result<u32, NotifyError>> {
        Box::pin(async move { Ok(replaces.unwrap_or(1)) })
    }
    fn close(&self, _: u32) -> BoxFut<'_, Result<(), NotifyError>> {
        Box::pin(async { Ok(()) })
    }
}

struct Away;
impl FocusProbe for Away {
    fn focus(&self) -> Focus {
        Focus::ChatNotFocused
    }
}
impl ChatFocus for Away {
    fn set_matcher(&self, _: ChatWindowMatch) {}
}

struct NoToken;
impl Secrets for NoToken {
    fn read(&self, _: SecretKind) -> BoxFut<'_, (Option<String>, TokenStore)> {
        Box::pin(async { (None, TokenStore::None) })
    }
    fn write<'a>(&'a self, _: SecretKind, _: &'a str) -> BoxFut<'a, Result<TokenStore, String>> {
        Box::pin(async { Err("not in the contract".to_owned()) })
    }
}

#[derive(Default)]
struct Browser(Mutex<Vec<String>>);
impl Opener for Browser {
    fn open(&self, url: &str) -> Result<(), String> {
        self.0.lock().unwrap().push(url.to_owned());
        Ok(())
    }
}

/// The runtime on a store holding `seed` (and `quarantined` kept aside), with the clock at `now`
/// and the browser recorded.
async fn runtime(dir: &Path, seed: &Seed, now: DateTime<Utc>) -> (Arc<Desktop>, Arc<Browser>) {
    let items: Vec<_> =
        seed.items.iter().cloned().map(|w| w.validate().expect("a valid seed item")).collect();
    let rejected = seed.quarantined.iter().map(|(raw, error)| Rejected::new(raw, error.clone())).collect();
    Store::open(dir.join("lonceng.db"))
        .unwrap()
        .apply(&Batch { items, rejected, ..Batch::default() }, now)
        .unwrap();
    let browser = Arc::new(Browser::default());
    let ports = Ports {
        clock: Arc::new(ManualClock::new(now)),
        opener: browser.clone(),
        notifier: Box::new(|_| Arc::new(NoToasts)),
        focus: Arc::new(Away),
        secrets: Arc::new(NoToken),
    };
    let options = Options {
        data_dir: dir.to_path_buf(),
        demo: false,
        demo_pace: Duration::from_secs(1),
        demo_events: None,
        autostart_exe: None,
    };
    (Desktop::start_with(options, Arc::new(|_| {}), ports).await.unwrap(), browser)
}

fn error_kind(e: &AppError) -> Value {
    serde_json::to_value(e).unwrap()["kind"].clone()
}

/// `want` holds for `have`: every field `want` names has the same value (objects compared field by
/// field, so a case can name only the counts it is about).
fn holds(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => {
            w.iter().all(|(k, v)| h.get(k).is_some_and(|hv| holds(v, hv)))
        }
        _ => want == have,
    }
}

/// What each case starts from.
struct Seed {
    items: Vec<WireNotification>,
    quarantined: Vec<(String, String)>,
}

/// Runs one case from the seed; a step that does not hold fails with what it got.
async fn run_case(case: &Value, seed: &Seed) {
    let dir = tempfile::tempdir().unwrap();
    let now: DateTime<Utc> = "2026-01-20T12:00:00Z".parse().unwrap();
    let (app, browser) = runtime(dir.path(), seed, now).await;
    let name = case["name"].as_str().unwrap();
    let mut previous: Option<PageCursor> = None;
    let mut undo: Option<String> = None;
    for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
        let want = &step["expect"];
        let at = format!("{name}, step {i} ({step})");
        let scope = || serde_json::from_value::<Scope>(step["scope"].clone()).unwrap();
        let outcome: Result<Value, AppError> = match step["do"].as_str().unwrap() {
            "page" => {
                let after = if step["after"] == "previous" { previous.clone() } else { None };
                let limit = step["limit"].as_u64().unwrap() as usize;
                app.page(scope(), step["unread_only"].as_bool().unwrap(), after, limit).map(|p| {
                    previous = p.next.clone();
                    let ids: Vec<_> = p.items.iter().map(|n| n.id.clone()).collect();
                    let read: Vec<_> = p.items.iter().map(|n| n.read_at.is_some()).collect();
                    json!({"ids": ids, "more": p.next.is_some(), "read": read})
                })
            }
            "counts" => app.counts().map(|c| serde_json::to_value(c).unwrap()),
            "mark_read" => app.mark_read(step["id"].as_str().unwrap()).map(|()| json!({})),
            "open" => app.open_item(step["id"].as_str().unwrap()).map(|()| json!({})),
            "mark_all_read" => app.mark_all_read(scope()).map(|m| {
                undo = m.undo.clone();
                json!({"changed": m.changed, "undoable": m.undo.is_some()})
            }),
            "undo" => app.undo(undo.as_deref().unwrap_or_default()).map(|u| json!({"undone": u})),
            "quarantine" => app.quarantine().map(|q| {
                let reasons: Vec<_> = q.latest.iter().map(|l| l.reason.clone()).collect();
                json!({"count": q.count, "reasons": reasons})
            }),
            other => panic!("{at}: unknown step '{other}'"),
        };
        let mut have = match outcome {
            Ok(v) => v,
            Err(e) => json!({"error": error_kind(&e)}),
        };
        have["opened"] = json!(*browser.0.lock().unwrap());
        if !want.is_null() {
            assert!(holds(want, &have), "{at}\n  expected {want}\n  got      {have}");
        } else {
            assert!(have.get("error").is_none(), "{at}: {have}");
        }
    }
    app.stop().await;
}

#[test]
fn the_real_runtime_follows_the_backend_contract() {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/contract/backend.json")).unwrap())
            .unwrap();
    let seed = Seed {
        items: serde_json::from_value(doc["seed"].clone()).unwrap(),
        quarantined: doc["quarantined"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| (q["raw"].as_str().unwrap().to_owned(), q["error"].as_str().unwrap().to_owned()))
            .collect(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for case in doc["cases"].as_array().unwrap() {
        rt.block_on(run_case(case, &seed));
    }
}
