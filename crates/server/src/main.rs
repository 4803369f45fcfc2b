//! `lonceng-server`: the reference Notification Center API.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use lonceng_domain::clock::SystemClock;
use lonceng_server::backend::{is_postgres_url, Backend};
use lonceng_server::bridge::CrmConfig;
use lonceng_server::db::AuditQuery;
use lonceng_server::service::signin::OidcConfig;
use lonceng_server::service::{Actor, Service};
use lonceng_server::{demo, new_secret, start, Config};

#[derive(Parser)]
#[command(version, about = "The reference Lonceng Notification Center server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "LONCENG_LISTEN")]
    listen: String,
    /// Connections the kernel holds for the server before it accepts them. After a restart every
    /// desktop reconnects at once; with a short queue the rest wait a second for the SYN retry. The
    /// kernel caps it at net.core.somaxconn (docs/DEPLOY.md).
    #[arg(long, default_value_t = 4096, env = "LONCENG_LISTEN_BACKLOG")]
    listen_backlog: u32,
    /// Log lines as text, or as JSON objects (one per line, with the request's id) for a log
    /// collector.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "LONCENG_LOG_FORMAT")]
    log_format: LogFormat,
    /// The database: a SQLite file, or a PostgreSQL URL (postgres://user@host/db) that several
    /// server nodes share. Omit with --demo for an in-memory database.
    #[arg(long, env = "LONCENG_DB", value_name = "FILE|URL")]
    db: Option<String>,
    /// Token producers use for POST /v1/events (generated and printed if absent).
    #[arg(long, env = "LONCENG_PRODUCER_TOKEN", hide_env_values = true)]
    producer_token: Option<String>,
    /// Token for /v1/admin/* (generated and printed if absent).
    #[arg(long, env = "LONCENG_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// A file holding the producer token: kept off the command line, where other users could read
    /// it (the package's systemd unit passes it as a credential).
    #[arg(long, env = "LONCENG_PRODUCER_TOKEN_FILE", value_name = "FILE", conflicts_with = "producer_token")]
    producer_token_file: Option<PathBuf>,
    /// A file holding the admin token.
    #[arg(long, env = "LONCENG_ADMIN_TOKEN_FILE", value_name = "FILE", conflicts_with = "admin_token")]
    admin_token_file: Option<PathBuf>,
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
    /// Where a Qontak room opens in the web chat; `{room_id}` is replaced.
    #[arg(long, env = "LONCENG_QONTAK_ROOM_URL", default_value = lonceng_server::QONTAK_ROOM_URL)]
    qontak_room_url: String,
    /// The Mekari API for the CRM bridge: https://api.mekari.com (production) or
    /// https://api.mekari.io (staging). With the client id and secret, the bridge polls the CRM for
    /// every agent linked to a CRM SSO user id.
    #[arg(long, env = "LONCENG_CRM_BASE_URL", value_name = "URL")]
    crm_base_url: Option<String>,
    /// The company's Mekari HMAC username (client id).
    #[arg(long, env = "LONCENG_CRM_CLIENT_ID", value_name = "ID")]
    crm_client_id: Option<String>,
    /// A file holding the company's Mekari HMAC secret (or set LONCENG_CRM_CLIENT_SECRET); never
    /// on the command line, where other users could read it.
    #[arg(long, env = "LONCENG_CRM_CLIENT_SECRET_FILE", value_name = "FILE")]
    crm_client_secret_file: Option<PathBuf>,
    /// Requests per minute the bridge may make to the CRM, for the whole organisation.
    #[arg(long, env = "LONCENG_CRM_BUDGET", default_value_t = 300)]
    crm_budget: u32,
    /// Seconds between two polls of one agent's notifications.
    #[arg(long, env = "LONCENG_CRM_POLL_SECONDS", default_value_t = 60)]
    crm_poll_seconds: u64,
    /// The organisation's OpenID Connect identity provider (its issuer URL): agents sign in through
    /// it instead of pasting tokens. Needs --oidc-client-id, the client secret and --public-url.
    #[arg(long, env = "LONCENG_OIDC_ISSUER", value_name = "URL")]
    oidc_issuer: Option<String>,
    /// This server's client id at the identity provider.
    #[arg(long, env = "LONCENG_OIDC_CLIENT_ID", value_name = "ID")]
    oidc_client_id: Option<String>,
    /// A file holding the client secret (or set LONCENG_OIDC_CLIENT_SECRET); never on the command
    /// line, where other users could read it.
    #[arg(long, env = "LONCENG_OIDC_CLIENT_SECRET_FILE", value_name = "FILE")]
    oidc_client_secret_file: Option<PathBuf>,
    /// How browsers and the identity provider reach this server (https://notifications.example.com);
    /// register {URL}/v1/auth/callback as the redirect URI at the identity provider.
    #[arg(long, env = "LONCENG_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Email domains admitted to sign in (repeat or separate with commas); none admits everyone the
    /// identity provider vouches for.
    #[arg(
        long = "oidc-allowed-domain",
        env = "LONCENG_OIDC_ALLOWED_DOMAINS",
        value_delimiter = ',',
        value_name = "DOMAIN"
    )]
    oidc_allowed_domains: Vec<String>,
    /// A group a person must be in to sign in, read from the ID token's groups claim.
    #[arg(long, env = "LONCENG_OIDC_REQUIRED_GROUP", value_name = "GROUP")]
    oidc_required_group: Option<String>,
    /// The group (in the same claim) whose people may use the admin console at /admin.
    #[arg(long, env = "LONCENG_OIDC_ADMIN_GROUP", value_name = "GROUP")]
    oidc_admin_group: Option<String>,
    /// The ID token claim that lists a person's groups.
    #[arg(long, env = "LONCENG_OIDC_GROUPS_CLAIM", default_value = "groups", value_name = "CLAIM")]
    oidc_groups_claim: String,
    /// Scopes to ask for besides openid, email and profile (e.g. groups).
    #[arg(long = "oidc-scope", env = "LONCENG_OIDC_SCOPES", value_delimiter = ',', value_name = "SCOPE")]
    oidc_scopes: Vec<String>,
    /// A proxy whose X-Forwarded-For names the client, for the audit trail's addresses (repeat or
    /// separate with commas); by default a proxy on this host (127.0.0.1, ::1).
    #[arg(long = "trusted-proxy", env = "LONCENG_TRUSTED_PROXIES", value_delimiter = ',', value_name = "IP")]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Minutes a device's access token lasts before the app renews it.
    #[arg(long, env = "LONCENG_ACCESS_TOKEN_MINUTES", default_value_t = 60)]
    access_token_minutes: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
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
    /// The secrets of the Qontak webhook URL.
    QontakSecret {
        #[command(subcommand)]
        action: SecretAction,
    },
    /// Link a user to their Qontak Omnichannel agent id and CRM SSO user id.
    LinkAgent {
        #[arg(long)]
        user: String,
        #[arg(long)]
        agent_id: Option<String>,
        #[arg(long)]
        crm_sso_id: Option<String>,
    },
    /// Import agents from a CSV file (columns: email, name, qontak_agent_id, crm_sso_id), so that
    /// each is linked to their Qontak agent when they first sign in.
    ImportAgents {
        file: PathBuf,
        /// Only show what would be imported.
        #[arg(long)]
        dry_run: bool,
    },
    /// A user's devices, and signing them out.
    Devices {
        #[command(subcommand)]
        action: DeviceAction,
    },
    /// Disable a user (every device signed out, sign-in refused), or enable them again.
    DisableUser {
        user: String,
        #[arg(long)]
        enable: bool,
    },
    /// The audit trail of sign-ins and admin actions, newest first.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Only what this actor did (admin, user:<id>, server).
        #[arg(long)]
        actor: Option<String>,
        /// Only this kind of entry (sign_in, sign_in_refused, device_revoked, …).
        #[arg(long)]
        action: Option<String>,
    },
    /// The agents in the import's CSV format (import-agents reads it back), on standard output.
    ExportAgents,
    /// Write the manual pages (lonceng-server.1, lonceng-admin.8) into DIR: packaging.
    #[command(hide = true)]
    Manpages { dir: PathBuf },
}

#[derive(Subcommand)]
enum DeviceAction {
    /// List a user's devices.
    List { user: String },
    /// Sign out one device of a user, or all of them (--all).
    Revoke {
        user: String,
        device: Option<String>,
        #[arg(long, conflicts_with = "device")]
        all: bool,
    },
}

#[derive(Subcommand)]
enum SecretAction {
    /// Create a secret and print the webhook path to register with Qontak (shown this once).
    Create,
    /// List the secrets (never the secrets themselves).
    List,
    /// Replace a secret; the old one keeps working for 24 hours.
    Rotate { id: String },
}

/// The CRM bridge's settings, when all of them are given.
fn crm_config(cli: &Cli) -> anyhow::Result<Option<CrmConfig>> {
    let (Some(base_url), Some(client_id)) = (&cli.crm_base_url, &cli.crm_client_id) else {
        return Ok(None);
    };
    let client_secret = match (&cli.crm_client_secret_file, std::env::var("LONCENG_CRM_CLIENT_SECRET")) {
        (Some(file), _) => std::fs::read_to_string(file)
            .with_context(|| format!("reading the CRM client secret from {}", file.display()))?
            .trim()
            .to_owned(),
        (None, Ok(secret)) => secret,
        (None, Err(_)) => anyhow::bail!(
            "the CRM bridge needs the client secret: --crm-client-secret-file or LONCENG_CRM_CLIENT_SECRET"
        ),
    };
    anyhow::ensure!(
        lonceng_domain::model::is_web_url(base_url),
        "--crm-base-url '{base_url}' is not an http(s) address"
    );
    Ok(Some(CrmConfig {
        base_url: base_url.clone(),
        client_id: client_id.clone(),
        client_secret,
        budget_per_minute: cli.crm_budget.max(1),
        poll_interval: Duration::from_secs(cli.crm_poll_seconds.max(5)),
    }))
}

/// Runs an administrative command on the database and prints its result.
async fn administer(service: &Service<Backend>, command: &Command) -> anyhow::Result<()> {
    match command {
        Command::IssueToken { user, device } => {
            println!("{}", service.issue_token(user, device).await.context("issuing a token")?)
        }
        Command::QontakSecret { action: SecretAction::Create } => {
            let s = service.create_webhook_secret().await.context("creating a webhook secret")?;
            println!("id: {}\nregister with Qontak: https://<this server>{}", s.id, s.path);
        }
        Command::QontakSecret { action: SecretAction::List } => {
            for s in service.webhook_secrets().await.context("listing webhook secrets")? {
                let used = s.last_used_at.map_or("never".to_owned(), |t| t.to_rfc3339());
                println!("{}  created {}  last used {used}", s.id, s.created_at.to_rfc3339());
            }
        }
        Command::QontakSecret { action: SecretAction::Rotate { id } } => {
            let s = service.rotate_webhook_secret(id).await.context("rotating the webhook secret")?;
            let until = s.previous_valid_until.map(|t| t.to_rfc3339()).unwrap_or_default();
            println!(
                "id: {}\nregister with Qontak: https://<this server>{}\nthe old URL works until {until}",
                s.id, s.path
            );
        }
        Command::LinkAgent { user, agent_id, crm_sso_id } => {
            let l = service
                .link_agent(user, agent_id.clone(), crm_sso_id.clone())
                .await
                .context("linking the agent")?;
            println!("{}: agent {:?}, CRM SSO {:?}", l.user_id, l.agent_id, l.crm_sso_id);
        }
        Command::ImportAgents { file, dry_run } => {
            let text =
                std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
            let report = service
                .import_agents(&Actor::admin(None), &text, *dry_run)
                .await
                .context("importing agents")?;
            for row in &report.rows {
                match &row.error {
                    Some(e) => println!("line {}: {}: {e}", row.line, row.email),
                    None => println!(
                        "line {}: {} → {}",
                        row.line,
                        row.email,
                        row.user_id.as_deref().unwrap_or("(new)")
                    ),
                }
            }
            let verb = if report.dry_run { "would be imported" } else { "imported" };
            println!("{} {verb}, {} in error", report.imported, report.errors);
        }
        Command::Devices { action: DeviceAction::List { user } } => {
            for d in service.devices(user).await.context("listing devices")? {
                let seen = d.last_seen_at.map_or("never".to_owned(), |t| t.to_rfc3339());
                let state =
                    d.revoked_at.map_or("active".to_owned(), |t| format!("signed out {}", t.to_rfc3339()));
                println!(
                    "{}  {} ({} {})  last seen {seen} from {}  {state}",
                    d.id,
                    d.name,
                    d.os,
                    d.app_version,
                    d.last_address.as_deref().unwrap_or("-")
                );
            }
        }
        Command::Devices { action: DeviceAction::Revoke { user, device, all } } => {
            anyhow::ensure!(device.is_some() || *all, "name a device, or give --all");
            let revoked = service
                .revoke_devices(&Actor::admin(None), user, device.as_deref())
                .await
                .context("signing the device out")?;
            println!(
                "signed out: {}",
                if revoked.is_empty() { "none (already)".into() } else { revoked.join(", ") }
            );
        }
        Command::DisableUser { user, enable } => {
            let revoked = service
                .set_disabled(&Actor::admin(None), user, !enable)
                .await
                .context("changing the user")?;
            let what = if *enable { "enabled" } else { "disabled" };
            println!("{user} {what}; {} device(s) signed out", revoked.len());
        }
        Command::ExportAgents => {
            print!("{}", service.export_agents_csv().await.context("exporting the agents")?);
        }
        // Answered before any database is opened.
        Command::Manpages { .. } => {}
        Command::Audit { limit, actor, action } => {
            let query =
                AuditQuery { actor: actor.clone(), action: action.clone(), before: None, limit: *limit };
            for a in service.audit(query).await.context("reading the audit trail")? {
                let from = a.address.as_deref().unwrap_or("-");
                println!(
                    "{}  {}  {}  {}  {from}  {}",
                    a.at.to_rfc3339(),
                    a.actor,
                    a.action,
                    a.target,
                    a.detail
                );
            }
        }
    }
    Ok(())
}

/// The OpenID Connect set-up, when an issuer is given.
fn oidc_config(cli: &Cli) -> anyhow::Result<Option<OidcConfig>> {
    let Some(issuer) = &cli.oidc_issuer else { return Ok(None) };
    let client_id = cli.oidc_client_id.clone().context("--oidc-issuer needs --oidc-client-id")?;
    let public_url = cli
        .public_url
        .clone()
        .context("--oidc-issuer needs --public-url (how browsers reach this server)")?;
    anyhow::ensure!(
        lonceng_domain::model::is_web_url(&public_url),
        "--public-url '{public_url}' is not an http(s) address"
    );
    let client_secret = match (&cli.oidc_client_secret_file, std::env::var("LONCENG_OIDC_CLIENT_SECRET")) {
        (Some(file), _) => std::fs::read_to_string(file)
            .with_context(|| format!("reading the OpenID client secret from {}", file.display()))?
            .trim()
            .to_owned(),
        (None, Ok(secret)) => secret,
        (None, Err(_)) => anyhow::bail!(
            "--oidc-issuer needs the client secret: --oidc-client-secret-file or LONCENG_OIDC_CLIENT_SECRET"
        ),
    };
    Ok(Some(OidcConfig {
        issuer: issuer.clone(),
        client_id,
        client_secret,
        public_url,
        allowed_domains: cli
            .oidc_allowed_domains
            .iter()
            .map(|d| d.trim().to_lowercase())
            .filter(|d| !d.is_empty())
            .collect(),
        required_group: cli.oidc_required_group.clone().filter(|g| !g.is_empty()),
        admin_group: cli.oidc_admin_group.clone().filter(|g| !g.is_empty()),
        groups_claim: cli.oidc_groups_claim.clone(),
        extra_scopes: cli.oidc_scopes.iter().filter(|s| !s.is_empty()).cloned().collect(),
        clock_skew: chrono::Duration::seconds(60),
        access_lifetime: chrono::Duration::minutes(i64::from(cli.access_token_minutes.clamp(1, 24 * 60))),
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Manpages { dir }) = &cli.command {
        return lonceng_server::manpages::write(Cli::command(), dir)
            .with_context(|| format!("writing the manual pages into {}", dir.display()));
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,lonceng_server::access=warn".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match cli.log_format {
        // The request's span (its id, method and path) on every line it causes.
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).init(),
        LogFormat::Text => logs.init(),
    }
    let db = match (&cli.db, cli.demo) {
        (Some(db), _) => {
            Backend::open(db).await.with_context(|| format!("opening the database {}", shown(db)))?
        }
        (None, true) => Backend::in_memory().context("opening an in-memory database")?,
        (None, false) => {
            anyhow::bail!("give --db <file or postgres:// URL> (or --demo for an in-memory demo)")
        }
    };

    let producer = token(&cli.producer_token, &cli.producer_token_file, "producer")?;
    let admin = token(&cli.admin_token, &cli.admin_token_file, "admin")?;
    let (producer, admin) = if cli.demo {
        (
            producer.unwrap_or_else(|| demo::PRODUCER_TOKEN.into()),
            admin.unwrap_or_else(|| demo::ADMIN_TOKEN.into()),
        )
    } else if cli.command.is_some() {
        // An administrative command does not serve the API: its tokens are never used.
        (producer.unwrap_or_default(), admin.unwrap_or_default())
    } else {
        let p = producer.unwrap_or_else(|| announce_generated("producer", new_secret()));
        let a = admin.unwrap_or_else(|| announce_generated("admin", new_secret()));
        (p, a)
    };
    let mut config = Config::new(producer, admin);
    config.streaming = !cli.no_streaming;
    config.resend_every = cli.resend_every;
    config.keep_alive = Duration::from_secs(cli.keep_alive.max(1));
    config.cors_origins = cli.cors_origins.clone();
    config.qontak_room_url = cli.qontak_room_url.clone();
    config.crm = crm_config(&cli)?;
    config.oidc = oidc_config(&cli)?;
    if !cli.trusted_proxies.is_empty() {
        config.trusted_proxies = cli.trusted_proxies.clone();
    }
    if !cli.link_hosts.is_empty() {
        config.links = lonceng_domain::link::UrlPolicy { hosts: cli.link_hosts.clone() };
    }

    if let Some(command) = &cli.command {
        // Works beside a running server: only the database is touched.
        let service =
            Service::new(db, config, Arc::new(SystemClock)).await.context("opening the server state")?;
        return administer(&service, command).await;
    }

    let listener = lonceng_server::listen(&cli.listen, cli.listen_backlog)
        .await
        .with_context(|| format!("listening on {}", cli.listen))?;
    let running = if cli.demo {
        let (running, qontak) =
            demo::start(db, config, Arc::new(SystemClock), listener).await.context("starting the demo")?;
        for (id, name, token) in demo::AGENTS {
            tracing::info!("demo agent {name} ({id}): token {token}");
        }
        tracing::info!("simulated Qontak: CRM at {}, webhooks to {}", qontak.crm.url(), qontak.webhook_url);
        let pace = Duration::from_secs_f64(cli.demo_pace.max(0.05));
        tokio::spawn(demo::simulate(running.service.clone(), qontak, pace, None));
        running
    } else {
        start(db, config, Arc::new(SystemClock), listener).await.context("starting the server")?
    };
    tracing::info!("Lonceng server listening on {}", running.url());

    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

/// A token given on the command line or in the environment, or read from a file (trimmed; an
/// empty file is a mistake, not an empty token).
fn token(given: &Option<String>, file: &Option<PathBuf>, what: &str) -> anyhow::Result<Option<String>> {
    let Some(file) = file else { return Ok(given.clone()) };
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the {what} token from {}", file.display()))?;
    let token = text.trim();
    anyhow::ensure!(!token.is_empty(), "the {what} token file {} is empty", file.display());
    Ok(Some(token.to_owned()))
}

/// The database as logs may show it: a URL's password is left out.
fn shown(db: &str) -> String {
    if !is_postgres_url(db) {
        return db.to_owned();
    }
    match url::Url::parse(db) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("…"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(a PostgreSQL URL that does not parse)".to_owned(),
    }
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
