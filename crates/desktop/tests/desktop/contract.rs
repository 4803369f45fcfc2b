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
use lonceng_client::toast::Reason;
use lonceng_desktop::commands::{Commands, Shell};
use lonceng_desktop::error::AppError;
use lonceng_desktop::keyring::{SecretKind, Secrets, TokenStore};
use lonceng_desktop::ports::Ports;
use lonceng_desktop::runtime::{Desktop, Options};
use lonceng_desktop::settings::{DesktopSettings, SettingsChanges, SettingsView, SourceKind};
use lonceng_desktop::views::{
    CountsView, FirstPaint, MarkAllView, PageView, QuarantineView, QuarantinedView, UiEvent, UpdateOffer,
};
use lonceng_domain::clock::ManualClock;
use lonceng_domain::i18n::{Catalog, Lang};
use lonceng_domain::link::Opener;
use lonceng_domain::model::Rejected;
use lonceng_domain::model::{Category, Kind, Tab, WireNotification};
use lonceng_domain::protocol::{MaintenanceStatus, MaintenanceWindow};
use serde_json::{json, Value};

use crate::fakes::{Away, NoToasts};
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
        lonceng_desktop::views::PageTiming::decl(&cfg),
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
        lonceng_client::toast::MessageText::decl(&cfg),
        lonceng_client::toast::MuteUntil::decl(&cfg),
        lonceng_client::toast::ConversationMute::decl(&cfg),
        lonceng_client::toast::QuietKind::decl(&cfg),
        lonceng_client::toast::QuietState::decl(&cfg),
        lonceng_client::toast::SnoozeTimes::decl(&cfg),
        lonceng_desktop::views::SnoozedView::decl(&cfg),
        lonceng_desktop::views::SearchView::decl(&cfg),
        DesktopSettings::decl(&cfg),
        lonceng_desktop::settings::SignInMethod::decl(&cfg),
        lonceng_desktop::settings::AccountView::decl(&cfg),
        lonceng_desktop::settings::ShortcutProblem::decl(&cfg),
        SettingsView::decl(&cfg),
        SettingsChanges::decl(&cfg),
        lonceng_desktop::views::FirstPaint::decl(&cfg),
        AppError::decl(&cfg),
        UiEvent::decl(&cfg),
        UpdateOffer::decl(&cfg),
        doctor::Level::decl(&cfg),
        doctor::Check::decl(&cfg),
        doctor::Line::decl(&cfg),
        doctor::Report::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types and the command list by crates/desktop/tests/desktop/contract.rs: do not edit.\n\
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
    out.push_str(&commands_ts(&cfg));
    out
}

/// One command of the list, as TypeScript sees it.
struct CommandTs {
    name: &'static str,
    doc: Vec<&'static str>,
    params: Vec<(&'static str, String)>,
    answer: String,
}

/// The list of `lonceng_desktop::commands!`, with each type as ts-rs names it.
macro_rules! command_list {
    ($(
        $(#[doc = $doc:literal])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty = |$_a:pat_param, $_s:pat_param| $_call:expr;
    )*) => {
        fn command_list(cfg: &ts_rs::Config) -> Vec<CommandTs> {
            vec![$(CommandTs {
                name: stringify!($name),
                doc: vec![$($doc),*],
                params: vec![$((stringify!($arg), <$ty as TS>::name(cfg))),*],
                answer: <$ret as TS>::name(cfg),
            }),*]
        }
    };
}
lonceng_desktop::commands!(command_list);

/// `unread_only` → `unreadOnly`: Tauri maps the window's camel case back to Rust's snake case.
fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// The `Commands` interface, each parameter's name in order, and the calls over IPC.
fn commands_ts(cfg: &ts_rs::Config) -> String {
    let list = command_list(cfg);
    let answer = |c: &CommandTs| if c.answer == "null" { "void".to_owned() } else { c.answer.clone() };
    let mut out = String::from("\n/** The window's commands, one list with the Rust side (crates/desktop/src/commands.rs). */\nexport interface Commands {\n");
    for c in &list {
        out.push_str(&format!("  /**{} */\n", c.doc.join("\n   *")));
        let params: Vec<_> = c.params.iter().map(|(n, t)| format!("{}: {t}", camel(n))).collect();
        out.push_str(&format!("  {}({}): Promise<{}>;\n", camel(c.name), params.join(", "), answer(c)));
    }
    out.push_str("}\n\n/** Each command's parameters, in order. */\nexport const COMMAND_PARAMS: { readonly [C in keyof Commands]: readonly string[] } = {\n");
    for c in &list {
        let params: Vec<_> = c.params.iter().map(|(n, _)| format!("'{}'", camel(n))).collect();
        out.push_str(&format!("  {}: [{}],\n", camel(c.name), params.join(", ")));
    }
    out.push_str("};\n\n/** Sends a command over IPC (Tauri's `invoke`). */\nexport type Invoke = (command: string, args: Record<string, unknown>) => Promise<unknown>;\n\n");
    out.push_str("/** The commands, each sent by its name with its parameters by name. */\nexport function invokeCommands(invoke: Invoke): Commands {\n  return {\n");
    for c in &list {
        let names: Vec<_> = c.params.iter().map(|(n, _)| camel(n)).collect();
        let args = if names.is_empty() { "{}".to_owned() } else { format!("{{ {} }}", names.join(", ")) };
        out.push_str(&format!(
            "    {}: ({}) => invoke('{}', {args}) as Promise<{}>,\n",
            camel(c.name),
            names.join(", "),
            c.name,
            answer(c)
        ));
    }
    out.push_str("  };\n}\n");
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

struct NoToken;
impl Secrets for NoToken {
    fn read(&self, _: SecretKind) -> BoxFut<'_, (Option<String>, TokenStore)> {
        Box::pin(async { (None, TokenStore::None) })
    }
    fn write<'a>(&'a self, _: SecretKind, _: &'a str) -> BoxFut<'a, Result<TokenStore, String>> {
        Box::pin(async { Err("not in the contract".to_owned()) })
    }
    fn forget(&self, _: SecretKind) -> BoxFut<'_, ()> {
        Box::pin(async {})
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
    let mut store = Store::open(dir.join("lonceng.db")).unwrap();
    store.apply(&Batch { items, rejected, ..Batch::default() }, now).unwrap();
    // Indexed for search before the runtime starts, as a store that has been running is: the
    // runtime's own indexer would race the first search.
    store.set_indexer(lonceng_client::store::rendered(Arc::new(Catalog::builtin().unwrap())));
    while store.index_some(500).unwrap() > 0 {}
    drop(store);
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
        policy: Default::default(),
    };
    (Desktop::start_with(options, Arc::new(|_| {}), ports).await.unwrap(), browser)
}

fn error_kind(e: &AppError) -> Value {
    serde_json::to_value(e).unwrap()["kind"].clone()
}

/// `want` holds for `have`: every field `want` names has the same value (objects compared field by
/// field, so a case can name only the counts it is about; arrays element by element); `"$some"`
/// holds for anything but null.
fn holds(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::String(w), h) if w == "$some" => !h.is_null(),
        (Value::Object(w), Value::Object(h)) => {
            w.iter().all(|(k, v)| h.get(k).is_some_and(|hv| holds(v, hv)))
        }
        (Value::Array(w), Value::Array(h)) => w.len() == h.len() && w.iter().zip(h).all(|(w, h)| holds(w, h)),
        _ => want == have,
    }
}

/// Calls a command by name with its arguments by their camel-case names, as the window's IPC does.
macro_rules! dispatcher {
    ($(
        $(#[doc = $doc:literal])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty = |$_a:pat_param, $_s:pat_param| $_call:expr;
    )*) => {
        async fn call(commands: &Commands, name: &str, args: &Value) -> Result<Value, AppError> {
            match name {
                $(stringify!($name) => {
                    $(
                        let given = args.get(camel(stringify!($arg))).cloned().unwrap_or(Value::Null);
                        let $arg: $ty = serde_json::from_value(given).unwrap_or_else(|e| {
                            panic!("{}: the argument {}: {e}", stringify!($name), stringify!($arg))
                        });
                    )*
                    commands.$name($($arg),*).await.map(|out| serde_json::to_value(out).unwrap())
                })*
                other => panic!("no command '{other}' in the list"),
            }
        }
        /// Every command's name: each must have a case.
        const COMMAND_NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}
lonceng_desktop::commands!(dispatcher);

/// The shell's part, recorded: the pin, paints, installs and update checks asked for.
#[derive(Default)]
struct RecordingShell(Mutex<Vec<String>>);
impl Shell for RecordingShell {
    fn set_pinned(&self, on: bool) {
        self.0.lock().unwrap().push(format!("pinned {on}"));
    }
    fn painted(&self, page: Option<lonceng_desktop::views::PageTiming>) {
        self.0.lock().unwrap().push(format!("painted {page:?}"));
    }
    fn install_update(&self) -> BoxFut<'_, Result<(), AppError>> {
        self.0.lock().unwrap().push("install".into());
        Box::pin(async { Ok(()) })
    }
    fn update_url_changed(&self) {
        self.0.lock().unwrap().push("update url".into());
    }
}

/// An argument as a case writes it: `"$name.field"` is a field of what the step saved as `name`
/// answered (a cursor, an undo token).
fn resolve(arg: &Value, saved: &std::collections::HashMap<String, Value>) -> Value {
    match arg.as_str().and_then(|s| s.strip_prefix('$')) {
        Some(reference) => {
            let (name, field) = reference.split_once('.').unwrap_or((reference, ""));
            let value = saved.get(name).unwrap_or_else(|| panic!("nothing saved as '{name}'"));
            if field.is_empty() {
                value.clone()
            } else {
                value[field].clone()
            }
        }
        None => arg.clone(),
    }
}

/// What each case starts from.
struct Seed {
    items: Vec<WireNotification>,
    quarantined: Vec<(String, String)>,
}

/// Runs one case from the seed; a step that does not hold fails with what it got. Returns the
/// commands it called.
async fn run_case(case: &Value, seed: &Seed) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let now: DateTime<Utc> = "2026-01-20T12:00:00Z".parse().unwrap();
    let (app, browser) = runtime(dir.path(), seed, now).await;
    let commands = Commands::new(app.clone(), Arc::new(RecordingShell::default()));
    let name = case["name"].as_str().unwrap();
    let mut saved = std::collections::HashMap::new();
    let mut called = Vec::new();
    for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
        let at = format!("{name}, step {i} ({step})");
        let command = step["do"].as_str().unwrap();
        called.push(command.to_owned());
        let args: serde_json::Map<String, Value> = step["args"]
            .as_object()
            .map(|a| a.iter().map(|(k, v)| (k.clone(), resolve(v, &saved))).collect())
            .unwrap_or_default();
        let outcome = call(&commands, command, &Value::Object(args)).await;
        match (&outcome, step.get("error")) {
            (Err(e), Some(kind)) => assert_eq!(&error_kind(e), kind, "{at}: {e}"),
            (Err(e), None) => panic!("{at}: failed: {e}"),
            (Ok(v), Some(kind)) => panic!("{at}: expected the error {kind}, got {v}"),
            (Ok(have), None) => {
                if let Some(want) = step.get("expect") {
                    assert!(holds(want, have), "{at}\n  expected {want}\n  got      {have}");
                }
                if let Some(save) = step["save"].as_str() {
                    saved.insert(save.to_owned(), have.clone());
                }
            }
        }
        if let Some(want) = step.get("opened") {
            assert_eq!(want, &json!(*browser.0.lock().unwrap()), "{at}: the pages opened");
        }
    }
    app.stop().await;
    called
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
    let mut called = std::collections::BTreeSet::new();
    for case in doc["cases"].as_array().unwrap() {
        called.extend(rt.block_on(run_case(case, &seed)));
    }
    let untested: Vec<_> = COMMAND_NAMES.iter().filter(|c| !called.contains(**c)).collect();
    assert!(untested.is_empty(), "commands without a contract case: {untested:?}");
}

/// The first paint the shell hands the window with its document is what the commands answer, and
/// the script it travels in keeps notification text as data: a JSON literal, whatever the text.
#[test]
fn the_first_paint_is_what_the_commands_answer_and_its_script_holds_text_as_data() {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/contract/backend.json")).unwrap())
            .unwrap();
    let mut items: Vec<WireNotification> = serde_json::from_value(doc["seed"].clone()).unwrap();
    let hostile = "</script><script>alert(1)</script>\"; alert(2); //\u{2028}`${alert(3)}`\u{202E}";
    let mut item = items.iter().find(|w| w.tab == "general").unwrap().clone();
    item.id = "hostile".into();
    item.params["actor"] = json!(hostile);
    item.created_at = "2026-01-20T11:59:00Z".parse().unwrap();
    items.push(item);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let now: DateTime<Utc> = "2026-01-20T12:00:00Z".parse().unwrap();
        let (app, _) = runtime(dir.path(), &Seed { items, quarantined: vec![] }, now).await;
        let first = app.first_paint().unwrap();
        let script = first.script().unwrap();
        let json =
            script.strip_prefix("window.__LONCENG_FIRST__ = ").and_then(|s| s.strip_suffix(';')).unwrap();
        let got: Value = serde_json::from_str(json).unwrap();
        let page = app.page(FirstPaint::SCOPE, false, None, FirstPaint::LIMIT).unwrap();
        assert_eq!(got["page"], serde_json::to_value(&page).unwrap());
        assert_eq!(got["counts"], serde_json::to_value(app.counts().unwrap()).unwrap());
        assert_eq!(got["settings"], serde_json::to_value(app.settings()).unwrap());
        assert_eq!(got["scope"], json!({"tab": "general", "category": null}));
        assert_eq!((got["unread_only"].clone(), got["limit"].clone()), (json!(false), json!(200)));
        // The newest item is the hostile one, its text whole and inside a string literal only.
        assert_eq!(got["page"]["items"][0]["params"]["actor"], json!(hostile));
        let mut keys: Vec<_> = got.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["counts", "limit", "page", "scope", "settings", "status", "unread_only"]);
        app.stop().await;
    });
}
