//! The bell window's commands, listed once. [`commands!`](crate::commands!) hands the list to a
//! macro of the caller's: the Tauri shell makes its IPC handlers from it, and the contract test
//! makes the window's TypeScript (`ui/src/generated/contract.ts`: the `Commands` interface and
//! the calls over IPC) and the runner of `tests/contract/backend.json` from it. A new command is
//! one entry here, its signature with its one call into the runtime; [`Commands`]' methods are
//! made from the entries, and the contract test fails until the TypeScript is written anew.
//!
//! What belongs to the shell alone (the window's pin, its paint timing, installing an update) is
//! reached through the [`Shell`] port, so the whole list runs headless in tests.

use std::sync::Arc;

use lonceng_client::sync::BoxFut;

use crate::error::AppError;
use crate::runtime::Desktop;

/// Calls `$then! { … }` with every command: its doc, name, parameters (as the window sends them, in
/// snake case), what it answers (every command answers `Result<_, AppError>` over IPC), and its one
/// call, given the runtime and the shell: `= |app, shell| …` (an expression of that `Result`).
#[macro_export]
macro_rules! commands {
    ($then:path) => {
        $then! {
            // ---- the list ----
            /// A page of the list: the tab and chip, unread only or not, after a cursor (NC-R9).
            fn page(
                scope: ::lonceng_client::store::Scope,
                unread_only: bool,
                after: ::core::option::Option<::lonceng_client::store::PageCursor>,
                limit: usize,
            ) -> $crate::views::PageView
                = |app, _| app.page(scope, unread_only, after, limit);
            /// Unread counts per tab and category; their total is the badge (NC-R14).
            fn counts() -> $crate::views::CountsView
                = |app, _| app.counts();
            /// The connection as the window shows it (MW-2).
            fn status() -> ::lonceng_client::sync::SyncStatus
                = |app, _| Ok(app.status());
            /// "Why no toast?" for an item this run has seen.
            fn why(id: ::std::string::String) -> ::core::option::Option<::lonceng_client::toast::Reason>
                = |app, _| Ok(app.why(&id));
            /// Why notifications could not be shown (the count is in `counts`).
            fn quarantine() -> $crate::views::QuarantineView
                = |app, _| app.quarantine();
            // ---- what the agent does ----
            /// Marks one item read (NC-R8).
            fn mark_read(id: ::std::string::String) -> ()
                = |app, _| app.mark_read(&id);
            /// Marks one item unread again, on every device (ORG-7).
            fn mark_unread(id: ::std::string::String) -> ()
                = |app, _| app.mark_unread(&id);
            /// Opens the item's page (only an allowed host) and marks it read (NC-R7).
            fn open_item(id: ::std::string::String) -> ()
                = |app, _| app.open_item(&id);
            /// Marks exactly the tab and chip read (NC-R6); undoable for a few seconds.
            fn mark_all_read(scope: ::lonceng_client::store::Scope) -> $crate::views::MarkAllView
                = |app, _| app.mark_all_read(scope);
            /// Takes a mark-all back; false when it is too late.
            fn undo(token: ::std::string::String) -> bool
                = |app, _| app.undo(&token);
            // ---- snooze, search, gaps, quiet ----
            /// Snoozes an unread item until then: it leaves the list and comes back unread, with a
            /// fresh toast. False when it was read already.
            fn snooze(
                id: ::std::string::String,
                until: ::chrono::DateTime<::chrono::Utc>,
            ) -> bool
                = |app, _| app.snooze(&id, until);
            /// Brings a snoozed item back now.
            fn unsnooze(id: ::std::string::String) -> bool
                = |app, _| app.unsnooze(&id);
            /// The "Snoozed" view: what waits, soonest first.
            fn snoozed() -> ::std::vec::Vec<$crate::views::SnoozedView>
                = |app, _| app.snoozed();
            /// The snooze menu's times, where the agent is.
            fn snooze_times() -> ::lonceng_client::toast::SnoozeTimes
                = |app, _| app.snooze_times();
            /// Searches the history, within the scope or everywhere (null), newest first; a page
            /// at a time (`before`: the previous page's `next`).
            fn search(
                text: ::std::string::String,
                scope: ::core::option::Option<::lonceng_client::store::Scope>,
                unread_only: bool,
                before: ::core::option::Option<::std::string::String>,
            ) -> $crate::views::SearchView
                = |app, _| app.search(&text, scope, unread_only, before.as_deref());
            /// Tabs that may have lost items while the agent was away (NC-R5), until dismissed.
            fn gaps() -> ::std::vec::Vec<::lonceng_domain::model::Tab>
                = |app, _| app.gaps();
            /// Dismisses a tab's gap marker.
            fn dismiss_gap(tab: ::lonceng_domain::model::Tab) -> ()
                = |app, _| app.dismiss_gap(tab);
            /// Whether toasts are held now (quiet hours, a pause), and until when.
            fn quiet() -> ::core::option::Option<::lonceng_client::toast::QuietState>
                = |app, _| Ok(app.quiet());
            /// Ends a pause, or the quiet hours running now.
            fn resume() -> ()
                = |app, _| app.resume().await;
            // ---- settings, updates, Diagnose ----
            /// The settings as the window shows them (secrets only as "kept where").
            fn settings() -> $crate::settings::SettingsView
                = |app, _| Ok(app.settings());
            /// Saves a change; secrets go to the keyring.
            fn save_settings(changes: $crate::settings::SettingsChanges) -> $crate::settings::SettingsView
                = |app, shell| {
                // A new update address is looked at at once.
                let new_update_url = changes.update_url.is_some();
                let view = app.save_settings(changes).await?;
                if new_update_url {
                    shell.update_url_changed();
                }
                Ok(view)
            };
            /// ORG-1: signs in through the organisation's identity provider in the system browser;
            /// answers when the browser comes back (a second call replaces a sign-in still waiting).
            fn sign_in() -> $crate::settings::AccountView
                = |app, _| app.sign_in().await;
            /// The agent's answer to a clicked sign-in link: yes points the app at its server and
            /// signs in there; no forgets it.
            fn answer_sign_in_link(accept: bool) -> $crate::settings::AccountView
                = |app, _| app.answer_sign_in_link(accept).await;
            /// Signs this device out: the organisation's server and the keyring forget it.
            fn sign_out() -> ()
                = |app, _| app.sign_out().await;
            /// Settings → Diagnose: `lonceng doctor`'s report, in the agent's language.
            fn diagnose() -> ::lonceng_client::doctor::Report
                = |app, _| Ok(app.diagnose().await);
            /// Saves the Diagnose report, the week's logs and the settings in one zip for IT
            /// (redacted); returns where.
            fn save_report() -> ::std::string::String
                = |app, _| app.save_report().await;
            /// A signed update found at the organisation's manifest, if any.
            fn update_offer() -> ::core::option::Option<$crate::views::UpdateOffer>
                = |app, _| Ok(app.update_offer());
            /// The agent's consent: installs the offered update (the app restarts into it).
            fn install_update() -> ()
                = |app, shell| {
                // Only what is on offer is installed: the agent consented to that version.
                if app.update_offer().is_none() {
                    return Err($crate::error::AppError::Invalid("no update is on offer".into()));
                }
                shell.install_update().await
            };
            // ---- the window itself ----
            /// Keeps the window open when it loses focus.
            fn set_pinned(on: bool) -> ()
                = |_, shell| {
                shell.set_pinned(on);
                Ok(())
            };
            /// The list is on screen; on the first load, how long the page itself took.
            fn painted(page: ::core::option::Option<$crate::views::PageTiming>) -> ()
                = |_, shell| {
                shell.painted(page);
                Ok(())
            };
        }
    };
}

/// What only the shell can do for a command: the window is its, and so is the updater.
pub trait Shell: Send + Sync + 'static {
    fn set_pinned(&self, on: bool);
    /// The window painted its list (the shell measures the time from the tray click).
    fn painted(&self, page: Option<crate::views::PageTiming>);
    /// Downloads and installs the update on offer.
    fn install_update(&self) -> BoxFut<'_, Result<(), AppError>>;
    /// The update address changed: look at it now.
    fn update_url_changed(&self);
}

/// The commands' one call each: into the runtime, or the shell for what is the shell's.
pub struct Commands {
    app: Arc<Desktop>,
    shell: Arc<dyn Shell>,
}

impl Commands {
    pub fn new(app: Arc<Desktop>, shell: Arc<dyn Shell>) -> Commands {
        Commands { app, shell }
    }
}

/// Each command's method: its entry's call, with the runtime and the shell bound as it names them.
macro_rules! methods {
    ($(
        $(#[doc = $doc:literal])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty
            = |$app:pat_param, $shell:pat_param| $call:expr;
    )*) => {
        impl Commands {
            $(
                $(#[doc = $doc])*
                pub async fn $name(&self, $($arg: $ty),*) -> Result<$ret, AppError> {
                    let ($app, $shell) = (&*self.app, &*self.shell);
                    $call
                }
            )*
        }
    };
}

crate::commands!(methods);
