//! Toasts through the freedesktop notification service, over one D-Bus connection for all of them.
//!
//! One connection, opened on the first toast and opened again if the bus drops it, carries every
//! `Notify` and `CloseNotification`, and one listener reads the server's `ActionInvoked` and
//! `NotificationClosed` signals for all toasts (a connection per toast, as notify-rust keeps, held
//! 523 sockets open with 500 toasts up and ran into dbus-daemon's per-user limit). Signals are taken
//! only from the owner of `org.freedesktop.Notifications`, and only for toasts of ours: a click on
//! another program's notification is not Lonceng's.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use lonceng_client::sync::BoxFut;
use lonceng_client::toast::{Activation, Notifier, NotifyError, Toast, ToastAction, Urgency};
use tokio::sync::mpsc;
use zbus::Variant as Value;

#[zbus::proxy(
    interface = "org.freedesktop.Notifications",
    default_service = "org.freedesktop.Notifications",
    default_path = "/org/freedesktop/Notifications"
)]
trait Notifications {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: &str,
        replaces_id: u32,
        app_icon: &str,
        summary: &str,
        body: &str,
        actions: &[&str],
        hints: HashMap<&str, Value<'_>>,
        expire_timeout: i32,
    ) -> zbus::Result<u32>;

    fn close_notification(&self, id: u32) -> zbus::Result<()>;

    fn get_capabilities(&self) -> zbus::Result<Vec<String>>;

    #[zbus(signal)]
    fn action_invoked(&self, id: u32, action_key: String) -> zbus::Result<()>;

    #[zbus(signal)]
    fn notification_closed(&self, id: u32, reason: u32) -> zbus::Result<()>;
}

/// What the notification server can do, asked once per connection.
#[derive(Debug, Clone, Copy, Default)]
struct Capabilities {
    /// It renders markup in bodies: text must be escaped to stay text.
    markup: bool,
    /// It shows buttons.
    actions: bool,
}

struct Connected {
    proxy: NotificationsProxy<'static>,
    caps: Capabilities,
    listener: tokio::task::JoinHandle<()>,
}

pub struct DbusNotifier {
    app_name: String,
    icon: String,
    activations: mpsc::UnboundedSender<Activation>,
    /// Toasts of ours still on screen.
    ours: Arc<Mutex<HashSet<u32>>>,
    connected: tokio::sync::Mutex<Option<Connected>>,
}

/// Escapes the characters the notification markup subset gives meaning to.
pub fn escape_markup(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

impl DbusNotifier {
    /// `icon`: an icon name or an absolute path to the app icon.
    pub fn new(app_name: &str, icon: &str, activations: mpsc::UnboundedSender<Activation>) -> DbusNotifier {
        DbusNotifier {
            app_name: app_name.to_owned(),
            icon: icon.to_owned(),
            activations,
            ours: Arc::default(),
            connected: tokio::sync::Mutex::new(None),
        }
    }

    /// The one connection (opened on first use, and again after the bus dropped it).
    async fn connection(&self) -> Result<(NotificationsProxy<'static>, Capabilities), NotifyError> {
        let mut slot = self.connected.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| !c.listener.is_finished()) {
            return Ok((c.proxy.clone(), c.caps));
        }
        let bus = zbus::Connection::session().await.map_err(|e| NotifyError(e.to_string()))?;
        let proxy = NotificationsProxy::new(&bus).await.map_err(|e| NotifyError(e.to_string()))?;
        let caps = proxy.get_capabilities().await.unwrap_or_default();
        let caps = Capabilities {
            markup: caps.iter().any(|c| c == "body-markup"),
            actions: caps.iter().any(|c| c == "actions"),
        };
        let listener = tokio::spawn(listen(proxy.clone(), self.ours.clone(), self.activations.clone()));
        *slot = Some(Connected { proxy: proxy.clone(), caps, listener });
        Ok((proxy, caps))
    }
}

/// Reads the server's signals for as long as the connection lives.
async fn listen(
    proxy: NotificationsProxy<'static>,
    ours: Arc<Mutex<HashSet<u32>>>,
    activations: mpsc::UnboundedSender<Activation>,
) {
    let (Ok(mut invoked), Ok(mut closed)) =
        (proxy.receive_action_invoked().await, proxy.receive_notification_closed().await)
    else {
        return;
    };
    let ours_now = |id: u32| ours.lock().unwrap_or_else(|p| p.into_inner()).contains(&id);
    loop {
        tokio::select! {
            signal = invoked.next() => {
                let Some(signal) = signal else { return };
                let Ok(args) = signal.args() else { continue };
                let action = ToastAction::from_key(&args.action_key);
                if let (Some(action), true) = (action, ours_now(args.id)) {
                    let _ = activations.send(Activation { handle: args.id, action });
                }
            }
            signal = closed.next() => {
                let Some(signal) = signal else { return };
                if let Ok(args) = signal.args() {
                    ours.lock().unwrap_or_else(|p| p.into_inner()).remove(&args.id);
                }
            }
        }
    }
}

impl Notifier for DbusNotifier {
    fn show(&self, toast: Toast, replaces: Option<u32>) -> BoxFut<'_, Result<u32, NotifyError>> {
        Box::pin(async move {
            let (proxy, caps) = self.connection().await?;
            let body = if caps.markup { escape_markup(&toast.body) } else { toast.body.clone() };
            // The click on the toast ("default"), and where the server draws buttons, "Open" and
            // "Mark as read" as buttons too (a click on the body is not obvious on every desktop).
            let mut actions = vec!["default", toast.action_label.as_str()];
            if caps.actions {
                actions.extend(["open", toast.action_label.as_str()]);
                if let Some(label) = toast.mark_read_label.as_deref() {
                    actions.extend(["mark-read", label]);
                }
                if let Some(label) = toast.mute_label.as_deref() {
                    actions.extend(["mute", label]);
                }
            }
            let urgency: u8 = match toast.urgency {
                Urgency::Low => 0,
                Urgency::Normal => 1,
                Urgency::Critical => 2,
            };
            // The theme's message sound, or silence (the agent's choice, quiet hours).
            let sound = if toast.sound {
                ("sound-name", Value::from("message-new-instant"))
            } else {
                ("suppress-sound", Value::from(true))
            };
            let hints = HashMap::from([("urgency", Value::from(urgency)), sound]);
            let id = proxy
                .notify(
                    &self.app_name,
                    replaces.unwrap_or(0),
                    &self.icon,
                    &toast.title,
                    &body,
                    &actions,
                    hints,
                    -1,
                )
                .await
                .map_err(|e| NotifyError(e.to_string()))?;
            let mut ours = self.ours.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(old) = replaces.filter(|old| *old != id) {
                ours.remove(&old);
            }
            ours.insert(id);
            Ok(id)
        })
    }

    fn close(&self, handle: u32) -> BoxFut<'_, Result<(), NotifyError>> {
        Box::pin(async move {
            self.ours.lock().unwrap_or_else(|p| p.into_inner()).remove(&handle);
            let (proxy, _) = self.connection().await?;
            proxy.close_notification(handle).await.map_err(|e| NotifyError(e.to_string()))
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
