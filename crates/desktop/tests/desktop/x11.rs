//! The focus probe against a real X server: Xvfb with openbox (a window manager sets
//! `_NET_ACTIVE_WINDOW`), a window titled like the Qontak chat in Chromium and a terminal window.
//! Focus moves between them the way a pager asks a window manager to; the probe must follow (NC-R12).
// Linux desktop services (D-Bus, X11); the Windows backends have tests/windows.rs.
#![cfg(unix)]

use std::time::Duration;

use lonceng_client::toast::{ChatWindowMatch, Focus, FocusProbe};
use lonceng_desktop::platform::focus::DesktopFocus;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt, CreateWindowAux, EventMask, PropMode, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

use crate::common::xvfb::{atom, display};

fn window(conn: &RustConnection, title: &str, class: &str) -> Window {
    let screen = &conn.setup().roots[0];
    let w = conn.generate_id().unwrap();
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        w,
        screen.root,
        0,
        0,
        400,
        300,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &CreateWindowAux::new().background_pixel(screen.white_pixel),
    )
    .unwrap();
    let utf8 = atom(conn, "UTF8_STRING");
    conn.change_property8(PropMode::REPLACE, w, atom(conn, "_NET_WM_NAME"), utf8, title.as_bytes()).unwrap();
    conn.change_property8(PropMode::REPLACE, w, AtomEnum::WM_NAME, AtomEnum::STRING, title.as_bytes())
        .unwrap();
    let wm_class = format!("{class}\0{class}\0");
    conn.change_property8(PropMode::REPLACE, w, AtomEnum::WM_CLASS, AtomEnum::STRING, wm_class.as_bytes())
        .unwrap();
    conn.map_window(w).unwrap();
    conn.flush().unwrap();
    w
}

/// Asks the window manager to activate `w`, as a taskbar does.
fn activate(conn: &RustConnection, w: Window) {
    let root = conn.setup().roots[0].root;
    let event = ClientMessageEvent::new(32, w, atom(conn, "_NET_ACTIVE_WINDOW"), [2, 0, 0, 0, 0]);
    conn.send_event(false, root, EventMask::SUBSTRUCTURE_REDIRECT | EventMask::SUBSTRUCTURE_NOTIFY, event)
        .unwrap();
    conn.flush().unwrap();
}

/// Asks the window manager to minimise `w` (ICCCM IconicState).
fn minimise(conn: &RustConnection, w: Window) {
    let root = conn.setup().roots[0].root;
    let event = ClientMessageEvent::new(32, w, atom(conn, "WM_CHANGE_STATE"), [3, 0, 0, 0, 0]);
    conn.send_event(false, root, EventMask::SUBSTRUCTURE_REDIRECT | EventMask::SUBSTRUCTURE_NOTIFY, event)
        .unwrap();
    conn.flush().unwrap();
}

/// Asks the window manager to act on `w` until the probe reports `want`. The request is repeated
/// because a window manager ignores requests for a window it has not finished managing; what is
/// under test is the probe, not the window manager's timing.
fn until(
    conn: &RustConnection,
    request: fn(&RustConnection, Window),
    w: Window,
    probe: &DesktopFocus,
    want: Focus,
    what: &str,
) {
    for _ in 0..50 {
        request(conn, w);
        for _ in 0..8 {
            if probe.focus() == want {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
    panic!("{what}: the probe says {:?}, expected {want:?}", probe.focus());
}

// NC-R12
#[test]
fn nc_r12_the_probe_follows_focus_between_the_qontak_chat_and_another_window() {
    let d = display();
    let (conn, _) = x11rb::connect(Some(&d.name)).expect("connect to Xvfb");
    let chat = window(&conn, "Qontak Chat - Chromium", "chromium");
    let terminal = window(&conn, "agent@laptop: ~", "xterm");
    let crm = window(&conn, "Qontak CRM - Deals - Chromium", "chromium");
    let probe = DesktopFocus::new(Some(&d.name), ChatWindowMatch::default());

    until(&conn, activate, chat, &probe, Focus::ChatFocused, "the chat window focused");
    until(&conn, activate, terminal, &probe, Focus::ChatNotFocused, "another app focused");
    until(&conn, activate, chat, &probe, Focus::ChatFocused, "back in the chat");
    until(&conn, activate, crm, &probe, Focus::ChatNotFocused, "another Qontak tab (the CRM) focused");
    until(&conn, activate, chat, &probe, Focus::ChatFocused, "back in the chat again");
    until(&conn, minimise, chat, &probe, Focus::ChatNotFocused, "the chat minimised");

    // A custom match (Settings → web-chat window) is honoured at once.
    probe.set_matcher(ChatWindowMatch {
        title_patterns: vec!["agent@laptop".into()],
        browser_classes: vec![],
    });
    until(&conn, activate, terminal, &probe, Focus::ChatFocused, "the custom pattern");
}

#[test]
fn without_an_x_server_focus_is_unknown() {
    let probe = DesktopFocus::new(Some(":9999"), ChatWindowMatch::default());
    assert_eq!(probe.focus(), Focus::Unknown);
}
