//! The bell window's commands, listed once. [`commands!`](crate::commands!) hands the list to a
//! macro of the caller's: the Tauri shell makes its IPC handlers from it, and the contract test
//! makes the window's TypeScript (`ui/src/generated/contract.ts`: the `Commands` interface and
//! the calls over IPC) and the runner of `tests/contract/backend.json` from it. A new command is
//! one entry here and one method of [`Commands`]; the compiler holds the two together, and the
//! contract test fails until the TypeScript is written anew.
//!
//! [`Commands`] is the one call each command makes into the runtime. What belongs to the shell
//! alone (the window's pin, its paint timing, installing an update) is reached through the
//! [`Shell`] port, so the whole list runs headless in tests.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lonceng_client::doctor::Report;
use lonceng_client::store::{PageCursor, Scope};
use lonceng_client::sync::{BoxFut, SyncStatus};
use lonceng_client::toast::{QuietState, Reason, SnoozeTimes};
use lonceng_domain::model::Tab;

use crate::error::AppError;
use crate::runtime::Desktop;
use crate::settings::{SettingsChanges, SettingsView};
use crate::views::{CountsView, MarkAllView, PageView, QuarantineView, SearchView, SnoozedView, UpdateOffer};

/// Calls `$then! { … }` with every command: its doc, name, parameters (as the window sends them, in
/// snake case) and what it answers (every command answers `Result<_, AppError>` over IPC).
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
            ) -> $crate::views::PageView;
            /// Unread counts per tab and category; their total is the badge (NC-R14).
            fn counts() -> $crate::views::CountsView;
            /// The connection as the window shows it (MW-2).
            fn status() -> ::lonceng_client::sync::SyncStatus;
            /// "Why no toast?" for an item this run has seen.
            fn why(id: ::std::string::String) -> ::core::option::Option<::lonceng_client::toast::Reason>;
            /// Why notifications could not be shown (the count is in `counts`).
            fn quarantine() -> $crate::views::QuarantineView;
            // ---- what the agent does ----
            /// Marks one item read (NC-R8).
            fn mark_read(id: ::std::string::String) -> ();
            /// Opens the item's page (only an allowed host) and marks it read (NC-R7).
            fn open_item(id: ::std::string::String) -> ();
            /// Marks exactly the tab and chip read (NC-R6); undoable for a few seconds.
            fn mark_all_read(scope: ::lonceng_client::store::Scope) -> $crate::views::MarkAllView;
            /// Takes a mark-all back; false when it is too late.
            fn undo(token: ::std::string::String) -> bool;
            // ---- snooze, search, gaps, quiet ----
            /// Snoozes an unread item until then: it leaves the list and comes back unread, with a
            /// fresh toast. False when it was read already.
            fn snooze(
                id: ::std::string::String,
                until: ::chrono::DateTime<::chrono::Utc>,
            ) -> bool;
            /// Brings a snoozed item back now.
            fn unsnooze(id: ::std::string::String) -> bool;
            /// The "Snoozed" view: what waits, soonest first.
            fn snoozed() -> ::std::vec::Vec<$crate::views::SnoozedView>;
            /// The snooze menu's times, where the agent is.
            fn snooze_times() -> ::lonceng_client::toast::SnoozeTimes;
            /// Searches the history, within the scope or everywhere (null), newest first.
            fn search(
                text: ::std::string::String,
                scope: ::core::option::Option<::lonceng_client::store::Scope>,
                unread_only: bool,
            ) -> $crate::views::SearchView;
            /// Tabs that may have lost items while the agent was away (NC-R5), until dismissed.
            fn gaps() -> ::std::vec::Vec<::lonceng_domain::model::Tab>;
            /// Dismisses a tab's gap marker.
            fn dismiss_gap(tab: ::lonceng_domain::model::Tab) -> ();
            /// Whether toasts are held now (quiet hours, a pause), and until when.
            fn quiet() -> ::core::option::Option<::lonceng_client::toast::QuietState>;
            /// Ends a pause, or the quiet hours running now.
            fn resume() -> ();
            // ---- settings, updates, Diagnose ----
            /// The settings as the window shows them (secrets only as "kept where").
            fn settings() -> $crate::settings::SettingsView;
            /// Saves a change; secrets go to the keyring.
            fn save_settings(changes: $crate::settings::SettingsChanges) -> $crate::settings::SettingsView;
            /// Settings → Diagnose: `lonceng doctor`'s report, in the agent's language.
            fn diagnose() -> ::lonceng_client::doctor::Report;
            /// A signed update found at the organisation's manifest, if any.
            fn update_offer() -> ::core::option::Option<$crate::views::UpdateOffer>;
            /// The agent's consent: installs the offered update (the app restarts into it).
            fn install_update() -> ();
            // ---- the window itself ----
            /// Keeps the window open when it loses focus.
            fn set_pinned(on: bool) -> ();
            /// The list is on screen; on the first load, how long the page itself took (ms).
            fn painted(page_ms: ::core::option::Option<u64>) -> ();
        }
    };
}

/// What only the shell can do for a command: the window is its, and so is the updater.
pub trait Shell: Send + Sync + 'static {
    fn set_pinned(&self, on: bool);
    /// The window painted its list (the shell measures the time from the tray click).
    fn painted(&self, page_ms: Option<u64>);
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

    pub async fn page(
        &self,
        scope: Scope,
        unread_only: bool,
        after: Option<PageCursor>,
        limit: usize,
    ) -> Result<PageView, AppError> {
        self.app.page(scope, unread_only, after, limit)
    }

    pub async fn counts(&self) -> Result<CountsView, AppError> {
        self.app.counts()
    }

    pub async fn status(&self) -> Result<SyncStatus, AppError> {
        Ok(self.app.status())
    }

    pub async fn why(&self, id: String) -> Result<Option<Reason>, AppError> {
        Ok(self.app.why(&id))
    }

    pub async fn quarantine(&self) -> Result<QuarantineView, AppError> {
        self.app.quarantine()
    }

    pub async fn mark_read(&self, id: String) -> Result<(), AppError> {
        self.app.mark_read(&id)
    }

    pub async fn open_item(&self, id: String) -> Result<(), AppError> {
        self.app.open_item(&id)
    }

    pub async fn mark_all_read(&self, scope: Scope) -> Result<MarkAllView, AppError> {
        self.app.mark_all_read(scope)
    }

    pub async fn undo(&self, token: String) -> Result<bool, AppError> {
        self.app.undo(&token)
    }

    pub async fn snooze(&self, id: String, until: DateTime<Utc>) -> Result<bool, AppError> {
        self.app.snooze(&id, until)
    }

    pub async fn unsnooze(&self, id: String) -> Result<bool, AppError> {
        self.app.unsnooze(&id)
    }

    pub async fn snoozed(&self) -> Result<Vec<SnoozedView>, AppError> {
        self.app.snoozed()
    }

    pub async fn snooze_times(&self) -> Result<SnoozeTimes, AppError> {
        self.app.snooze_times()
    }

    pub async fn search(
        &self,
        text: String,
        scope: Option<Scope>,
        unread_only: bool,
    ) -> Result<SearchView, AppError> {
        self.app.search(&text, scope, unread_only)
    }

    pub async fn gaps(&self) -> Result<Vec<Tab>, AppError> {
        self.app.gaps()
    }

    pub async fn dismiss_gap(&self, tab: Tab) -> Result<(), AppError> {
        self.app.dismiss_gap(tab)
    }

    pub async fn quiet(&self) -> Result<Option<QuietState>, AppError> {
        Ok(self.app.quiet())
    }

    pub async fn resume(&self) -> Result<(), AppError> {
        self.app.resume().await
    }

    pub async fn settings(&self) -> Result<SettingsView, AppError> {
        Ok(self.app.settings())
    }

    /// A new update address is looked at at once.
    pub async fn save_settings(&self, changes: SettingsChanges) -> Result<SettingsView, AppError> {
        let new_update_url = changes.update_url.is_some();
        let view = self.app.save_settings(changes).await?;
        if new_update_url {
            self.shell.update_url_changed();
        }
        Ok(view)
    }

    pub async fn diagnose(&self) -> Result<Report, AppError> {
        Ok(self.app.diagnose().await)
    }

    pub async fn update_offer(&self) -> Result<Option<UpdateOffer>, AppError> {
        Ok(self.app.update_offer())
    }

    /// Only what is on offer is installed: the agent consented to that version.
    pub async fn install_update(&self) -> Result<(), AppError> {
        if self.app.update_offer().is_none() {
            return Err(AppError::Invalid("no update is on offer".into()));
        }
        self.shell.install_update().await
    }

    pub async fn set_pinned(&self, on: bool) -> Result<(), AppError> {
        self.shell.set_pinned(on);
        Ok(())
    }

    pub async fn painted(&self, page_ms: Option<u64>) -> Result<(), AppError> {
        self.shell.painted(page_ms);
        Ok(())
    }
}
