//! The CRM bridge: the server holds the company's Mekari HMAC credentials (never sent to desktops)
//! and polls the Qontak CRM notifications API for every agent linked to a CRM SSO user id, so that
//! General and Approval items reach desktops over the stream like any other change.
//!
//! - Read state follows the agent both ways (NC-R13): a read in Lonceng is sent to the CRM item by
//!   item (the CRM's own mark-all is not scoped: NC-R6); a read in the Qontak web is read here on
//!   the next poll, and desktops withdraw its toast.
//! - Polite: every request takes a token from one bucket of `budget_per_minute` for the
//!   organisation; agents are polled every `poll_interval` with ±20 % jitter; `429` / `503` pause the
//!   whole bridge for their `Retry-After` (capped at 6 h, 60 s when absent); a refused signature
//!   pauses it 5 minutes (every agent would fail alike); an SSO id the CRM does not know backs off
//!   that agent alone.
//! - Each agent's last success, last error and back-off are kept for `GET /v1/admin/qontak/agents`,
//!   the bridge's budget and pause for `GET /v1/admin/qontak/bridge` (the console's Qontak page).
//!
//! The bridge reaches the rest of the server only through [`CrmHost`] (the service implements it),
//! so the service can hold the bridge's state without the two depending on each other.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Display;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lonceng_domain::clock::Clock;
use lonceng_domain::crm::client::{CrmClient, CrmError, CrmRefusal};
use lonceng_domain::crm::Credentials;
use lonceng_domain::model::Notification;
use lonceng_domain::net::{RetryAfter, SourceError};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::db::AgentLink;

/// Pages read per poll (the newest first); older items were read by earlier polls.
const PAGES_PER_POLL: u32 = 5;
/// Reads sent to the CRM per agent per round.
const READS_PER_ROUND: usize = 50;
const DEFAULT_PAUSE: Duration = Duration::from_secs(60);
const SIGNATURE_PAUSE: Duration = Duration::from_secs(300);
const AGENT_BACKOFF: Duration = Duration::from_secs(600);
const RELINK_EVERY: Duration = Duration::from_secs(60);

/// The company's CRM credentials and how politely to use them.
#[derive(Clone)]
pub struct CrmConfig {
    /// `https://api.mekari.com` (production) or `https://api.mekari.io` (staging).
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// Requests per minute for the whole organisation.
    pub budget_per_minute: u32,
    pub poll_interval: Duration,
}

impl std::fmt::Debug for CrmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrmConfig")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"…")
            .field("budget_per_minute", &self.budget_per_minute)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

/// One agent's polling, as an admin sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStatus {
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Requests made for this agent since the server started.
    pub requests: u64,
    /// This agent is not polled before this (an SSO id the CRM does not know backs off).
    pub backoff_until: Option<DateTime<Utc>>,
}

/// The bridge as a whole, as an admin sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeStatus {
    /// The CRM credentials are set: the bridge polls.
    pub configured: bool,
    /// The organisation's request budget.
    pub budget_per_minute: Option<u32>,
    pub poll_interval_seconds: Option<u64>,
    /// Every agent waits until then (the CRM asked to slow down, or refused the signature).
    pub paused_until: Option<DateTime<Utc>>,
    pub pause_reason: Option<String>,
}

/// What the bridge needs of the server: its state, its clock and shutdown, the linked agents, and
/// the way CRM items and reads come in and go out (each commits, then publishes).
pub trait CrmHost: Send + Sync + 'static {
    type Error: Display + Send;

    fn bridge(&self) -> &Bridge;
    fn clock(&self) -> &Arc<dyn Clock>;
    fn shutdown(&self) -> &CancellationToken;
    fn agent_links(&self) -> impl Future<Output = Result<Vec<AgentLink>, Self::Error>> + Send;
    /// CRM items of `user` read in Lonceng whose read the CRM has not been told of.
    fn crm_unsent_reads(
        &self,
        user: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<String>, Self::Error>> + Send;
    /// The CRM has been told of these reads.
    fn crm_reads_sent(&self, ids: Vec<String>) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Keeps what the CRM sent that cannot be shown, with the reason.
    fn keep_crm_item(
        &self,
        user: &str,
        body: String,
        reason: String,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Brings the CRM's items of a user in.
    fn crm_sync(
        &self,
        user: &str,
        items: Vec<Notification>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// What the service and the admin API share with the polling task.
#[derive(Default)]
pub struct Bridge {
    status: Mutex<BTreeMap<String, AgentStatus>>,
    /// Users with reads to send now.
    nudged: Mutex<BTreeSet<String>>,
    wake: tokio::sync::Notify,
    /// The links changed since the bridge last read them.
    relink: std::sync::atomic::AtomicBool,
    /// Until when the whole bridge is paused, and why.
    paused: Mutex<Option<(DateTime<Utc>, String)>>,
}

impl Bridge {
    pub fn status(&self, user_id: &str) -> Option<AgentStatus> {
        self.status.lock().unwrap_or_else(|p| p.into_inner()).get(user_id).cloned()
    }

    /// The bridge as a whole, with `config` (none: no CRM credentials), at `now`.
    pub fn overall(&self, config: Option<&CrmConfig>, now: DateTime<Utc>) -> BridgeStatus {
        let paused =
            self.paused.lock().unwrap_or_else(|p| p.into_inner()).clone().filter(|(until, _)| *until > now);
        BridgeStatus {
            configured: config.is_some(),
            budget_per_minute: config.map(|c| c.budget_per_minute),
            poll_interval_seconds: config.map(|c| c.poll_interval.as_secs()),
            paused_until: paused.as_ref().map(|(u, _)| *u),
            pause_reason: paused.map(|(_, why)| why),
        }
    }

    /// A CRM item of `user_id` was read in Lonceng: tell the CRM soon.
    pub fn nudge(&self, user_id: &str) {
        self.nudged.lock().unwrap_or_else(|p| p.into_inner()).insert(user_id.to_owned());
        self.wake.notify_one();
    }

    /// The agents changed: read them again.
    pub fn wake(&self) {
        self.relink.store(true, std::sync::atomic::Ordering::Relaxed);
        self.wake.notify_one();
    }

    fn take_nudged(&self, user_id: &str) -> bool {
        self.nudged.lock().unwrap_or_else(|p| p.into_inner()).remove(user_id)
    }

    fn note(&self, user_id: &str, f: impl FnOnce(&mut AgentStatus)) {
        f(self.status.lock().unwrap_or_else(|p| p.into_inner()).entry(user_id.to_owned()).or_default());
    }
}

/// A token bucket: `per_minute` requests, spread evenly (a burst of at most a second's worth).
struct Budget {
    per_second: f64,
    tokens: f64,
    at: Instant,
}

impl Budget {
    fn new(per_minute: u32) -> Budget {
        let per_second = f64::from(per_minute.max(1)) / 60.0;
        Budget { per_second, tokens: 1.0, at: Instant::now() }
    }

    async fn take(&mut self) {
        let burst = self.per_second.max(1.0);
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.per_second).min(burst);
        self.at = now;
        if self.tokens < 1.0 {
            let wait = Duration::from_secs_f64((1.0 - self.tokens) / self.per_second);
            tokio::time::sleep(wait).await;
            self.at = Instant::now();
            self.tokens = 1.0;
        }
        self.tokens -= 1.0;
    }
}

/// What stopped one agent's round.
enum Stop {
    /// Everyone must wait (rate limit, a refused signature).
    All(Duration, String),
    /// This agent waits this long (`None`: until its next regular poll).
    Agent(Option<Duration>, String),
}

fn stop_for(e: CrmError, now: DateTime<Utc>) -> Stop {
    match e {
        CrmError::Refused(r @ (CrmRefusal::Signature | CrmRefusal::ClockSkew(_))) => {
            Stop::All(SIGNATURE_PAUSE, r.to_string())
        }
        CrmError::Refused(r @ CrmRefusal::UnknownUser(_)) => Stop::Agent(Some(AGENT_BACKOFF), r.to_string()),
        CrmError::Other(SourceError::Unavailable { retry_after, .. }) => {
            let wait = retry_after.map_or(DEFAULT_PAUSE, |r: RetryAfter| r.delay(now));
            Stop::All(wait, format!("the CRM asked to slow down; waiting {} s", wait.as_secs()))
        }
        // A failure of the CRM or the network: the next regular poll tries again.
        CrmError::Other(e) => Stop::Agent(None, e.to_string()),
    }
}

/// Polls until the host shuts down.
pub async fn run<H: CrmHost>(host: Arc<H>, config: CrmConfig) {
    let http = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("Lonceng-server/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(http) => http,
        Err(e) => return tracing::error!(error = %e, "the CRM bridge cannot make an HTTP client"),
    };
    let mut budget = Budget::new(config.budget_per_minute);
    let mut due: HashMap<String, Instant> = HashMap::new();
    let mut paused_until: Option<Instant> = None;
    tracing::info!(base = config.base_url, "CRM bridge polling");
    // The linked agents, read again when an admin changes a link (or, from another node, within
    // RELINK_EVERY): not at every wake, which for thousands of agents is most of the bridge's cost.
    let mut agents: Vec<AgentLink> = Vec::new();
    let mut read_at: Option<Instant> = None;
    loop {
        let mut next = Instant::now() + config.poll_interval;
        let stale = read_at.is_none_or(|t| t.elapsed() >= RELINK_EVERY);
        if host.bridge().relink.swap(false, std::sync::atomic::Ordering::Relaxed) || stale {
            match host.agent_links().await {
                Ok(a) => (agents, read_at) = (a, Some(Instant::now())),
                Err(e) => tracing::warn!(error = %e, "CRM bridge cannot read the linked agents"),
            }
        }
        for agent in &agents {
            let Some(sso) = agent.crm_sso_id.clone() else { continue };
            if let Some(p) = paused_until.filter(|p| *p > Instant::now()) {
                next = next.min(p);
                break;
            }
            let nudged = host.bridge().take_nudged(&agent.user_id);
            let at = due.get(&agent.user_id).copied().unwrap_or_else(Instant::now);
            if at > Instant::now() && !nudged {
                next = next.min(at);
                continue;
            }
            let creds = Credentials {
                username: config.client_id.clone(),
                secret: config.client_secret.clone(),
                sso_user_id: sso,
            };
            let source = CrmClient::with_client(
                &config.base_url,
                http.clone(),
                creds,
                &agent.user_id,
                host.clock().clone(),
            );
            let round = poll(&*host, &source, agent, &mut budget, nudged && at > Instant::now()).await;
            let now = host.clock().now();
            let regular = config.poll_interval.mul_f64(rand::rng().random_range(0.8..1.2));
            let wait = match round {
                Ok(()) => {
                    host.bridge()
                        .note(&agent.user_id, |s| (s.last_success_at, s.backoff_until) = (Some(now), None));
                    regular
                }
                Err(Stop::Agent(wait, error)) => {
                    let backoff = wait.and_then(|w| chrono::Duration::from_std(w).ok()).map(|w| now + w);
                    host.bridge().note(&agent.user_id, |s| {
                        (s.last_error, s.last_error_at, s.backoff_until) = (Some(error), Some(now), backoff)
                    });
                    wait.unwrap_or(regular)
                }
                Err(Stop::All(wait, error)) => {
                    tracing::warn!(error, "CRM bridge paused");
                    let until = chrono::Duration::from_std(wait).map_or(now, |w| now + w);
                    *host.bridge().paused.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some((until, error.clone()));
                    host.bridge()
                        .note(&agent.user_id, |s| (s.last_error, s.last_error_at) = (Some(error), Some(now)));
                    paused_until = Some(Instant::now() + wait);
                    wait
                }
            };
            let at = Instant::now() + wait;
            due.insert(agent.user_id.clone(), at);
            next = next.min(at);
        }
        tokio::select! {
            _ = host.shutdown().cancelled() => return,
            _ = tokio::time::sleep_until(next) => {}
            _ = host.bridge().wake.notified() => {}
        }
    }
}

/// One agent's round: send the reads the CRM has not heard of, then (unless only reads were due)
/// read the newest pages and bring them in.
async fn poll<H: CrmHost>(
    host: &H,
    source: &CrmClient,
    agent: &AgentLink,
    budget: &mut Budget,
    reads_only: bool,
) -> Result<(), Stop> {
    let user = &agent.user_id;
    let storage = |e: H::Error| Stop::Agent(None, e.to_string());
    let unsent = host.crm_unsent_reads(user, READS_PER_ROUND).await.map_err(storage)?;
    let mut sent = Vec::new();
    let mut failed = None;
    for id in unsent {
        budget.take().await;
        host.bridge().note(user, |s| s.requests += 1);
        match source.mark_read(&id).await {
            Ok(()) => sent.push(id),
            Err(e) => {
                failed = Some(stop_for(e, host.clock().now()));
                break;
            }
        }
    }
    host.crm_reads_sent(sent).await.map_err(storage)?;
    if let Some(stop) = failed {
        return Err(stop);
    }
    if reads_only {
        return Ok(());
    }
    let mut items = Vec::new();
    for page in 1..=PAGES_PER_POLL {
        budget.take().await;
        host.bridge().note(user, |s| s.requests += 1);
        let pulled = source.fetch(page).await.map_err(|e| stop_for(e, host.clock().now()))?;
        items.extend(pulled.items);
        for rejected in pulled.rejected {
            host.keep_crm_item(user, rejected.raw, rejected.error).await.map_err(storage)?;
        }
        if !pulled.more {
            break;
        }
    }
    host.crm_sync(user, items).await.map_err(storage)?;
    Ok(())
}
