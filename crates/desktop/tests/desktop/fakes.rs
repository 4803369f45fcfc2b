//! Platform parts that stand still, for the topics that run the runtime headless: an agent away
//! from the web chat, and toasts that are taken and shown nowhere.

use lonceng_client::sync::BoxFut;
use lonceng_client::toast::{ChatWindowMatch, Focus, FocusProbe, Notifier, NotifyError, Toast};
use lonceng_desktop::focus::ChatFocus;

/// Toasts taken, shown nowhere (a replaced one keeps its handle).
pub struct NoToasts;
impl Notifier for NoToasts {
    fn show(&self, _: Toast, replaces: Option<u32>) -> BoxFut<'_, Result<u32, NotifyError>> {
        Box::pin(async move { Ok(replaces.unwrap_or(1)) })
    }
    fn close(&self, _: u32) -> BoxFut<'_, Result<(), NotifyError>> {
        Box::pin(async { Ok(()) })
    }
}

/// The agent is away from the web chat.
pub struct Away;
impl FocusProbe for Away {
    fn focus(&self) -> Focus {
        Focus::ChatNotFocused
    }
}
impl ChatFocus for Away {
    fn set_matcher(&self, _: ChatWindowMatch) {}
}
