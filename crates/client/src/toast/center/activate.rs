//! The agent acted on a toast (clicked it, or pressed "mark read"): the toast leaves the screen and
//! what it stood for goes to the app. The center holds no store, so it only says which toast it
//! was; the app's one path for actions opens the page and marks the items read (NC-R7).

use super::ToastCenter;
use crate::toast::ports::{Activation, ToastAction};

/// A toast the agent acted on, for the app to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activated {
    pub action: ToastAction,
    /// The page of the toast (empty for a summary).
    pub url: String,
    /// The notifications it showed (empty for chat messages and summaries).
    pub ids: Vec<String>,
    /// The conversation of a chat toast: its id, and who and where ("Adrian on WhatsApp").
    pub conversation: Option<(String, String)>,
}

/// Called when the agent acts on a toast.
pub type OnActivated = Box<dyn Fn(Activated) + Send + Sync>;

impl ToastCenter {
    /// The agent acted on a toast: it goes from the screen (a server keeps a toast whose button
    /// was pressed), and what it stood for is handed to the app. Returns whether the handle was a
    /// toast of this center (a second click on a gone toast is not).
    pub async fn activate(&self, a: Activation) -> bool {
        let (key, active) = {
            let mut st = self.state();
            let Some(key) = st.by_handle.remove(&a.handle) else { return false };
            let active = st.by_object.remove(&key);
            (key, active)
        };
        let Some(active) = active else { return false };
        let conversation =
            key.strip_prefix("chat:").map(|id| (id.to_owned(), active.label.clone().unwrap_or_default()));
        if let Err(e) = self.notifier.close(a.handle).await {
            tracing::debug!(error = %e, "an acted-on toast was gone already");
        }
        (self.on_activated)(Activated { action: a.action, url: active.url, ids: active.ids, conversation });
        true
    }
}
