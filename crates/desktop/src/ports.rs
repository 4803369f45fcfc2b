//! The platform parts the runtime is built with, each behind a trait: the clock, the browser, the
//! notifier, the focus probe and the token store. [`Ports::platform`] gives this platform's own;
//! tests inject recording ones, so the whole runtime runs headless.

use std::path::Path;
use std::sync::Arc;

use lonceng_client::toast::{Activation, ChatWindowMatch, Notifier};
use lonceng_domain::clock::{Clock, SystemClock};
use lonceng_domain::link::Opener;
use tokio::sync::mpsc::UnboundedSender;

use crate::focus::ChatFocus;
use crate::keyring::{Secrets, TokenVault};
use crate::opener::SystemOpener;

/// Builds the notifier, given the channel its activations (clicks, buttons) go to.
pub type NotifierFactory = Box<dyn FnOnce(UnboundedSender<Activation>) -> Arc<dyn Notifier> + Send>;

/// The platform parts the runtime is built with: the platform's own ([`Ports::platform`]), or
/// recording ones in tests.
pub struct Ports {
    pub clock: Arc<dyn Clock>,
    pub opener: Arc<dyn Opener>,
    pub notifier: NotifierFactory,
    pub focus: Arc<dyn ChatFocus>,
    pub secrets: Arc<dyn Secrets>,
}

impl Ports {
    /// The wall clock, the browser, toasts over D-Bus, the focused window from X11, and the token
    /// in the Secret Service (or a private file in `data_dir`).
    #[cfg(unix)]
    pub fn platform(data_dir: &Path) -> Ports {
        Ports {
            clock: Arc::new(SystemClock),
            opener: Arc::new(SystemOpener),
            notifier: Box::new(|activations| {
                Arc::new(crate::notifier::DbusNotifier::new("Lonceng", "lonceng", activations))
            }),
            focus: Arc::new(crate::focus::DesktopFocus::new(None, ChatWindowMatch::default())),
            secrets: Arc::new(TokenVault::new(data_dir.to_path_buf())),
        }
    }

    /// The wall clock, the browser, WinRT toasts under the app's id, the foreground window and the
    /// session's lock from Win32, and the token in the Credential Manager.
    #[cfg(windows)]
    pub fn platform(data_dir: &Path) -> Ports {
        crate::win::claim_app_id();
        Ports {
            clock: Arc::new(SystemClock),
            opener: Arc::new(SystemOpener),
            notifier: Box::new(|activations| {
                Arc::new(crate::win::toasts::WinRtNotifier::new(crate::win::AUMID, activations))
            }),
            focus: Arc::new(crate::win::focus::WindowsFocus::new(ChatWindowMatch::default())),
            secrets: Arc::new(TokenVault::new(data_dir.to_path_buf())),
        }
    }
}
