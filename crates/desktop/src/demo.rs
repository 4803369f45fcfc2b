//! Demo mode (built with the `demo` feature): the reference server runs inside the app on a
//! loopback port with three simulated agents and a simulated Qontak (webhooks to its intake, a CRM
//! its bridge polls), and the app signs in as the first. The release app
//! is built without it, so it does not link the whole server.

use std::sync::Arc;
use std::time::Duration;

use lonceng_domain::clock::Clock;
use lonceng_server::sqlite::SqliteDb;
use lonceng_server::{demo, Config, Running};

use crate::error::AppError;

/// The embedded server while the demo runs.
pub struct DemoServer(Running<SqliteDb>);

impl DemoServer {
    /// Starts the server with simulated activity every `pace` (stopping after `events`, if given);
    /// returns it with the URL and token to sign in with.
    pub async fn start(
        clock: Arc<dyn Clock>,
        pace: Duration,
        events: Option<u64>,
    ) -> Result<(DemoServer, String, String), AppError> {
        let failed =
            |what: &str, e: &dyn std::fmt::Display| AppError::Store(format!("the demo server {what}: {e}"));
        let listener =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| failed("cannot listen", &e))?;
        let db = SqliteDb::in_memory().map_err(|e| failed("has no database", &e))?;
        let config = Config::new(demo::PRODUCER_TOKEN, demo::ADMIN_TOKEN);
        let (running, qontak) =
            demo::start(db, config, clock, listener).await.map_err(|e| failed("did not start", &e))?;
        tokio::spawn(demo::simulate(running.service.clone(), qontak, pace, events));
        let url = running.url();
        // Where to try the admin console and API on the demo's data (a loopback port).
        tracing::info!(%url, admin_token = demo::ADMIN_TOKEN, "the demo server listens at {url}");
        Ok((DemoServer(running), url, demo::AGENTS[0].2.to_owned()))
    }

    pub async fn stop(self) {
        self.0.stop().await;
    }
}
