//! Toasts through WinRT (`Windows.UI.Notifications`), shown under the app's [`AUMID`].
//!
//! Each toast carries its handle as its tag in Lonceng's group: showing another toast with the same
//! tag replaces it in place (a chat coalesced per room), and a toast whose item was read anywhere is
//! removed from the screen and from the Action Center by tag and group (NC-R13). A click on the toast
//! is "open" and its button "mark-read", routed like on Linux (NC-R7). Clicks in the Action Center
//! after Lonceng has quit would need a COM activator: the bell list is the way in then.
//!
//! [`AUMID`]: super::AUMID

use std::sync::atomic::{AtomicU32, Ordering};

use lonceng_client::sync::BoxFut;
use lonceng_client::toast::{Activation, Notifier, NotifyError, Toast, ToastAction, Urgency};
use tokio::sync::mpsc::UnboundedSender;
use windows::core::{IInspectable, Interface, HSTRING};
use windows::Data::Xml::Dom::XmlDocument;
use windows::Foundation::TypedEventHandler;
use windows::UI::Notifications::{ToastActivatedEventArgs, ToastNotification, ToastNotificationManager};

/// All of Lonceng's toasts are in one group; the tag tells them apart.
const GROUP: &str = "lonceng";

/// Text for the toast's XML: the five XML characters escaped, and characters XML 1.0 cannot carry
/// at all dropped (the toast would be refused whole otherwise). Notification text is data: it can
/// never become markup here.
pub fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The toast's XML document (the ToastGeneric template): title, body, an "Open" button, and a
/// "Mark as read" button for toasts that stand for items of the list; silent when asked. The click
/// on the toast launches "open".
pub fn toast_xml(toast: &Toast) -> String {
    let scenario = match toast.urgency {
        // Stays on screen until the agent acts.
        Urgency::Critical => r#" scenario="urgent""#,
        Urgency::Low | Urgency::Normal => "",
    };
    // "Open" (or "Open conversation") as a button beside the click on the toast itself.
    let open = format!(
        r#"<action content="{}" arguments="open" activationType="foreground"/>"#,
        xml_text(&toast.action_label)
    );
    let mark_read = toast.mark_read_label.as_deref().map_or(String::new(), |label| {
        format!(
            r#"<action content="{}" arguments="mark-read" activationType="foreground"/>"#,
            xml_text(label)
        )
    });
    let mute = toast.mute_label.as_deref().map_or(String::new(), |label| {
        format!(r#"<action content="{}" arguments="mute" activationType="foreground"/>"#, xml_text(label))
    });
    // Windows' own notification sound, unless the agent turned it off (or quiet hours hold it).
    let audio = if toast.sound { "" } else { r#"<audio silent="true"/>"# };
    format!(
        r#"<toast launch="open" activationType="foreground"{scenario}><visual><binding template="ToastGeneric"><text hint-maxLines="2">{}</text><text>{}</text></binding></visual><actions>{open}{mark_read}{mute}</actions>{audio}</toast>"#,
        xml_text(&toast.title),
        xml_text(&toast.body),
    )
}

pub struct WinRtNotifier {
    aumid: HSTRING,
    activations: UnboundedSender<Activation>,
    next: AtomicU32,
}

impl WinRtNotifier {
    /// Toasts a previous run left in the Action Center are cleared: their clicks could reach no one,
    /// and their tags would be taken for this run's.
    pub fn new(aumid: &str, activations: UnboundedSender<Activation>) -> WinRtNotifier {
        let aumid = HSTRING::from(aumid);
        if let Err(e) = ToastNotificationManager::History().and_then(|h| h.ClearWithId(&aumid)) {
            tracing::debug!(error = %e, "no toast history to clear");
        }
        WinRtNotifier { aumid, activations, next: AtomicU32::new(1) }
    }

    fn show_now(&self, toast: &Toast, handle: u32) -> windows::core::Result<()> {
        let doc = XmlDocument::new()?;
        doc.LoadXml(&HSTRING::from(toast_xml(toast)))?;
        let notification = ToastNotification::CreateToastNotification(&doc)?;
        notification.SetTag(&HSTRING::from(handle.to_string()))?;
        notification.SetGroup(&HSTRING::from(GROUP))?;
        let activations = self.activations.clone();
        notification.Activated(&TypedEventHandler::<ToastNotification, IInspectable>::new(
            move |_, args| {
                let key = args
                    .as_ref()
                    .and_then(|a| a.cast::<ToastActivatedEventArgs>().ok())
                    .and_then(|a| a.Arguments().ok())
                    .map(|a| a.to_string_lossy())
                    .unwrap_or_default();
                if let Some(action) = ToastAction::from_key(&key) {
                    let _ = activations.send(Activation { handle, action });
                }
                Ok(())
            },
        ))?;
        ToastNotificationManager::CreateToastNotifierWithId(&self.aumid)?.Show(&notification)
    }

    fn withdraw(&self, handle: u32) -> windows::core::Result<()> {
        ToastNotificationManager::History()?.RemoveGroupedTagWithId(
            &HSTRING::from(handle.to_string()),
            &HSTRING::from(GROUP),
            &self.aumid,
        )
    }
}

impl Notifier for WinRtNotifier {
    fn show(&self, toast: Toast, replaces: Option<u32>) -> BoxFut<'_, Result<u32, NotifyError>> {
        Box::pin(async move {
            let handle = replaces.unwrap_or_else(|| self.next.fetch_add(1, Ordering::Relaxed));
            self.show_now(&toast, handle).map_err(|e| NotifyError(format!("Windows toasts: {e}")))?;
            Ok(handle)
        })
    }

    fn close(&self, handle: u32) -> BoxFut<'_, Result<(), NotifyError>> {
        Box::pin(
            async move { self.withdraw(handle).map_err(|e| NotifyError(format!("Windows toasts: {e}"))) },
        )
    }
}
