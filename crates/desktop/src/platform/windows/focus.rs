//! Is the agent in the Qontak chat right now, on Windows? The foreground window (its title, and its
//! process's image name such as `chrome.exe` in place of X11's window class), matched against the
//! same [`ChatWindowMatch`] as on Linux; a minimised foreground window is not looked at. The
//! session's lock state comes from `WM_WTSSESSION_CHANGE`, which Windows sends to a window that
//! registered with `WTSRegisterSessionNotification`: a hidden message-only window on a thread of
//! its own. A locked screen or a switched-away session (fast user switching) reads as
//! [`Focus::Locked`] (NC-R12).

use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::{Mutex, OnceLock};

use lonceng_client::toast::{ChatWindowMatch, Focus, FocusProbe};
use windows::core::{w, PWSTR};
use windows::Win32::Foundation::{CloseHandle, HWND, LPARAM, LRESULT, WPARAM};
use windows::Win32::System::LibraryLoader::GetModuleHandleW;
use windows::Win32::System::RemoteDesktop::{WTSRegisterSessionNotification, NOTIFY_FOR_THIS_SESSION};
use windows::Win32::System::Threading::{
    OpenProcess, QueryFullProcessImageNameW, PROCESS_NAME_WIN32, PROCESS_QUERY_LIMITED_INFORMATION,
};
use windows::Win32::UI::WindowsAndMessaging::{
    CreateWindowExW, DefWindowProcW, DispatchMessageW, GetForegroundWindow, GetMessageW, GetWindowTextW,
    GetWindowThreadProcessId, IsIconic, RegisterClassW, HWND_MESSAGE, MSG, WINDOW_EX_STYLE, WINDOW_STYLE,
    WM_WTSSESSION_CHANGE, WNDCLASSW, WTS_CONSOLE_CONNECT, WTS_CONSOLE_DISCONNECT, WTS_REMOTE_CONNECT,
    WTS_REMOTE_DISCONNECT, WTS_SESSION_LOCK, WTS_SESSION_UNLOCK,
};

use crate::focus::ChatFocus;

/// The session's state, as the last `WM_WTSSESSION_CHANGE` said (one session per process).
static LOCKED: AtomicBool = AtomicBool::new(false);
/// The message-only window that receives it, once it exists.
static SESSION_WINDOW: AtomicIsize = AtomicIsize::new(0);
static WATCH: OnceLock<()> = OnceLock::new();

unsafe extern "system" fn session_proc(hwnd: HWND, msg: u32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    if msg == WM_WTSSESSION_CHANGE {
        match wparam.0 as u32 {
            WTS_SESSION_LOCK | WTS_CONSOLE_DISCONNECT | WTS_REMOTE_DISCONNECT => {
                LOCKED.store(true, Ordering::SeqCst)
            }
            WTS_SESSION_UNLOCK | WTS_CONSOLE_CONNECT | WTS_REMOTE_CONNECT => {
                LOCKED.store(false, Ordering::SeqCst)
            }
            _ => {}
        }
        return LRESULT(0);
    }
    // SAFETY: the default handling of every other message of our own window.
    unsafe { DefWindowProcW(hwnd, msg, wparam, lparam) }
}

/// Starts the session watch once per process: a thread with a message-only window and its loop.
fn watch_session() {
    WATCH.get_or_init(|| {
        let spawned = std::thread::Builder::new().name("lonceng-session".into()).spawn(|| {
            // SAFETY: a window class and a window of our own, used on this thread only.
            unsafe {
                let Ok(module) = GetModuleHandleW(None) else { return };
                let class = WNDCLASSW {
                    lpfnWndProc: Some(session_proc),
                    hInstance: module.into(),
                    lpszClassName: w!("LoncengSessionWatch"),
                    ..Default::default()
                };
                RegisterClassW(&class);
                let Ok(hwnd) = CreateWindowExW(
                    WINDOW_EX_STYLE(0),
                    w!("LoncengSessionWatch"),
                    w!(""),
                    WINDOW_STYLE(0),
                    0,
                    0,
                    0,
                    0,
                    Some(HWND_MESSAGE),
                    None,
                    Some(module.into()),
                    None,
                ) else {
                    tracing::warn!("no session window: a locked screen will not hold toasts back");
                    return;
                };
                if let Err(e) = WTSRegisterSessionNotification(hwnd, NOTIFY_FOR_THIS_SESSION) {
                    tracing::warn!(error = %e, "no session notifications: a locked screen will not hold toasts back");
                }
                SESSION_WINDOW.store(hwnd.0 as isize, Ordering::SeqCst);
                let mut msg = MSG::default();
                while GetMessageW(&mut msg, None, 0, 0).as_bool() {
                    DispatchMessageW(&msg);
                }
            }
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no session watch thread");
        }
    });
}

/// The image name (`chrome.exe`) of a process, if it may be asked.
fn image_name(pid: u32) -> Option<String> {
    // SAFETY: the handle is closed before returning; the buffer outlives the call.
    unsafe {
        let process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, false, pid).ok()?;
        let mut buf = [0u16; 1024];
        let mut len = buf.len() as u32;
        let done = QueryFullProcessImageNameW(process, PROCESS_NAME_WIN32, PWSTR(buf.as_mut_ptr()), &mut len);
        let _ = CloseHandle(process);
        done.ok()?;
        let path = String::from_utf16_lossy(buf.get(..len as usize)?);
        path.rsplit(['\\', '/']).next().map(str::to_owned)
    }
}

/// The foreground window's title and process image name, unless there is none or it is minimised.
fn foreground() -> Option<(String, String)> {
    // SAFETY: read-only queries about a window handle; a stale handle only makes them fail.
    unsafe {
        let hwnd = GetForegroundWindow();
        if hwnd.is_invalid() || IsIconic(hwnd).as_bool() {
            return None;
        }
        let mut buf = [0u16; 512];
        let len = usize::try_from(GetWindowTextW(hwnd, &mut buf)).unwrap_or(0);
        let title = String::from_utf16_lossy(buf.get(..len).unwrap_or_default());
        let mut pid = 0u32;
        GetWindowThreadProcessId(hwnd, Some(&mut pid));
        Some((title, image_name(pid).unwrap_or_default()))
    }
}

/// The desktop's answer to "is the agent in the chat?", on Windows.
pub struct WindowsFocus {
    matcher: Mutex<ChatWindowMatch>,
}

impl WindowsFocus {
    pub fn new(matcher: ChatWindowMatch) -> WindowsFocus {
        watch_session();
        WindowsFocus { matcher: Mutex::new(matcher) }
    }

    /// The hidden window that receives the session's lock messages (`0` until it exists).
    pub fn session_window(&self) -> isize {
        SESSION_WINDOW.load(Ordering::SeqCst)
    }
}

impl ChatFocus for WindowsFocus {
    fn set_matcher(&self, m: ChatWindowMatch) {
        *self.matcher.lock().unwrap_or_else(|p| p.into_inner()) = m;
    }
}

impl FocusProbe for WindowsFocus {
    /// ORG-6: what Windows tells apps that should not disturb: presentation mode, a full-screen
    /// Direct3D game, quiet time. Not "busy" (any full-screen window): agents keep Citrix or the
    /// browser full screen all day, and would see no toast at all.
    fn do_not_disturb(&self) -> bool {
        use windows::Win32::UI::Shell::{
            SHQueryUserNotificationState, QUNS_PRESENTATION_MODE, QUNS_QUIET_TIME,
            QUNS_RUNNING_D3D_FULL_SCREEN,
        };
        // SAFETY: no arguments; the state comes back as the result.
        match unsafe { SHQueryUserNotificationState() } {
            Ok(state) => {
                [QUNS_RUNNING_D3D_FULL_SCREEN, QUNS_PRESENTATION_MODE, QUNS_QUIET_TIME].contains(&state)
            }
            Err(_) => false,
        }
    }

    fn focus(&self) -> Focus {
        if LOCKED.load(Ordering::SeqCst) {
            return Focus::Locked;
        }
        let matcher = self.matcher.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match foreground() {
            Some((title, image)) if matcher.matches(&title, &image) => Focus::ChatFocused,
            // Another window, none at all, or the chat minimised: not in the chat.
            _ => Focus::ChatNotFocused,
        }
    }
}
