//! A real Win32 window for the Windows focus tests (`tests/windows.rs`), run under Wine in CI: it
//! opens a top-level window with the title given, brings it to the foreground, and then follows
//! commands on stdin, one per line: `front`, `minimise`, `quit`. Copied to `chrome.exe`, it is a
//! browser window as the focus probe sees one (a title and a process image name).

#[cfg(windows)]
fn main() {
    use std::io::BufRead;

    use windows::core::{w, HSTRING};
    use windows::Win32::Foundation::{HWND, LPARAM, LRESULT, WPARAM};
    use windows::Win32::System::LibraryLoader::GetModuleHandleW;
    use windows::Win32::UI::WindowsAndMessaging::{
        CreateWindowExW, DefWindowProcW, DispatchMessageW, PeekMessageW, RegisterClassW, SetForegroundWindow,
        ShowWindow, TranslateMessage, MSG, PM_REMOVE, SW_MINIMIZE, SW_RESTORE, SW_SHOW, WINDOW_EX_STYLE,
        WNDCLASSW, WS_OVERLAPPEDWINDOW,
    };

    unsafe extern "system" fn proc_(hwnd: HWND, msg: u32, w: WPARAM, l: LPARAM) -> LRESULT {
        // SAFETY: default handling of our own window's messages.
        unsafe { DefWindowProcW(hwnd, msg, w, l) }
    }

    let title = std::env::args().nth(1).unwrap_or_else(|| "Fake window".into());
    // Commands come from a reader thread; the window's thread keeps pumping messages.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line.trim().to_owned()).is_err() {
                break;
            }
        }
        let _ = tx.send("quit".into());
    });
    // SAFETY: a window of our own, used on this thread only.
    unsafe {
        let module = GetModuleHandleW(None).expect("module handle");
        let class = WNDCLASSW {
            lpfnWndProc: Some(proc_),
            hInstance: module.into(),
            lpszClassName: w!("LoncengFake"),
            ..Default::default()
        };
        RegisterClassW(&class);
        let hwnd = CreateWindowExW(
            WINDOW_EX_STYLE(0),
            w!("LoncengFake"),
            &HSTRING::from(title),
            WS_OVERLAPPEDWINDOW,
            40,
            40,
            480,
            320,
            None,
            None,
            Some(module.into()),
            None,
        )
        .expect("create the window");
        let _ = ShowWindow(hwnd, SW_SHOW);
        let _ = SetForegroundWindow(hwnd);
        println!("ready");
        loop {
            let mut msg = MSG::default();
            while PeekMessageW(&mut msg, None, 0, 0, PM_REMOVE).as_bool() {
                let _ = TranslateMessage(&msg);
                DispatchMessageW(&msg);
            }
            match rx.recv_timeout(std::time::Duration::from_millis(20)) {
                Ok(cmd) if cmd == "front" => {
                    let _ = ShowWindow(hwnd, SW_RESTORE);
                    let _ = SetForegroundWindow(hwnd);
                }
                Ok(cmd) if cmd == "minimise" => {
                    let _ = ShowWindow(hwnd, SW_MINIMIZE);
                }
                Ok(cmd) if cmd == "quit" => return,
                _ => {}
            }
        }
    }
}

#[cfg(not(windows))]
fn main() {
    eprintln!("fake_window is a Win32 test program: build it for Windows");
    std::process::exit(2);
}
