//! `lonceng-server`: the reference Notification Center API.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use lonceng_core::clock::SystemClock;
use lonceng_server::service::Service;
use lonceng_server::sqlite::SqliteDb;
use lonceng_server::{demo, new_secret, start, Config};

#[derive(Parser)]
#[command(version, about = "The reference Lonceng Notification Center server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "LONCENG_LISTEN")]
    listen: String,
    /// SQLite database file; omit with --demo for an in-memory database.
    #[arg(long, env = "LONCENG_DB")]
    db: Option<PathBuf>,
    /// Token producers use for POST /v1/events (generated and printed if absent).
    #[arg(long, env = "LONCENG_PRODUCER_TOKEN", hide_env_values = true)]
    producer_token: Option<String>,
    /// Token for /v1/admin/* (generated and printed if absent).
    #[arg(long, env = "LONCENG_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Demo mode: demo agents with fixed tokens and simulated Qontak activity.
    #[arg(long)]
    demo: bool,
    /// Average seconds between simulated events in demo mode.
    #[arg(long, default_value_t = 4.0)]
    demo_pace: f64,
    /// Do not offer GET /v1/stream (clients poll GET /v1/changes).
    #[arg(long)]
    no_streaming: bool,
    /// After maintenance, re-send every n-th delivered item on purpose (0: never).
    #[arg(long, default_value_t = 0)]
    resend_every: u32,
    /// SSE keep-alive interval in seconds.
    #[arg(long, default_value_t = 15)]
    keep_alive: u64,
    /// A domain producer links may go to (repeat for more; default qontak.com, mekari.com,
    /// mekari.io). Links elsewhere, and IP addresses, are refused at ingest.
    #[arg(long = "link-host", env = "LONCENG_LINK_HOSTS", value_delimiter = ',', value_name = "DOMAIN")]
    link_hosts: Vec<String>,
    /// A web origin allowed to call the API from a browser (CORS), e.g. https://app.example.com;
    /// repeat for more. None by default.
    #[arg(long = "cors-origin", env = "LONCENG_CORS_ORIGINS", value_delimiter = ',', value_name = "ORIGIN")]
    cors_origins: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Issue a client token for a user's device and print it.
    IssueToken {
        #[arg(long)]
        user: String,
        #[arg(long)]
        device: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let db = match (&cli.db, cli.demo) {
        (Some(path), _) => {
            SqliteDb::open(path).with_context(|| format!("opening database {}", path.display()))?
        }
        (None, true) => SqliteDb::in_memory().context("opening an in-memory database")?,
        (None, false) => anyhow::bail!("give --db <file> (or --demo for an in-memory demo)"),
    };

    let (producer, admin) = if cli.demo {
        (
            cli.producer_token.clone().unwrap_or_else(|| demo::PRODUCER_TOKEN.into()),
            cli.admin_token.clone().unwrap_or_else(|| demo::ADMIN_TOKEN.into()),
        )
    } else {
        let p = cli.producer_token.clone().unwrap_or_else(|| announce_generated("producer", new_secret()));
        let a = cli.admin_token.clone().unwrap_or_else(|| announce_generated("admin", new_secret()));
        (p, a)
    };
    let mut config = Config::new(producer, admin);
    config.streaming = !cli.no_streaming;
    config.resend_every = cli.resend_every;
    config.keep_alive = Duration::from_secs(cli.keep_alive.max(1));
    config.cors_origins = cli.cors_origins.clone();
    if !cli.link_hosts.is_empty() {
        config.links = lonceng_core::link::UrlPolicy { hosts: cli.link_hosts.clone() };
    }

    if let Some(Command::IssueToken { user, device }) = &cli.command {
        // Works beside a running server: only the database is touched.
        let service =
            Service::new(db, config, Arc::new(SystemClock)).await.context("opening the server state")?;
        println!("{}", service.issue_token(user, device).await.context("issuing a token")?);
        return Ok(());
    }

    let listener = tokio::net::TcpListener::bind(&cli.listen)
        .await
        .with_context(|| format!("listening on {}", cli.listen))?;
    let running = start(db, config, Arc::new(SystemClock), listener).await.context("starting the server")?;

    tracing::info!("Lonceng server listening on {}", running.url());
    if cli.demo {
        demo::seed(&running.service).await.context("seeding the demo")?;
        for (id, name, token) in demo::AGENTS {
            tracing::info!("demo agent {name} ({id}): token {token}");
        }
        tokio::spawn(demo::simulate(
            running.service.clone(),
            Duration::from_secs_f64(cli.demo_pace.max(0.05)),
            None,
        ));
    }

    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

fn announce_generated(what: &str, token: String) -> String {
    tracing::warn!("no {what} token given; generated one for this run: {token}");
    token
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
