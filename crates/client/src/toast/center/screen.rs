//! The toasts on screen: one per object, shown in place of the one before it; at most
//! [`MAX_OPEN`] of them, the oldest folded into one "more are waiting" summary; and withdrawn when
//! what they show is read anywhere or expires (NC-R13). Apart from the arrivals so that how toasts
//! are kept does not depend on what they say.

use super::{ToastCenter, MAX_OPEN};
use crate::toast::ports::{shorten, Toast, Urgency, MAX_BODY, MAX_TITLE};

/// The summary the oldest toasts fold into.
const MORE: &str = "summary:more";

/// One toast on screen and what it stands for.
#[derive(Debug, Clone)]
pub(super) struct Active {
    pub(super) handle: u32,
    /// Notifications shown in this toast (empty for chat messages and most summaries).
    pub(super) ids: Vec<String>,
    pub(super) url: String,
    /// Messages coalesced into a chat toast; the notifications folded into the "more" summary.
    pub(super) messages: i64,
    /// Who and where, for a chat toast ("Adrian on WhatsApp"): what a mute from it is called.
    pub(super) label: Option<String>,
    /// When it was first shown (a counter): the oldest fold first.
    order: u64,
}

impl Active {
    fn new(handle: u32, url: &str, order: u64) -> Active {
        Active { handle, ids: vec![], url: url.to_owned(), messages: 0, label: None, order }
    }
}

impl ToastCenter {
    /// Shows `toast` for `key`, in place of the toast the key has (title and body shortened to
    /// what a toast holds); returns the handle.
    pub(super) async fn show(&self, key: &str, mut toast: Toast) -> Option<u32> {
        toast.title = shorten(&toast.title, MAX_TITLE);
        toast.body = shorten(&toast.body, MAX_BODY);
        let existing = self.state().by_object.get(key).map(|a| a.handle);
        match self.notifier.show(toast, existing).await {
            Ok(handle) => {
                self.state().by_handle.insert(handle, key.to_owned());
                Some(handle)
            }
            Err(e) => {
                tracing::warn!(error = %e, key, "toast not shown");
                None
            }
        }
    }

    /// Records a shown toast for `key`, new or updated in place; `f` fills in what it stands for.
    pub(super) fn record(&self, key: &str, handle: u32, url: &str, f: impl FnOnce(&mut Active)) {
        let mut st = self.state();
        let order = st.next_order;
        st.next_order += 1;
        let active = st.by_object.entry(key.to_owned()).or_insert_with(|| Active::new(handle, url, order));
        active.handle = handle;
        f(active);
    }

    /// Keeps at most [`MAX_OPEN`] toasts on screen: the oldest fold into the "more" summary.
    pub(super) async fn trim(&self) {
        let folded: Vec<Active> = {
            let mut st = self.state();
            let mut open: Vec<(u64, String)> = st
                .by_object
                .iter()
                .filter(|(k, _)| !k.starts_with("summary:"))
                .map(|(k, a)| (a.order, k.clone()))
                .collect();
            if open.len() <= MAX_OPEN {
                return;
            }
            open.sort();
            let excess = open.len() - MAX_OPEN;
            let mut folded = Vec::new();
            for (_, key) in open.into_iter().take(excess) {
                if let Some(a) = st.by_object.remove(&key) {
                    st.by_handle.remove(&a.handle);
                    folded.push(a);
                }
            }
            folded
        };
        for a in &folded {
            if let Err(e) = self.notifier.close(a.handle).await {
                tracing::warn!(error = %e, "toast not folded away");
            }
        }
        let (mut ids, mut count) =
            self.state().by_object.get(MORE).map_or((vec![], 0), |m| (m.ids.clone(), m.messages));
        for a in folded {
            count += if a.ids.is_empty() { a.messages.max(1) } else { a.ids.len() as i64 };
            ids.extend(a.ids);
        }
        let lang = self.settings().lang;
        let body = self.catalog.message(lang, "more-summary", &[("count", count.into())]);
        if let Some(handle) = self.show(MORE, self.summary_toast(body)).await {
            self.record(MORE, handle, "", |a| {
                a.ids = ids;
                a.messages = count;
            });
        }
    }

    /// NC-R13: toasts of items read anywhere (or expired) are withdrawn.
    pub(super) async fn withdraw(&self, ids: &[String]) {
        let mut to_close = Vec::new();
        {
            let mut st = self.state();
            let mut emptied = Vec::new();
            for (key, active) in st.by_object.iter_mut() {
                let before = active.ids.len();
                active.ids.retain(|id| !ids.contains(id));
                if before > 0 && active.ids.is_empty() {
                    emptied.push((key.clone(), active.handle));
                }
            }
            for (key, handle) in emptied {
                st.by_object.remove(&key);
                st.by_handle.remove(&handle);
                to_close.push(handle);
            }
        }
        for handle in to_close {
            if let Err(e) = self.notifier.close(handle).await {
                tracing::warn!(error = %e, "toast not withdrawn");
            }
        }
    }

    /// A summary's toast: the app's name, quiet, no "mark read" (it stands for no single item).
    pub(super) fn summary_toast(&self, body: String) -> Toast {
        let lang = self.settings().lang;
        Toast {
            title: self.catalog.message(lang, "app-name", &[]),
            body,
            urgency: Urgency::Low,
            action_label: self.catalog.message(lang, "tray-open", &[]),
            mark_read_label: None,
            mute_label: None,
            sound: false,
        }
    }

    /// The notifications that have a toast on screen now.
    pub fn toasted_ids(&self) -> Vec<String> {
        self.state().by_object.values().flat_map(|a| a.ids.iter().cloned()).collect()
    }

    /// Open toasts, for tests and diagnostics.
    pub fn active(&self) -> usize {
        self.state().by_object.len()
    }
}
