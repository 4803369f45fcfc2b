//! What `lonceng doctor` finds on a Linux desktop: the notification server and its capabilities, a
//! tray host, X11 or Wayland, the screen lock's source, and the Secret Service. Each probe is
//! bounded: a desktop without a piece answers "missing", never a hang.

use std::time::Duration;

use lonceng_client::doctor::{Display, Notifications, Tray};

/// What this desktop offers Lonceng: a notification server, a tray host, the display, the screen
/// lock's source and a keyring; each probe waits at most `wait`.
pub async fn probe(wait: Duration) -> (Notifications, Tray, Display, Option<String>, Option<String>) {
    let bus = tokio::time::timeout(wait, zbus::Connection::session()).await.ok().and_then(Result::ok);
    let notifications = match &bus {
        Some(bus) => notification_server(bus, wait).await,
        None => Notifications::Missing,
    };
    let gnome = std::env::var("XDG_CURRENT_DESKTOP").is_ok_and(|d| d.to_ascii_uppercase().contains("GNOME"));
    let tray = match &bus {
        Some(bus) => tray(bus, gnome, wait).await,
        None => Tray::Missing { gnome },
    };
    let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some()
        || std::env::var("XDG_SESSION_TYPE").is_ok_and(|t| t.eq_ignore_ascii_case("wayland"));
    let display = if wayland {
        Display::Wayland
    } else if std::env::var_os("DISPLAY").is_some() {
        match tokio::task::spawn_blocking(|| super::focus::wm_reports_active_window(None)).await {
            Ok(Some(active_window)) => Display::X11 { active_window },
            _ => Display::Missing,
        }
    } else {
        Display::Missing
    };
    let lock = super::focus::lock_state(bus.as_ref()).await.map(|(_, source)| source.to_owned());
    let keyring = super::secret_service::Keyring::connect().await.map(|_| "Secret Service".to_owned());
    (notifications, tray, display, lock, keyring)
}

async fn notification_server(bus: &zbus::Connection, wait: Duration) -> Notifications {
    const NAME: &str = "org.freedesktop.Notifications";
    const PATH: &str = "/org/freedesktop/Notifications";
    let info = tokio::time::timeout(
        wait,
        bus.call_method(Some(NAME), PATH, Some(NAME), "GetServerInformation", &()),
    );
    let Ok(Ok(info)) = info.await else { return Notifications::Missing };
    let Ok((name, _vendor, version, _spec)) = info.body().deserialize::<(String, String, String, String)>()
    else {
        return Notifications::Missing;
    };
    let caps =
        tokio::time::timeout(wait, bus.call_method(Some(NAME), PATH, Some(NAME), "GetCapabilities", &()));
    let capabilities = match caps.await {
        Ok(Ok(reply)) => reply.body().deserialize::<Vec<String>>().unwrap_or_default(),
        _ => Vec::new(),
    };
    Notifications::Dbus { name, version, capabilities }
}

async fn tray(bus: &zbus::Connection, gnome: bool, wait: Duration) -> Tray {
    const WATCHER: &str = "org.kde.StatusNotifierWatcher";
    let call = bus.call_method(
        Some(WATCHER),
        "/StatusNotifierWatcher",
        Some("org.freedesktop.DBus.Properties"),
        "Get",
        &(WATCHER, "IsStatusNotifierHostRegistered"),
    );
    match tokio::time::timeout(wait, call).await {
        Ok(Ok(reply)) => match reply.body().deserialize::<zbus::OwnedVariant>().map(bool::try_from) {
            Ok(Ok(true)) => Tray::Host,
            _ => Tray::WatcherWithoutHost,
        },
        _ => Tray::Missing { gnome },
    }
}
