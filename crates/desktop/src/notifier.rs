//! Toasts through the freedesktop notification service, with notify-rust.
//!
//! Each toast keeps its notify-rust handle and a task waiting for its actions; a click (or a
//! button) sends an [`Activation`] down the channel given at construction. Replacing a toast (same
//! id) or closing it ends the previous task, so one click is one click.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lonceng_core::sync::BoxFut;
use lonceng_core::toast::{Activation, Notifier, NotifyError, Toast, ToastAction, Urgency};
use notify_rust::{Notification, NotificationHandle, NotificationResponse, Timeout};
use tokio::sync::mpsc;

struct Shown {
    handle: Arc<NotificationHandle>,
    waiter: tokio::task::JoinHandle<()>,
}

pub struct DbusNotifier {
    app_name: String,
    icon: String,
    clicks: mpsc::UnboundedSender<Activation>,
    shown: Mutex<HashMap<u32, Shown>>,
    /// Whether the server renders markup in bodies: then text must be escaped to stay text.
    markup: tokio::sync::OnceCell<bool>,
}

/// Escapes the characters the notification markup subset gives meaning to.
pub fn escape_markup(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

impl DbusNotifier {
    /// `icon`: an icon name or an absolute path to the app icon.
    pub fn new(app_name: &str, icon: &str, clicks: mpsc::UnboundedSender<Activation>) -> DbusNotifier {
        DbusNotifier {
            app_name: app_name.to_owned(),
            icon: icon.to_owned(),
            clicks,
            shown: Mutex::new(HashMap::new()),
            markup: tokio::sync::OnceCell::new(),
        }
    }

    async fn markup(&self) -> bool {
        *self
            .markup
            .get_or_init(|| async {
                // Ask once; the answer does not change while the server runs.
                tokio::task::spawn_blocking(notify_rust::get_capabilities)
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .is_some_and(|caps| caps.iter().any(|c| c == "body-markup"))
            })
            .await
    }

    fn forget(&self, id: u32) -> Option<Shown> {
        let shown = self.shown.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        if let Some(s) = &shown {
            s.waiter.abort();
        }
        shown
    }
}

impl Notifier for DbusNotifier {
    fn show(&self, toast: Toast, replaces: Option<u32>) -> BoxFut<'_, Result<u32, NotifyError>> {
        Box::pin(async move {
            let body = if self.markup().await { escape_markup(&toast.body) } else { toast.body.clone() };
            let mut n = Notification::new();
            n.appname(&self.app_name)
                .summary(&toast.title)
                .body(&body)
                .icon(&self.icon)
                .action("default", &toast.action_label)
                .timeout(Timeout::Default)
                .urgency(match toast.urgency {
                    Urgency::Low => notify_rust::Urgency::Low,
                    Urgency::Normal => notify_rust::Urgency::Normal,
                    Urgency::Critical => notify_rust::Urgency::Critical,
                });
            if let Some(id) = replaces {
                n.id(id);
                self.forget(id);
            }
            let handle = Arc::new(n.show_async().await.map_err(|e| NotifyError(e.to_string()))?);
            let id = handle.id();
            let (waiting, clicks) = (handle.clone(), self.clicks.clone());
            let waiter = tokio::spawn(async move {
                waiting
                    .wait_for_action_async(|response| {
                        let action = match response {
                            NotificationResponse::Default => Some(ToastAction::Open),
                            NotificationResponse::Action(key) => ToastAction::from_key(key),
                            _ => None,
                        };
                        if let Some(action) = action {
                            let _ = clicks.send(Activation { handle: id, action });
                        }
                    })
                    .await;
            });
            self.shown.lock().unwrap_or_else(|p| p.into_inner()).insert(id, Shown { handle, waiter });
            Ok(id)
        })
    }

    fn close(&self, handle: u32) -> BoxFut<'_, Result<(), NotifyError>> {
        Box::pin(async move {
            if let Some(shown) = self.forget(handle) {
                shown.handle.close_async().await;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(
            escape_markup("<b>Budi</b> & <a href='x'>"),
            "&lt;b&gt;Budi&lt;/b&gt; &amp; &lt;a href='x'&gt;"
        );
    }
}
