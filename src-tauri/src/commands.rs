//! The window's commands over IPC, made from the one list (`lonceng_desktop::commands!`): each
//! handler is one call into `lonceng_desktop::commands::Commands`. Errors cross as the one
//! serialisable `AppError`. What is the shell's own (the window's pin, its paint timing, the
//! updater) is [`TauriShell`].

use std::sync::atomic::Ordering;

use lonceng_client::sync::BoxFut;
use lonceng_desktop::commands::{Commands, Shell};
use lonceng_desktop::error::AppError;
use lonceng_desktop::views::PageTiming;
use tauri::{AppHandle, Manager};

use crate::window::{Pinned, Shown};

/// One `#[tauri::command]` per entry of the list, and the handler that routes to them.
macro_rules! ipc {
    ($(
        $(#[doc = $doc:literal])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty = |$_a:pat_param, $_s:pat_param| $_call:expr;
    )*) => {
        $(
            $(#[doc = $doc])*
            #[tauri::command]
            pub async fn $name(
                commands: tauri::State<'_, Commands>,
                $($arg: $ty),*
            ) -> Result<$ret, AppError> {
                commands.$name($($arg),*).await
            }
        )*

        /// Routes each IPC call to its command.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }
    };
}

lonceng_desktop::commands!(ipc);

/// The shell's side of the commands.
pub struct TauriShell(pub AppHandle);

impl Shell for TauriShell {
    fn set_pinned(&self, on: bool) {
        self.0.state::<Pinned>().0.store(on, Ordering::SeqCst);
    }

    /// How long the paint took since the window was asked for, and how much of it the page itself
    /// took (from the start of its load: its script running, its data in hand, its list laid out).
    fn painted(&self, page: Option<PageTiming>) {
        let (script_ms, data_ms, page_ms) =
            (page.map(|p| p.script_ms), page.map(|p| p.data_ms), page.map(|p| p.page_ms));
        match self.0.state::<Shown>().0.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(at) => {
                tracing::info!(
                    ms = at.elapsed().as_millis() as u64,
                    page_ms,
                    script_ms,
                    data_ms,
                    "bell window painted"
                )
            }
            // Readied hidden after a toast: nobody is waiting yet.
            None => tracing::info!(page_ms, script_ms, data_ms, "bell window readied"),
        }
    }

    fn install_update(&self) -> BoxFut<'_, Result<(), AppError>> {
        Box::pin(crate::update::install(&self.0))
    }

    fn update_url_changed(&self) {
        let handle = self.0.clone();
        tauri::async_runtime::spawn(async move { crate::update::refresh(&handle).await });
    }
}
