//! The Windows backends on Windows' own services, run under Wine in CI (scripts/windows.sh):
//! - the focus probe against real Win32 windows of `examples/fake_window.rs`, copied to `chrome.exe`
//!   and `notepad.exe` so that their process image names are a browser's and not (NC-R12);
//! - the session's lock, as Windows tells it: `WM_WTSSESSION_CHANGE` to the probe's session window;
//! - the Credential Manager, written and read back through the same port as the app uses;
//! - start at login: the per-user Run key, quoted, starting hidden, and never the machine's;
//! - the toast XML, which must keep notification text as text.
//!
//! WinRT toasts themselves need a real Windows (Wine has no `Windows.UI.Notifications`): that test
//! says so when it cannot create a notifier, and checks the tag, group and history where it can.
#![cfg(windows)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use lonceng_client::toast::{ChatWindowMatch, Focus, FocusProbe, Toast, Urgency};
use lonceng_desktop::keyring::{SecretKind, Secrets, TokenStore, TokenVault};
use lonceng_desktop::platform::focus::WindowsFocus;
use lonceng_desktop::platform::toasts::{toast_xml, xml_text};
use windows::Win32::Foundation::{HWND, LPARAM, WPARAM};
use windows::Win32::UI::WindowsAndMessaging::{
    PostMessageW, WM_WTSSESSION_CHANGE, WTS_SESSION_LOCK, WTS_SESSION_UNLOCK,
};

/// One test at a time: they share the process's session window and the user's registry. The
/// session window comes first, as in the app; in a fresh Wine prefix the first window of a process
/// can take well over ten seconds while Wine's desktop process starts (seen in CI).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let probe = WindowsFocus::new(ChatWindowMatch::default());
    wait_until("the session window to appear", Duration::from_secs(90), || probe.session_window() != 0);
    guard
}

/// Polls `holds` until it is true; fails the test after `limit` (Win32 and the window manager act
/// asynchronously, and there is nothing to wait on but the state itself).
fn wait_until(what: &str, limit: Duration, holds: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !holds() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `probe` answers `want`.
fn until_focus(probe: &WindowsFocus, want: Focus, what: &str) {
    wait_until(&format!("{what}: {want:?}"), Duration::from_secs(20), || probe.focus() == want);
}

/// A window of `examples/fake_window.rs`, run as `exe_name` with `title`.
struct FakeWindow {
    child: Child,
    stdin: ChildStdin,
}

impl FakeWindow {
    fn open(dir: &Path, exe_name: &str, title: &str) -> FakeWindow {
        let exe = dir.join(exe_name);
        std::fs::copy(fake_window_exe(), &exe).expect("copy the fake window program");
        let mut child = Command::new(&exe)
            .arg(title)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the fake window");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("its first line");
        assert_eq!(line.trim(), "ready", "the fake window did not start");
        let stdin = child.stdin.take().expect("stdin");
        FakeWindow { child, stdin }
    }

    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").expect("send a command to the fake window");
    }
}

impl Drop for FakeWindow {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.wait();
    }
}

/// The example is built beside the test binaries (`…/debug/deps/windows-*.exe` → `…/debug/examples`).
fn fake_window_exe() -> PathBuf {
    let me = std::env::current_exe().expect("the test binary's path");
    let exe = me.parent().and_then(Path::parent).expect("target folder").join("examples/fake_window.exe");
    assert!(exe.exists(), "{} is missing: build with --examples", exe.display());
    exe
}

#[test]
fn the_probe_follows_the_foreground_window_and_its_process() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let probe = WindowsFocus::new(ChatWindowMatch::default());

    let mut chat = FakeWindow::open(dir.path(), "chrome.exe", "Qontak Chat - Google Chrome");
    until_focus(&probe, Focus::ChatFocused, "the chat in Chrome in front");

    let mut other = FakeWindow::open(dir.path(), "notepad.exe", "Untitled - Notepad");
    until_focus(&probe, Focus::ChatNotFocused, "Notepad in front");

    chat.send("front");
    until_focus(&probe, Focus::ChatFocused, "the chat back in front");

    chat.send("minimise");
    until_focus(&probe, Focus::ChatNotFocused, "the chat minimised");

    // The same title in a program that is not a browser is not the chat.
    other.send("quit");
    let _mimic = FakeWindow::open(dir.path(), "notes.exe", "Qontak Chat - Google Chrome");
    until_focus(&probe, Focus::ChatNotFocused, "a non-browser titled like the chat");
}

#[test]
fn a_locked_session_holds_toasts_back() {
    let _serial = serial();
    let probe = WindowsFocus::new(ChatWindowMatch::default());
    let hwnd = HWND(probe.session_window() as *mut std::ffi::c_void);
    let post = |event: u32| {
        // SAFETY: a message to our own window; the handle is alive as long as the process.
        unsafe { PostMessageW(Some(hwnd), WM_WTSSESSION_CHANGE, WPARAM(event as usize), LPARAM(1)) }
            .expect("post the session message");
    };
    post(WTS_SESSION_LOCK);
    until_focus(&probe, Focus::Locked, "the session locked");
    post(WTS_SESSION_UNLOCK);
    wait_until("the session unlocked", Duration::from_secs(10), || probe.focus() != Focus::Locked);
}

// ORG-6: Windows is asked whether it wants quiet (SHQueryUserNotificationState: a full-screen app,
// a presentation, quiet time); an ordinary desktop (Wine's) accepts notifications.
#[test]
fn org_6_windows_is_asked_whether_it_accepts_notifications() {
    let probe = WindowsFocus::new(ChatWindowMatch::default());
    assert!(!probe.do_not_disturb());
}

// High-DPI: the tray icon is drawn at the notification area's size at this screen's scale.
#[test]
fn the_tray_icon_is_drawn_at_the_notification_areas_size() {
    let size = lonceng_desktop::platform::tray_icon_size().expect("Windows says its small icon size");
    assert!((16..=64).contains(&size), "{size}");
}

#[test]
fn secrets_live_in_the_credential_manager() {
    let _serial = serial();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let vault = TokenVault::new(dir.path().to_path_buf());
    rt.block_on(async {
        // Each kind is its own credential; a second save replaces the first.
        assert_eq!(vault.write(SecretKind::SignInToken, "tok-1").await, Ok(TokenStore::Keyring));
        assert_eq!(vault.write(SecretKind::SignInToken, "tok-ü-2").await, Ok(TokenStore::Keyring));
        assert_eq!(vault.write(SecretKind::CrmClientSecret, "crm-secret").await, Ok(TokenStore::Keyring));
        assert_eq!(vault.read(SecretKind::SignInToken).await, (Some("tok-ü-2".into()), TokenStore::Keyring));
        assert_eq!(
            vault.read(SecretKind::CrmClientSecret).await,
            (Some("crm-secret".into()), TokenStore::Keyring)
        );
        // Nothing was left in a file beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // Another process (the next start) reads it too: the credential is Windows', not ours.
        assert_eq!(
            lonceng_desktop::platform::credentials::read(SecretKind::SignInToken).as_deref(),
            Some("tok-ü-2")
        );
        // Signing out clears it.
        assert_eq!(vault.write(SecretKind::SignInToken, "").await, Ok(TokenStore::Keyring));
        assert_eq!(vault.read(SecretKind::SignInToken).await, (None, TokenStore::None));
        // A secret the Credential Manager cannot hold goes to the private file instead, whole.
        let huge = "x".repeat(10_000);
        assert_eq!(vault.write(SecretKind::CrmClientSecret, &huge).await, Ok(TokenStore::File));
        let (read, store) = vault.read(SecretKind::CrmClientSecret).await;
        assert!(read.as_deref() == Some(huge.as_str()), "not the big secret: {:?}", read.map(|r| r.len()));
        assert_eq!(store, TokenStore::File);
    });
}

#[test]
fn start_at_login_is_this_user_s_run_key() {
    let _serial = serial();
    use lonceng_desktop::platform::autostart;
    const RUN: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
    let me = std::env::current_exe().unwrap();
    autostart::set(true, &me).expect("turned on");
    assert_eq!(autostart::current(), Some(format!("\"{}\" --hidden", me.display())));
    // Never the machine-wide key, even where the process could write it (Wine runs as an admin).
    let machine = windows_registry::LOCAL_MACHINE.open(RUN).and_then(|k| k.get_string(autostart::VALUE));
    assert!(machine.is_err(), "the machine-wide Run key was written: {machine:?}");
    autostart::set(false, &me).expect("turned off");
    assert_eq!(autostart::current(), None);
    autostart::set(false, &me).expect("turning it off twice is fine");
}

#[test]
fn doctor_reads_this_windows_desktop() {
    let _serial = serial();
    use lonceng_client::doctor::{Display, Notifications, Tray};
    let me = std::env::current_exe().unwrap();
    let context = |managed: bool| lonceng_desktop::doctor::Context {
        settings: lonceng_desktop::settings::DesktopSettings::default(),
        server: None,
        token: None,
        demo: false,
        crm_secret_stored: false,
        exe: me.clone(),
        autostart_managed: managed,
        quarantined: Some(0),
        policy: Default::default(),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let facts = rt.block_on(lonceng_desktop::doctor::gather(&context(true)));
    // A test prefix has no installer's Start-menu shortcut: toasts would lose the app's name.
    assert_eq!(facts.notifications, Notifications::Windows { registered: false });
    assert_eq!((facts.tray, facts.display), (Tray::Windows, Display::Windows));
    assert!(facts.keyring.is_some() && facts.screen_lock.is_some());
    assert_eq!(facts.autostart.entry, None);
    lonceng_desktop::platform::autostart::set(true, &me).expect("turned on");
    let facts = rt.block_on(lonceng_desktop::doctor::gather(&context(true)));
    assert!(facts.autostart.starts_this, "the Run key starts this binary hidden: {:?}", facts.autostart);
    lonceng_desktop::platform::autostart::set(false, &me).expect("turned off");
}

fn toast(title: &str, body: &str, mark_read: bool) -> Toast {
    Toast {
        title: title.into(),
        body: body.into(),
        urgency: Urgency::Normal,
        action_label: "Open".into(),
        mark_read_label: mark_read.then(|| "Mark as read".into()),
        mute_label: None,
        sound: !mark_read,
    }
}

#[test]
fn toast_text_stays_text_in_the_xml() {
    let _serial = serial();
    let xml = toast_xml(&toast("<b>Budi</b> & \"co\"", "a\u{0}b\u{1b}c <script>x</script>", true));
    assert!(xml.contains("&lt;b&gt;Budi&lt;/b&gt; &amp; &quot;co&quot;"), "{xml}");
    assert!(xml.contains("abc &lt;script&gt;x&lt;/script&gt;"), "{xml}");
    assert!(!xml.contains("<b>") && !xml.contains("<script>"), "{xml}");
    assert!(xml.contains(r#"arguments="mark-read""#) && xml.contains(r#"launch="open""#), "{xml}");
    // Open is a button on every toast; Mark as read only on an item's; silence when asked.
    let chat = toast_xml(&toast("t", "b", false));
    assert!(chat.contains(r#"arguments="open""#) && !chat.contains("mark-read"), "{chat}");
    assert!(!chat.contains("<audio") && xml.contains(r#"<audio silent="true"/>"#), "{xml}");
    // A chat toast's "Mute this conversation" button, its label as text.
    let muting = toast_xml(&Toast { mute_label: Some("Mute <this>".into()), ..toast("t", "b", false) });
    assert!(muting.contains(r#"<action content="Mute &lt;this&gt;" arguments="mute""#), "{muting}");
    assert_eq!(xml_text("\u{2068}Budi\u{2069}"), "\u{2068}Budi\u{2069}", "isolation marks are kept");
    // The document parses as XML (Windows' own parser, which WinRT toasts use, where it exists).
    let doc = windows::Data::Xml::Dom::XmlDocument::new();
    if let Ok(doc) = doc {
        doc.LoadXml(&windows::core::HSTRING::from(xml)).expect("the toast XML parses");
    } else {
        eprintln!("skipped the XML parse: Windows.Data.Xml.Dom is not available here (Wine)");
    }
}

#[test]
fn winrt_toasts_show_replace_and_withdraw() {
    let _serial = serial();
    use lonceng_client::toast::Notifier;
    use windows::UI::Notifications::ToastNotificationManager;

    let aumid = lonceng_desktop::platform::AUMID;
    if ToastNotificationManager::CreateToastNotifierWithId(&windows::core::HSTRING::from(aumid)).is_err() {
        eprintln!("skipped: WinRT toasts are not available here (Wine); compiled, and run on Windows");
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let notifier = lonceng_desktop::platform::toasts::WinRtNotifier::new(aumid, tx);
    rt.block_on(async {
        let first = notifier.show(toast("Budi", "Halo", true), None).await.expect("shown");
        let again = notifier.show(toast("Budi", "Halo lagi", true), Some(first)).await.expect("replaced");
        assert_eq!(first, again, "a replacement keeps its handle (tag)");
        let history = ToastNotificationManager::History().unwrap();
        let tags = |h: &windows::UI::Notifications::ToastNotificationHistory| {
            h.GetHistoryWithId(&windows::core::HSTRING::from(aumid))
                .map(|list| {
                    list.into_iter().filter_map(|t| t.Tag().ok()).map(|t| t.to_string()).collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        assert_eq!(tags(&history).iter().filter(|t| **t == first.to_string()).count(), 1);
        notifier.close(first).await.expect("withdrawn");
        assert!(!tags(&history).contains(&first.to_string()), "the toast left the Action Center");
    });
}

// ORG-3: IT's policy from the registry, the user's key read under the machine's; a value of the
// wrong type is named and ignored, the rest applies.
#[test]
fn org_3_the_policy_is_read_from_the_registry_key_by_key() {
    use lonceng_desktop::platform::{policy, POLICY_KEY};
    use windows_registry::CURRENT_USER;
    let _serial = serial();
    let _ = CURRENT_USER.remove_tree(POLICY_KEY);
    assert_eq!(policy(), lonceng_desktop::policy::Loaded::default(), "no key, no policy");
    let key = CURRENT_USER.create(POLICY_KEY).expect("the policy key");
    key.set_string("server_url", "https://lonceng.example.co.id").unwrap();
    key.set_string("Lang", "id").unwrap();
    key.set_u32("autostart", 0).unwrap();
    key.set_multi_string("muted", &["reminder", "mention"]).unwrap();
    key.set_string("sound", "loud").unwrap();
    key.set_u32("colour", 3).unwrap();
    let loaded = policy();
    let _ = CURRENT_USER.remove_tree(POLICY_KEY);
    assert_eq!(loaded.locked(), ["server_url", "lang", "autostart", "muted"], "{loaded:?}");
    assert_eq!(loaded.policy.autostart, Some(false));
    assert!(loaded.source.as_deref().is_some_and(|s| s.contains(r"HKCU\Software\Policies\Lonceng")));
    let problems = loaded.problems.join("\n");
    assert!(problems.contains("sound: ") && problems.contains("colour: "), "{problems}");
}
