//! What `lonceng doctor` looks at, as the platform reports it (`lonceng_desktop::doctor` gathers
//! it): plain data with no verdict in it, so that gathering (D-Bus, X11, HTTP) and judging can be
//! tested apart.

/// The notification server.
#[derive(Debug, Clone, PartialEq)]
pub enum Notifications {
    /// No `org.freedesktop.Notifications` on the session bus.
    Missing,
    /// A freedesktop notification server: its name, version and capabilities.
    Dbus { name: String, version: String, capabilities: Vec<String> },
    /// Windows' toasts: whether the app's id is registered by its Start-menu shortcut.
    Windows { registered: bool },
}

/// The tray.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tray {
    /// A StatusNotifierWatcher with a registered host (a panel that draws the icons).
    Host,
    /// A watcher, but no host has registered: nothing draws the icon.
    WatcherWithoutHost,
    /// No StatusNotifierWatcher; `gnome` when the desktop is GNOME (which needs an extension).
    Missing { gnome: bool },
    /// The taskbar's notification area.
    Windows,
}

/// The display, and whether the focused window is visible to applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// `active_window`: the window manager reports the focused window (`_NET_ACTIVE_WINDOW`).
    X11 {
        active_window: bool,
    },
    Wayland,
    Windows,
    Missing,
}

/// The server the notifications come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Server {
    /// The embedded demo server.
    Demo {
        url: String,
    },
    NotConfigured,
    /// The organisation's Lonceng server, and whether `/healthz` answered.
    Lonceng {
        url: String,
        reachable: Result<(), String>,
    },
    /// The Qontak CRM API directly, and whether it answered at all.
    Crm {
        url: String,
        reachable: Result<(), String>,
    },
}

/// The sign-in token (or, in the direct CRM mode, the company's client secret).
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Missing,
    Rejected,
    Valid {
        user: String,
    },
    /// The server did not answer, so the token could not be tried.
    Unchecked,
    CrmSecret {
        stored: bool,
    },
}

/// The live stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Stream {
    Open,
    /// The server offers no stream: the app polls.
    Off,
    /// The CRM has no stream: the app polls it every minute.
    Polled,
    Failed(String),
    Unchecked,
}

/// Start at login.
#[derive(Debug, Clone, PartialEq)]
pub struct Autostart {
    /// Whether this copy manages the entry (installed, not the demo).
    pub managed: bool,
    /// The agent's setting.
    pub wanted: bool,
    /// The entry's command, if there is one.
    pub entry: Option<String>,
    /// Whether that command starts this binary hidden.
    pub starts_this: bool,
}

/// Everything the checks look at, gathered by the platform.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub notifications: Notifications,
    pub tray: Tray,
    pub display: Display,
    /// Where the screen's lock is learnt from (a D-Bus service), if anywhere.
    pub screen_lock: Option<String>,
    /// Where secrets are kept (the Secret Service, the Credential Manager), if a keyring answers.
    pub keyring: Option<String>,
    pub autostart: Autostart,
    /// The way to the server: the proxy, and which certificates are trusted.
    pub network: Network,
    pub server: Server,
    pub token: Token,
    pub stream: Stream,
    /// The server's clock minus this computer's, in seconds, when the server answered.
    pub clock_skew: Option<i64>,
    /// Notifications the local copy could not show, when it could be read.
    pub quarantined: Option<u64>,
    /// IT's policy (ORG-3).
    pub policy: PolicyFacts,
}

/// Which proxy the requests to the server go through (by whose setting), or why the desktop's
/// cannot be used (a PAC file); which certificates are trusted, or why the system's cannot be.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub proxy: Result<String, String>,
    pub trust: Result<String, String>,
}

/// IT's policy as read: where from (none when there is none), how many settings it fixes, and
/// what in it could not be used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyFacts {
    pub source: Option<String>,
    pub fixed: usize,
    pub problems: Vec<String>,
}
