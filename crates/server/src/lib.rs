//! The reference Lonceng Notification Center server.
//!
//! Producers post domain events; the server applies the rules of `lonceng_domain::rules` (NC-R1,
//! NC-R2, NC-R4), stores notifications per user (NC-R3), appends every change to the user's feed and
//! fans it out to the user's open streams. Maintenance (the maintenance seed) makes client routes
//! answer 503 with `Retry-After` while producer events queue up; when it ends the queue is delivered
//! late, optionally re-sending some items on purpose so that clients prove they dedupe (MW-4) and
//! stay quiet (MW-5).
//!
//! Rooms: [`service`] (what the server does, and "commit, then publish", with the Qontak webhook
//! intake), [`api`] (HTTP over the service), [`db`] (the storage trait) with [`sqlite`] (the embedded
//! backend) and [`postgres`] (several nodes on one database), chosen by [`backend`]; [`hub`] (fan-out
//! to this node's open streams), [`presence`], [`bridge`] (polling the Qontak CRM for
//! linked agents), [`crm_standin`] (a stand-in for the Mekari gateway), [`demo`] (simulated activity
//! through the real paths).
//!
//! [`start`] binds the API to a listener and returns a [`Running`] handle whose `stop` shuts it down
//! gracefully, streams included; tests start it on port 0.

pub mod api;
pub mod backend;
pub mod bridge;
pub mod crm_standin;
pub mod db;
pub mod demo;
pub mod hub;
pub mod manpages;
pub mod metrics;
pub mod postgres;
pub mod presence;
pub mod service;
pub mod sqlite;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use lonceng_domain::clock::Clock;
use lonceng_domain::link::UrlPolicy;
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::db::Database;
use crate::service::{Service, ServiceError};

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub producer_token: String,
    pub admin_token: String,
    /// SSE keep-alive comment interval.
    pub keep_alive: StdDuration,
    /// How long a presence report counts.
    pub presence_ttl: Duration,
    /// How often maintenance windows, the queue and retention are checked.
    pub tick: StdDuration,
    /// After maintenance, re-send every n-th delivered item (0: never).
    pub resend_every: u32,
    /// Whether `GET /v1/stream` is offered (off: clients poll `GET /v1/changes`).
    pub streaming: bool,
    /// The hosts producer links may go to (the policy desktops apply when they open them).
    pub links: UrlPolicy,
    /// Web origins allowed to call the API from a browser (CORS); none by default.
    pub cors_origins: Vec<String>,
    /// Where a Qontak room opens in the web chat: `{room_id}` is replaced.
    pub qontak_room_url: String,
    /// The company's CRM credentials: with them, the CRM bridge polls for linked agents.
    pub crm: Option<bridge::CrmConfig>,
    /// ORG-1: sign-in through the organisation's identity provider (none: admins issue tokens).
    pub oidc: Option<service::signin::OidcConfig>,
    /// Proxies whose `X-Forwarded-For` names the client (the audit trail's addresses); by default
    /// a proxy on this host.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// The web chat's page of a room, unless configured otherwise.
pub const QONTAK_ROOM_URL: &str = "https://chat.qontak.com/inbox/{room_id}";

impl Config {
    pub fn new(producer_token: impl Into<String>, admin_token: impl Into<String>) -> Config {
        Config {
            producer_token: producer_token.into(),
            admin_token: admin_token.into(),
            keep_alive: StdDuration::from_secs(15),
            presence_ttl: Duration::minutes(2),
            tick: StdDuration::from_secs(1),
            resend_every: 0,
            streaming: true,
            links: UrlPolicy::default(),
            cors_origins: Vec::new(),
            qontak_room_url: QONTAK_ROOM_URL.into(),
            crm: None,
            oidc: None,
            trusted_proxies: vec![std::net::Ipv4Addr::LOCALHOST.into(), std::net::Ipv6Addr::LOCALHOST.into()],
        }
    }
}

/// The SHA-256 of a token, hex: what the database keeps.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in constant time (of their digests, so length leaks nothing either).
pub fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(given.as_bytes()), Sha256::digest(expected.as_bytes()));
    !expected.is_empty() && bool::from(a.ct_eq(&b))
}

/// A new random secret: 32 bytes, hex.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// A server that is running; [`Running::stop`] shuts it down.
pub struct Running<D> {
    pub addr: SocketAddr,
    pub service: Arc<Service<D>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl<D: Database> Running<D> {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Graceful shutdown: open streams end, in-flight requests finish.
    pub async fn stop(self) {
        self.service.shutdown.cancel();
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "server ended with an error"),
            Err(e) => tracing::warn!(error = %e, "server task failed"),
        }
    }
}

/// A listener on `addr` (resolved; the first address that binds) with a queue of `backlog`
/// connections. tokio's `TcpListener::bind` queues 128: measured, 10,000 desktops reconnecting at
/// once then took 17.8 s to get in, almost all of it SYN retries (docs/PERFORMANCE.md).
pub async fn listen(addr: &str, backlog: u32) -> std::io::Result<TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket =
            if a.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(backlog)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, format!("{addr} resolves to nothing"))
    }))
}

/// Accepts HTTP/1.1 connections until `shutdown`, then lets them finish (streams end on the same
/// token). hyper is driven directly rather than through `axum::serve` for two measured reasons (see
/// docs/PERFORMANCE.md): `axum::serve` with a `Router` rebuilds the route table for every connection
/// (about 9 KB, kept while a stream is open), and hyper's default read buffer grows to 16 KB on an idle
/// keep-alive connection; `max_buf_size(8192)` (hyper's minimum, and ample for our requests) keeps it
/// at 8 KB. Together they took an open stream from 35 KB to 15 KB. And an open stream does not stay
/// in hyper at all: once its head is written, hyper lets go of the connection and the stream goes on
/// on the socket alone (`api::stream::HandOff`), without hyper's buffers (issue 25's table).
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    // Every connection's task, waited for at shutdown (streams end on the same token).
    let connections = tokio_util::task::TaskTracker::new();
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(StdDuration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (stream, peer) = stream;
        let _ = stream.set_nodelay(true);
        // The peer's address rides along with each request (the audit trail records it); a layer
        // on the router would rebuild its route table for every connection.
        let (router, ip) = (router.clone(), peer.ip());
        let hand_off = api::stream::HandOff::default();
        let handler = hand_off.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(api::Peer(ip));
            req.extensions_mut().insert(handler.clone());
            // Boxed: hyper hands a connection back only when its futures are `Unpin`.
            Box::pin(tower_service::Service::call(&mut router.clone(), req))
        });
        let mut conn = hyper::server::conn::http1::Builder::new()
            .max_buf_size(8192)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let (shutdown, tracker) = (shutdown.clone(), connections.clone());
        connections.spawn(async move {
            // Served until hyper is done with the connection (without closing it), ending
            // gracefully on shutdown; then a stream goes on on its socket (`api::stream`).
            let served = {
                let polled = std::future::poll_fn(|cx| conn.poll_without_shutdown(cx));
                let mut polled = std::pin::pin!(polled);
                tokio::select! {
                    r = &mut polled => Some(r),
                    _ = shutdown.cancelled() => None,
                }
            };
            let served = match served {
                Some(r) => r,
                None => {
                    std::pin::Pin::new(&mut conn).graceful_shutdown();
                    std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)).await
                }
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection ended with an error");
                return;
            }
            let mut socket = conn.into_parts().io.into_inner();
            match hand_off.take() {
                // A task of its own: this one's memory is sized for hyper's connection (8 KB),
                // a stream's for what it keeps (docs/PERFORMANCE.md, issue 25).
                Some(follow) => drop(tracker.spawn(follow(socket))),
                None => {
                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut socket).await;
                }
            }
        });
    }
    connections.close();
    connections.wait().await;
    Ok(())
}

/// Acts on what the other nodes on the database signal, until shutdown. A receiver that fell behind
/// has missed signals: every stream reads its feed again.
async fn follow_other_nodes<D: Database>(
    service: Arc<Service<D>>,
    mut signals: tokio::sync::broadcast::Receiver<db::Signal>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let signal = tokio::select! {
            _ = service.shutdown.cancelled() => return,
            s = signals.recv() => match s {
                Ok(s) => s,
                Err(RecvError::Lagged(_)) => db::Signal::Resync,
                Err(RecvError::Closed) => return,
            },
        };
        if let Err(e) = service.follow(signal).await {
            tracing::warn!(error = %e, "a signal from another node could not be followed");
        }
    }
}

/// Serves the API on `listener` with periodic ticks until stopped.
pub async fn start<D: Database>(
    db: D,
    config: Config,
    clock: Arc<dyn Clock>,
    listener: TcpListener,
) -> Result<Running<D>, StartError> {
    let addr = listener.local_addr()?;
    let service = Service::new(db, config, clock).await?;
    let ticker = service.clone();
    // The first round before serving, not racing what the first requests see (a node reports
    // itself at once); the next ones a period apart.
    if let Err(e) = ticker.tick().await {
        tracing::error!(error = %e, "periodic work failed");
    }
    tokio::spawn(async move {
        let period = ticker.config.tick;
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tokio::select! {
                _ = ticker.shutdown.cancelled() => break,
                _ = interval.tick() => {
                    if let Err(e) = ticker.tick().await {
                        tracing::error!(error = %e, "periodic work failed");
                    }
                }
            }
        }
    });
    if let Some(signals) = service.signals() {
        tokio::spawn(follow_other_nodes(service.clone(), signals));
    }
    if let Some(crm) = service.config.crm.clone() {
        tokio::spawn(bridge::run(service.clone(), crm));
    }
    let task = tokio::spawn(serve(listener, api::router(service.clone()), service.shutdown.clone()));
    Ok(Running { addr, service, task })
}
