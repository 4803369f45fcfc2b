//! The tray icon and its menu, drawn from `lonceng_desktop`'s [`TrayView`] (labels in the active
//! language, the unread count, the offline state); each menu item is one call into the runtime.

use std::time::Duration;

use lonceng_desktop::badge::Icon;
use lonceng_desktop::settings::SettingsChanges;
use lonceng_desktop::views::{TrayIcon as Look, TrayMenu, TrayView, UiEvent};
use lonceng_domain::i18n::Lang;
use tauri::image::Image;
use tauri::menu::{CheckMenuItemBuilder, Menu, MenuBuilder, MenuItemBuilder, SubmenuBuilder};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Emitter, Manager};

use crate::{window, App};

const TRAY: &str = "lonceng";
/// The menu id of an item is this followed by the item's id.
const ITEM: &str = "item:";

/// Text shown as it is: `&` marks a keyboard mnemonic in menu labels (muda turns it into GTK's
/// `_`; Windows uses it itself), and a notification's text must not gain one.
fn literal(text: &str) -> String {
    text.replace('&', "&&")
}
const ICON: &[u8] = include_bytes!("../../icons/tray.png");
const ICON_OFFLINE: &[u8] = include_bytes!("../../icons/tray-offline.png");

/// NC-R14: the icon for a look, with the unread number drawn on it (`lonceng_desktop::badge`).
fn icon(look: Look, badge: Option<&str>) -> tauri::Result<Image<'static>> {
    let base = Image::from_bytes(if look == Look::Offline { ICON_OFFLINE } else { ICON })?;
    let mut icon = Icon { width: base.width(), height: base.height(), rgba: base.rgba().to_vec() };
    // At the size the tray shows it, where the platform says (Windows, per its DPI).
    if let Some(size) = lonceng_desktop::platform::tray_icon_size() {
        icon = icon.resized(size);
    }
    if look == Look::Quiet {
        icon = icon.dimmed();
    }
    if let Some(text) = badge {
        icon = icon.with_badge(text);
    }
    Ok(Image::new_owned(icon.rgba, icon.width, icon.height))
}

fn menu(handle: &AppHandle, view: &TrayView) -> tauri::Result<Menu<tauri::Wry>> {
    let m = &view.menu;
    let item = |id: &str, label: &str| MenuItemBuilder::with_id(id, label).build(handle);
    let check =
        |id: &str, label: &str, on: bool| CheckMenuItemBuilder::with_id(id, label).checked(on).build(handle);
    let fixed = |id: &str, label: &str, on: bool| {
        CheckMenuItemBuilder::with_id(id, label).checked(on).enabled(!m.lang_locked).build(handle)
    };
    let pause = SubmenuBuilder::new(handle, &m.pause)
        .item(&item("pause-hour", &m.pause_hour)?)
        .item(&item("pause-tomorrow", &m.pause_tomorrow)?)
        .item(&MenuItemBuilder::with_id("resume", &m.resume).enabled(m.can_resume).build(handle)?)
        .separator()
        .item(&check("quiet-hours", &m.quiet_hours, m.quiet_hours_on)?)
        .build()?;
    let language = SubmenuBuilder::new(handle, &m.language)
        .item(&fixed("lang-en", Lang::En.native_name(), m.lang == Lang::En)?)
        .item(&fixed("lang-id", Lang::Id.native_name(), m.lang == Lang::Id)?)
        .build()?;
    // The newest unread items first: readable and openable without the window (no WebKit).
    let mut menu = MenuBuilder::new(handle);
    for i in &m.items {
        menu = menu.item(&item(&format!("{ITEM}{}", i.id), &literal(&i.label))?);
    }
    if m.items.is_empty() {
        menu = menu.item(&MenuItemBuilder::new(&m.nothing_unread).enabled(false).build(handle)?);
    }
    let menu = menu
        .separator()
        .item(&item("open", &m.open)?)
        .item(&item("mark-all", &m.mark_all_read)?)
        .item(&pause)
        .item(&language)
        .item(
            &CheckMenuItemBuilder::with_id("autostart", &m.autostart)
                .checked(m.autostart_on)
                .enabled(m.autostart_enabled)
                .build(handle)?,
        )
        .item(&item("settings", &m.settings)?)
        .separator();
    let menu = match &m.update {
        Some(label) => menu.item(&item("update", label)?).separator(),
        None => menu,
    };
    let menu = match &m.sign_in {
        Some(label) => menu.item(&item("sign-in", label)?).separator(),
        None => menu,
    };
    let menu = match &m.try_now {
        Some(label) => menu.item(&item("try-now", label)?).separator(),
        None => menu,
    };
    menu.item(&item("quit", &m.quit)?).build()
}

/// The menu last given to the tray: it is built again only when it changes (a status that offers
/// "Try now", a language), since some hosts close an open menu when it is replaced.
#[derive(Default)]
pub struct Shown(std::sync::Mutex<Option<TrayMenu>>);

/// NC-R14: the icon, tooltip and title as the runtime computes them; the menu when it changed. On
/// the main thread, one refresh after another: two at once could leave the older menu shown.
pub fn refresh(handle: &AppHandle) {
    let h = handle.clone();
    if let Err(e) = handle.run_on_main_thread(move || redraw(&h)) {
        tracing::warn!(error = %e, "the tray could not be redrawn");
    }
}

fn redraw(handle: &AppHandle) {
    let Some(tray) = handle.tray_by_id(TRAY) else { return };
    let view = handle.state::<App>().tray();
    let changed = handle.try_state::<Shown>().is_some_and(|shown| {
        let mut last = shown.0.lock().unwrap_or_else(|p| p.into_inner());
        let changed = last.as_ref() != Some(&view.menu);
        *last = Some(view.menu.clone());
        changed
    });
    if changed {
        match menu(handle, &view) {
            Ok(menu) => {
                let _ = tray.set_menu(Some(menu));
            }
            Err(e) => tracing::warn!(error = %e, "the tray menu could not be built"),
        }
    }
    match icon(view.icon, view.badge.as_deref()) {
        Ok(image) => {
            let _ = tray.set_icon(Some(image));
        }
        Err(e) => tracing::warn!(error = %e, "the tray icon could not be drawn"),
    }
    let _ = tray.set_tooltip(Some(&view.tooltip));
    let _ = tray.set_title(view.title);
}

/// The menu again whatever it was (a check item the host toggled by itself must show the
/// runtime's state), and the look.
pub fn rebuild(handle: &AppHandle) {
    if let Some(shown) = handle.try_state::<Shown>() {
        shown.0.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
    refresh(handle);
}

fn on_menu(handle: &AppHandle, id: &str) {
    let app: App = handle.state::<App>().inner().clone();
    let h = handle.clone();
    if let Some(item) = id.strip_prefix(ITEM) {
        // NC-R7 through the one action path: its page opens (where the link policy allows) and
        // it is read; the menu follows the change. Off the UI thread: it writes the store.
        let item = item.to_owned();
        tauri::async_runtime::spawn_blocking(move || {
            if let Err(e) = app.open_item(&item) {
                tracing::warn!(error = %e, "an item opened from the tray");
            }
        });
        return;
    }
    match id {
        "open" => window::show(handle, None),
        // ORG-1: the browser opens at the organisation's sign-in page; the tray changes when done.
        "sign-in" => {
            tauri::async_runtime::spawn(async move {
                if let Err(e) = app.sign_in().await {
                    tracing::warn!(error = %e, "sign-in from the tray");
                }
                rebuild(&h);
            });
        }
        "try-now" => app.retry_now(),
        "settings" => {
            window::show(handle, None);
            let _ = handle.emit(&UiEvent::OpenSettings.channel(), ());
        }
        "mark-all" => {
            // Off the UI thread: it writes the store.
            tauri::async_runtime::spawn_blocking(move || {
                if let Err(e) = app.mark_everything_read() {
                    tracing::warn!(error = %e, "mark all read from the tray");
                }
            });
        }
        "pause-hour" | "pause-tomorrow" | "resume" => {
            let id = id.to_owned();
            tauri::async_runtime::spawn(async move {
                let done = match id.as_str() {
                    "pause-hour" => app.pause_for_an_hour().await,
                    "pause-tomorrow" => app.pause_until_tomorrow().await,
                    _ => app.resume().await,
                };
                if let Err(e) = done {
                    tracing::warn!(error = %e, "pause from the tray");
                }
                rebuild(&h);
            });
        }
        "quiet-hours" => {
            let on = !app.settings().settings.quiet_hours.enabled;
            tauri::async_runtime::spawn(async move {
                if let Err(e) = app.set_quiet_hours(on).await {
                    tracing::warn!(error = %e, "quiet hours from the tray");
                }
                rebuild(&h);
            });
        }
        "lang-en" | "lang-id" => {
            let lang = if id == "lang-en" { Lang::En } else { Lang::Id };
            tauri::async_runtime::spawn(async move {
                let _ = app
                    .save_settings(SettingsChanges { lang: Some(lang), ..SettingsChanges::default() })
                    .await;
                rebuild(&h);
            });
        }
        "autostart" => {
            let on = !app.settings().settings.autostart;
            tauri::async_runtime::spawn(async move {
                let _ = app
                    .save_settings(SettingsChanges { autostart: Some(on), ..SettingsChanges::default() })
                    .await;
                rebuild(&h);
            });
        }
        "update" => {
            // The agent's consent: install, then restart into the new version.
            tauri::async_runtime::spawn(async move {
                if let Err(e) = crate::update::install(&h).await {
                    tracing::warn!(error = %e, "update not installed");
                }
            });
        }
        "quit" => {
            tauri::async_runtime::spawn(async move {
                app.stop().await;
                h.exit(0);
            });
        }
        _ => {}
    }
}

/// Builds the tray. Fails where the desktop has no tray host (no StatusNotifierWatcher): the app
/// keeps running, and a second launch opens the window.
pub fn build(handle: &AppHandle) -> tauri::Result<TrayIcon> {
    let view = handle.state::<App>().tray();
    handle.manage(Shown(std::sync::Mutex::new(Some(view.menu.clone()))));
    TrayIconBuilder::with_id(TRAY)
        .icon(icon(view.icon, view.badge.as_deref())?)
        .tooltip("Lonceng")
        .menu(&menu(handle, &view)?)
        .show_menu_on_left_click(false)
        .on_menu_event(|h, e| on_menu(h, e.id().as_ref()))
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                position,
                ..
            } = event
            {
                window::toggle(tray.app_handle(), Some(position));
            }
        })
        .build(handle)
}

/// Tray updates in batches: a burst of changes is one refresh; a settings change (the language,
/// say, switched in the window) redraws the menu too; a toast readies the window.
pub fn follow(handle: AppHandle, mut events: tokio::sync::mpsc::UnboundedReceiver<UiEvent>) {
    tauri::async_runtime::spawn(async move {
        while let Some(first) = events.recv().await {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut toasted = first == UiEvent::Toasted;
            let mut settings = first == UiEvent::Settings;
            while let Ok(e) = events.try_recv() {
                toasted |= e == UiEvent::Toasted;
                settings |= e == UiEvent::Settings;
            }
            if toasted {
                window::prewarm(&handle);
            }
            if settings {
                // A new keyboard shortcut in Settings (registered on the main thread, where the
                // plugin works anyway: this task does not wait for it).
                let h = handle.clone();
                let _ = handle.run_on_main_thread(move || crate::shortcut::apply(&h));
            }
            // The menu follows too, built again only when it changed.
            refresh(&handle);
        }
    });
}
