//! The wake-up between nodes: one connection per node does `LISTEN lonceng`, and what arrives is
//! handed to the service as [`Signal`]s. A notification carries the user and sequence only (or a
//! presence report, or a maintenance change); the data stays in the tables.
//!
//! When the listening connection drops (PostgreSQL restarted, the network blinked) notifications
//! sent meanwhile are lost: after every (re)connection the listener sends [`Signal::Resync`], and
//! every stream reads its feed again from its cursor. Nothing is lost, at the cost of one query per
//! open stream per reconnection.

use std::time::Duration;

use futures_util::StreamExt;
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};
use tokio_postgres::{AsyncMessage, NoTls};
use tokio_util::sync::CancellationToken;

use super::CHANNEL;
use crate::db::{DbError, DbResult, Signal};

/// PostgreSQL refuses notifications of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7999;

#[derive(Serialize, Deserialize)]
struct Envelope {
    node: String,
    signal: Signal,
}

/// A signal as a notification's payload.
pub(super) fn payload(node: &str, signal: &Signal) -> DbResult<String> {
    let json = serde_json::to_string(&Envelope { node: node.to_owned(), signal: signal.clone() })
        .map_err(|e| DbError::Decode(e.to_string()))?;
    if json.len() > MAX_PAYLOAD {
        return Err(DbError::Decode(format!("a signal of {} bytes does not fit a notification", json.len())));
    }
    Ok(json)
}

/// Listens until `stop`, reconnecting with a growing, jittered delay (up to 5 s).
pub(super) async fn run(
    config: tokio_postgres::Config,
    signals: broadcast::Sender<Signal>,
    node: String,
    stop: CancellationToken,
) {
    let mut delay = Duration::from_millis(100);
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (tx, mut rx) = mpsc::unbounded_channel();
                // The connection delivers notifications only while it is polled.
                let driver = tokio::spawn(async move {
                    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(m) = messages.next().await {
                        match m {
                            Ok(AsyncMessage::Notification(n)) => {
                                if tx.send(n.payload().to_owned()).is_err() {
                                    break;
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "the database listener's connection failed");
                                break;
                            }
                        }
                    }
                });
                match client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    Ok(()) => {
                        delay = Duration::from_millis(100);
                        tracing::info!("listening to the other nodes");
                        let _ = signals.send(Signal::Resync);
                        loop {
                            tokio::select! {
                                _ = stop.cancelled() => { driver.abort(); return; }
                                p = rx.recv() => match p {
                                    Some(p) => deliver(&p, &node, &signals),
                                    None => break,
                                },
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "LISTEN failed"),
                }
                driver.abort();
            }
            Err(e) => tracing::warn!(error = %e, "the database listener cannot connect; retrying"),
        }
        // Jittered, so that nodes do not reconnect in step after PostgreSQL restarts.
        let wait = delay.mul_f64(rand::rng().random_range(0.5..1.5));
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// Hands on a signal. This node's own presence and maintenance were acted on when they were made;
/// its own changes are handed on too, in case the request that committed them ended before it
/// published (the hub skips what it has published already).
fn deliver(payload: &str, node: &str, signals: &broadcast::Sender<Signal>) {
    match serde_json::from_str::<Envelope>(payload) {
        Ok(e) if e.node == node && !matches!(e.signal, Signal::Changed { .. }) => {}
        Ok(e) => {
            // No receiver: the service has not subscribed yet (or is stopping).
            let _ = signals.send(e.signal);
        }
        Err(e) => {
            tracing::warn!(error = %e, len = payload.len(), "a notification that is not a signal was ignored")
        }
    }
}
