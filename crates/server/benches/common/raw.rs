//! What the server benches share (Linux): raw-TCP SSE clients that take the kernel's receive
//! timestamps, a process's proportional set size, tokens and producer events.

use std::os::fd::AsRawFd;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

pub const PRODUCER: &str = "bench-producer";
pub const ADMIN: &str = "bench-admin";

/// A client token for `user`'s bench device.
pub async fn user_token(http: &reqwest::Client, base: &str, user: &str) -> String {
    let resp: serde_json::Value = http
        .post(format!("{base}/v1/admin/tokens"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"user_id": user, "device_id": "bench"}))
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token JSON");
    resp["token"].as_str().expect("token").to_owned()
}

/// A producer's mention of `to`.
pub fn mention(key: String, to: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "notification", "idempotency_key": key, "kind": "mention",
        "actor": {"id": "u-2", "name": "Budi"}, "recipients": [to],
        "params": {"target": "deal", "object_name": "PT Maju"},
        "url": "https://app.qontak.com/crm/deals/1", "occurred_at": chrono::Utc::now()
    })
}

/// Proportional set size of a process in KiB.
pub fn pss_kib(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).expect("smaps_rollup");
    text.lines()
        .find(|l| l.starts_with("Pss:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("Pss line")
}

/// Opens a stream; reports when its headers arrive, then the kernel receive time of every chunk that
/// carries `event: change`.
pub async fn sse_client(
    addr: String,
    path: &'static str,
    token: String,
    ready: mpsc::Sender<()>,
    arrivals: mpsc::UnboundedSender<SystemTime>,
) {
    let Ok(mut sock) = TcpStream::connect(&addr).await else { return };
    let on: libc::c_int = 1;
    // SAFETY: a valid socket and a c_int option value.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            &on as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    );
    if sock.write_all(req.as_bytes()).await.is_err() {
        return;
    }
    let mut buf = vec![0u8; 4096];
    let mut announced = false;
    loop {
        if sock.readable().await.is_err() {
            return;
        }
        let (n, at) =
            match sock.try_io(Interest::READABLE, || recv_with_timestamp(sock.as_raw_fd(), &mut buf)) {
                Ok((0, _)) => return,
                Ok(r) => r,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(_) => return,
            };
        let chunk = &buf[..n];
        if !announced && chunk.windows(4).any(|w| w == b"\r\n\r\n") {
            announced = true;
            let _ = ready.send(()).await;
        }
        if chunk.windows(13).any(|w| w == b"event: change") {
            let _ = arrivals.send(at.unwrap_or_else(SystemTime::now));
        }
    }
}

/// `recvmsg` with the kernel's receive timestamp of the data, when it reports one.
fn recv_with_timestamp(fd: i32, buf: &mut [u8]) -> std::io::Result<(usize, Option<SystemTime>)> {
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr() as *mut libc::c_void, iov_len: buf.len() };
    let mut control = [0u8; 128];
    // SAFETY: msghdr is plain data; every pointer set below outlives the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = control.len();
    // SAFETY: fd is an open socket; msg points at live buffers.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut at = None;
    // SAFETY: walking the control messages the kernel wrote into `control`.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::timespec);
                at = Some(UNIX_EPOCH + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n as usize, at))
}

pub fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
