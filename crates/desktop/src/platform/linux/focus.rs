//! Is the agent in the Qontak chat right now? The focused window on X11 (its title and class, matched
//! against [`ChatWindowMatch`]), and whether the screen is locked (freedesktop or GNOME ScreenSaver,
//! else logind's `LockedHint`). On Wayland the focused window is not visible to applications, so the
//! answer is [`Focus::Unknown`] and the web chat's presence report decides (NC-R12).
//!
//! `focus()` blocks (a round trip to the X server, a D-Bus call with a short timeout); the toast
//! center calls it from a blocking thread.

use std::sync::Mutex;
use std::time::Duration;

use lonceng_client::toast::{ChatWindowMatch, Focus, FocusProbe};
use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{Atom, AtomEnum, ConnectionExt as _, Window};
use x11rb::rust_connection::RustConnection;

use crate::focus::ChatFocus;

/// How long a screen-lock query may take before it counts as "cannot tell".
const LOCK_TIMEOUT: Duration = Duration::from_millis(250);

struct X11 {
    conn: RustConnection,
    root: Window,
    active: Atom,
    net_wm_name: Atom,
    utf8: Atom,
    wm_state: Atom,
    hidden: Atom,
}

impl X11 {
    fn connect(display: Option<&str>) -> Option<X11> {
        let (conn, screen) = x11rb::connect(display).ok()?;
        let root = conn.setup().roots.get(screen)?.root;
        let atom = |name: &str| -> Option<Atom> {
            Some(conn.intern_atom(false, name.as_bytes()).ok()?.reply().ok()?.atom)
        };
        Some(X11 {
            root,
            active: atom("_NET_ACTIVE_WINDOW")?,
            net_wm_name: atom("_NET_WM_NAME")?,
            utf8: atom("UTF8_STRING")?,
            wm_state: atom("_NET_WM_STATE")?,
            hidden: atom("_NET_WM_STATE_HIDDEN")?,
            conn,
        })
    }

    fn property(&self, window: Window, prop: impl Into<Atom>, ty: impl Into<Atom>) -> Option<Vec<u8>> {
        let reply = self.conn.get_property(false, window, prop, ty, 0, 4096).ok()?.reply().ok()?;
        Some(reply.value)
    }

    /// The active window's title and class, unless none is active or it is minimised.
    fn active_window(&self) -> Result<Option<(String, String)>, ()> {
        let reply =
            self.conn.get_property(false, self.root, self.active, AtomEnum::WINDOW, 0, 1).map_err(drop)?;
        let reply = reply.reply().map_err(drop)?;
        let Some(window) = reply.value32().and_then(|mut v| v.next()).filter(|w| *w != 0) else {
            return Ok(None);
        };
        let states =
            self.conn.get_property(false, window, self.wm_state, AtomEnum::ATOM, 0, 64).map_err(drop)?;
        if states.reply().map_err(drop)?.value32().is_some_and(|mut s| s.any(|a| a == self.hidden)) {
            return Ok(None);
        }
        let title = self
            .property(window, self.net_wm_name, self.utf8)
            .filter(|t| !t.is_empty())
            .or_else(|| self.property(window, AtomEnum::WM_NAME, AtomEnum::STRING))
            .unwrap_or_default();
        let class = self.property(window, AtomEnum::WM_CLASS, AtomEnum::STRING).unwrap_or_default();
        let class = class
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(String::from_utf8_lossy)
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Some((String::from_utf8_lossy(&title).into_owned(), class)))
    }
}

/// The desktop's answer to "is the agent in the chat?".
pub struct DesktopFocus {
    display: Option<String>,
    x11: Mutex<Option<X11>>,
    matcher: Mutex<ChatWindowMatch>,
    session_bus: Mutex<Option<zbus::Connection>>,
}

impl DesktopFocus {
    /// `display`: an X display name, or `None` for `$DISPLAY`.
    pub fn new(display: Option<&str>, matcher: ChatWindowMatch) -> DesktopFocus {
        DesktopFocus {
            display: display.map(str::to_owned),
            x11: Mutex::new(None),
            matcher: Mutex::new(matcher),
            session_bus: Mutex::new(None),
        }
    }

    pub fn set_matcher(&self, m: ChatWindowMatch) {
        *self.matcher.lock().unwrap_or_else(|p| p.into_inner()) = m;
    }

    /// Without an explicit display, a Wayland session hides the focused window: do not guess.
    fn wayland(&self) -> bool {
        self.display.is_none()
            && std::env::var("XDG_SESSION_TYPE").is_ok_and(|t| t.eq_ignore_ascii_case("wayland"))
    }

    fn window(&self) -> Option<(String, String)> {
        let mut x11 = self.x11.lock().unwrap_or_else(|p| p.into_inner());
        for _ in 0..2 {
            if x11.is_none() {
                *x11 = X11::connect(self.display.as_deref());
            }
            match x11.as_ref()?.active_window() {
                Ok(w) => return w,
                // The X server went away (or restarted): reconnect once.
                Err(()) => *x11 = None,
            }
        }
        None
    }

    /// The session bus, connected once and kept.
    async fn session(&self) -> Option<zbus::Connection> {
        let cached = self.session_bus.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if cached.is_some() {
            return cached;
        }
        let c = tokio::time::timeout(LOCK_TIMEOUT, zbus::Connection::session()).await.ok()?.ok();
        *self.session_bus.lock().unwrap_or_else(|p| p.into_inner()) = c.clone();
        c
    }

    /// Whether the screen is locked; `None` when no service says. Call it from a blocking thread of
    /// a Tokio runtime (as the toast center does): it waits on D-Bus through that runtime.
    pub fn locked(&self) -> Option<bool> {
        let rt = tokio::runtime::Handle::try_current().ok()?;
        rt.block_on(async { lock_state(self.session().await.as_ref()).await.map(|(locked, _)| locked) })
    }
}

/// ORG-6: whether the desktop's Do Not Disturb is on, and who said so: the notification server's
/// `Inhibited` property (KDE Plasma, and servers that follow it), dunst's pause, or GNOME's "Do Not
/// Disturb" (notification banners off). `None` when nothing says.
pub async fn dnd_state(session: Option<&zbus::Connection>) -> Option<(bool, &'static str)> {
    if let Some(bus) = session {
        for (interface, property, who) in [
            ("org.freedesktop.Notifications", "Inhibited", "the notification server's Inhibited"),
            ("org.dunstproject.cmd0", "paused", "dunst's pause"),
        ] {
            let args = (interface, property);
            let call = bus.call_method(
                Some("org.freedesktop.Notifications"),
                "/org/freedesktop/Notifications",
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &args,
            );
            if let Ok(Ok(reply)) = tokio::time::timeout(LOCK_TIMEOUT, call).await {
                let value = reply.body().deserialize::<zbus::OwnedVariant>().ok();
                let on = value.and_then(|v| bool::try_from(v).ok());
                if let Some(on) = on {
                    return Some((on, who));
                }
            }
        }
    }
    gnome_banners_off().map(|off| (off, "GNOME's Do Not Disturb"))
}

/// GNOME keeps Do Not Disturb as `org.gnome.desktop.notifications show-banners` = false, in dconf,
/// which has no D-Bus interface to read it: `gsettings` reads it (only in a GNOME session).
fn gnome_banners_off() -> Option<bool> {
    let desktop = std::env::var("XDG_CURRENT_DESKTOP").unwrap_or_default();
    if !desktop.split(':').any(|d| d.eq_ignore_ascii_case("gnome")) {
        return None;
    }
    // A hung gsettings must not hold toasts up: the answer is "cannot tell" after a moment.
    let out = super::gsettings::Gsettings::default()
        .run(&["get", "org.gnome.desktop.notifications", "show-banners"], LOCK_TIMEOUT)?;
    match out.trim() {
        "false" => Some(true),
        "true" => Some(false),
        _ => None,
    }
}

/// Whether the screen is locked, and which service said so: the freedesktop or GNOME ScreenSaver
/// on the session bus, else logind's `LockedHint`. `None` when none answers.
pub async fn lock_state(session: Option<&zbus::Connection>) -> Option<(bool, &'static str)> {
    if let Some(bus) = session {
        for (name, path) in [
            ("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver"),
            ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver"),
        ] {
            let call = bus.call_method(Some(name), path, Some(name), "GetActive", &());
            if let Ok(Ok(reply)) = tokio::time::timeout(LOCK_TIMEOUT, call).await {
                if let Ok(active) = reply.body().deserialize::<bool>() {
                    return Some((active, name));
                }
            }
        }
    }
    let system = tokio::time::timeout(LOCK_TIMEOUT, zbus::Connection::system()).await.ok()?.ok()?;
    let call = system.call_method(
        Some("org.freedesktop.login1"),
        "/org/freedesktop/login1/session/auto",
        Some("org.freedesktop.DBus.Properties"),
        "Get",
        &("org.freedesktop.login1.Session", "LockedHint"),
    );
    let reply = tokio::time::timeout(LOCK_TIMEOUT, call).await.ok()?.ok()?;
    let value: zbus::OwnedVariant = reply.body().deserialize().ok()?;
    Some((bool::try_from(value).ok()?, "systemd-logind"))
}

/// Whether the window manager of `display` reports the focused window (`_NET_ACTIVE_WINDOW` in
/// its `_NET_SUPPORTED`); `None` when no X server answers.
pub fn wm_reports_active_window(display: Option<&str>) -> Option<bool> {
    let x = X11::connect(display)?;
    let supported = x.conn.intern_atom(false, b"_NET_SUPPORTED").ok()?.reply().ok()?.atom;
    let Some(list) =
        x.conn.get_property(false, x.root, supported, AtomEnum::ATOM, 0, 4096).ok()?.reply().ok()
    else {
        return Some(false);
    };
    Some(list.value32().is_some_and(|mut atoms| atoms.any(|a| a == x.active)))
}

impl ChatFocus for DesktopFocus {
    fn set_matcher(&self, m: ChatWindowMatch) {
        DesktopFocus::set_matcher(self, m);
    }
}

impl FocusProbe for DesktopFocus {
    /// ORG-6. From a blocking thread of a Tokio runtime, as `focus`.
    fn do_not_disturb(&self) -> bool {
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return false };
        rt.block_on(async { dnd_state(self.session().await.as_ref()).await.is_some_and(|(on, _)| on) })
    }

    fn focus(&self) -> Focus {
        if self.locked() == Some(true) {
            return Focus::Locked;
        }
        if self.wayland() {
            return Focus::Unknown;
        }
        let matcher = self.matcher.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match self.window() {
            Some((title, class)) if matcher.matches(&title, &class) => Focus::ChatFocused,
            Some(_) => Focus::ChatNotFocused,
            // No active window (all minimised): not in the chat. No display at all: cannot tell.
            None if self.x11.lock().unwrap_or_else(|p| p.into_inner()).is_some() => Focus::ChatNotFocused,
            None => Focus::Unknown,
        }
    }
}
