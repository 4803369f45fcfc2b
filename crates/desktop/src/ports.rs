//! The platform parts the runtime is built with, each behind a trait: the clock, the browser, the
//! notifier, the focus probe and the token store. [`Ports::platform`] gives this platform's own;
//! tests inject recording ones, so the whole runtime runs headless.

use std::path::Path;
use std::sync::Arc;

use lonceng_client::toast::{Activation, Notifier};
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
    /// The wall clock, the browser, and this platform's toasts, focus probe and keyring (with a
    /// private file in `data_dir` where no keyring runs): `crate::platform`.
    pub fn platform(data_dir: &Path) -> Ports {
        crate::platform::claim_identity();
        Ports {
            clock: Arc::new(SystemClock),
            opener: Arc::new(SystemOpener),
            notifier: Box::new(crate::platform::notifier),
            focus: crate::platform::focus(),
            secrets: Arc::new(TokenVault::new(data_dir.to_path_buf())),
        }
    }
}
