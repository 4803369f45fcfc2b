//! A notification server for the GUI suites: it owns `org.freedesktop.Notifications` on the
//! session bus, offers buttons and sounds (GetCapabilities), prints every Notify and
//! CloseNotification as one JSON line on standard output, and presses a toast's button when a test
//! asks it to (`gdbus call … --method org.lonceng.Recorder.Invoke ID KEY`), as the agent would.
//! dunst cannot be driven like that, and what the app sent (actions, sound hints) is what the
//! tests check.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use serde_json::json;
use zbus::object_server::SignalEmitter;

const PATH: &str = "/org/freedesktop/Notifications";

#[derive(Clone, Default)]
struct Server {
    next: Arc<AtomicU32>,
}

fn print(line: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, zbus::OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        let id = if replaces_id != 0 { replaces_id } else { self.next.fetch_add(1, Ordering::SeqCst) + 1 };
        let suppress = hints.get("suppress-sound").and_then(|v| bool::try_from(v.clone()).ok());
        let sound_name = hints.get("sound-name").and_then(|v| String::try_from(v.clone()).ok());
        print(json!({
            "call": "notify", "id": id, "app": app_name, "replaces": replaces_id, "summary": summary,
            "body": body, "actions": actions, "suppress_sound": suppress, "sound_name": sound_name,
        }));
        id
    }

    async fn close_notification(&self, id: u32) {
        print(json!({ "call": "close", "id": id }));
    }

    fn get_capabilities(&self) -> Vec<String> {
        ["actions", "body", "body-markup", "sound"].map(String::from).to_vec()
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("notification-recorder".into(), "lonceng-tests".into(), "1".into(), "1.2".into())
    }

    #[zbus(signal)]
    async fn action_invoked(emitter: &SignalEmitter<'_>, id: u32, action_key: &str) -> zbus::Result<()>;
}

/// The test's hand on the toasts.
struct Hand;

#[zbus::interface(name = "org.lonceng.Recorder")]
impl Hand {
    /// Presses the button `key` ("default" for a click on the toast) of toast `id`.
    async fn invoke(
        &self,
        #[zbus(connection)] conn: &zbus::Connection,
        id: u32,
        key: String,
    ) -> zbus::fdo::Result<()> {
        let emitter = SignalEmitter::new(conn, PATH).map_err(|e| zbus::fdo::Error::Failed(e.to_string()))?;
        Server::action_invoked(&emitter, id, &key)
            .await
            .map_err(|e| zbus::fdo::Error::Failed(e.to_string()))?;
        print(json!({ "call": "invoked", "id": id, "key": key }));
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let _conn = zbus::connection::Builder::session()
        .name("org.freedesktop.Notifications")
        .serve_at(PATH, Server::default())
        .serve_at(PATH, Hand)
        .build()
        .await?;
    print(json!({ "call": "ready" }));
    std::future::pending::<()>().await;
    Ok(())
}
