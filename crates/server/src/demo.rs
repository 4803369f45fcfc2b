//! Demo mode: a few agents, fixed tokens, and realistic Qontak activity at a pace a person can watch,
//! delivered through the production paths:
//! - Omnichannel activity (rooms assigned and resolved, customers' messages on WhatsApp, Instagram,
//!   web chat…) is posted as Qontak webhooks to the server's own intake URL;
//! - CRM notifications (mentions, reminders, approvals, exports…) appear in a CRM stand-in behind a
//!   gateway that checks HMAC signatures, which the server's CRM bridge polls;
//! - other producers' events (deals assigned by the chatbot, automation results) go through
//!   [`Service::submit`], the path of `POST /v1/events`.
//!
//! So the rules, the room state, idempotency and the bridge are exercised exactly as in production.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use lonceng_domain::clock::Clock;
use lonceng_domain::model::{Kind, Params};
use lonceng_domain::rules::{Actor, DomainEvent, Origin, ProducerEvent};
use rand::seq::IndexedRandom;
use rand::Rng;
use tokio::net::TcpListener;

use crate::bridge::CrmConfig;
use crate::crm_standin::{Gateway, StandIn};
use crate::db::Database;
use crate::service::{Service, ServiceResult};
use crate::{Config, Running, StartError};

/// `(user id, name, client token)`; the first is the agent the demo desktop signs in as.
pub const AGENTS: [(&str, &str, &str); 3] = [
    ("agent-sari", "Sari Wulandari", "demo-sari"),
    ("agent-budi", "Budi Santoso", "demo-budi"),
    ("agent-dewi", "Dewi Lestari", "demo-dewi"),
];
/// Each agent's Qontak identities: `(Omnichannel agent id, CRM SSO user id)`, in [`AGENTS`]' order.
pub const QONTAK_IDS: [(&str, &str); 3] =
    [("qa-sari", "sso-sari"), ("qa-budi", "sso-budi"), ("qa-dewi", "sso-dewi")];
pub const PRODUCER_TOKEN: &str = "demo-producer";
pub const ADMIN_TOKEN: &str = "demo-admin";
pub const CRM_CLIENT_ID: &str = "demo-crm-client";
pub const CRM_CLIENT_SECRET: &str = "demo-crm-secret";

/// Colleagues as the CRM's texts name them.
const NAMES: &[&str] = &["Budi Santoso", "Dewi Lestari"];
const CONTACTS: &[&str] = &[
    "Andi Pratama",
    "Siti Rahmawati",
    "Michael Tan",
    "Rina Kusuma",
    "Yusuf Hidayat",
    "Jessica Wong",
    "Agus Setiawan",
    "Putri Anggraini",
    "David Chen",
    "Made Wirawan",
    "Nadia Putri",
    "Ketut Arya",
];
const PREVIEWS: &[&str] = &[
    "Halo kak, pesanan saya sudah dikirim belum?",
    "Hi, can I change the delivery address?",
    "Apakah masih ada promo bulan ini?",
    "Thanks, the invoice looks correct.",
    "Kak, saya mau tanya soal garansi.",
    "Could you send me the product catalogue?",
    "Sudah saya transfer ya, mohon dicek.",
    "Is the 40-unit package still available?",
];
const DEALS: &[&str] = &[
    "PT Sinar Jaya renewal",
    "Toko Makmur — 40 units",
    "Koperasi Maju annual plan",
    "CV Berkah Abadi upgrade",
    "Klinik Sehat onboarding",
    "Hotel Nusantara 120 rooms",
];
const TICKETS: &[&str] =
    &["#4812 Refund request", "#4820 Login problem", "#4833 Wrong item shipped", "#4841 Invoice copy"];
const TASKS: &[&str] =
    &["Call back Ibu Ratna", "Prepare demo for PT Sinar Jaya", "Send contract draft", "Follow up quotation"];
const STATUSES: &[&str] = &["In progress", "Waiting for customer", "Resolved", "Escalated"];
const EXPENSES: &[&str] =
    &["Client dinner Surabaya", "Flight JKT–DPS", "Printing brochures", "Hotel Bandung 2 nights"];
const AMOUNTS: &[&str] = &["Rp 1.250.000", "Rp 3.400.000", "Rp 750.000", "Rp 12.500.000"];
const AUTOMATIONS: &[&str] = &["Auto-assign hot leads", "Move stale deals", "Notify on SLA breach"];

/// The demo's simulated Qontak: the CRM behind its stand-in gateway, and the webhook URL that its
/// Omnichannel activity is posted to.
pub struct SimulatedQontak {
    pub crm: StandIn,
    pub webhook_url: String,
    http: reqwest::Client,
}

/// Starts a demo server on `listener`: the CRM stand-in, the server with its bridge polling it, the
/// agents seeded and linked, and a webhook secret for the simulated Omnichannel.
pub async fn start<D: Database>(
    db: D,
    mut config: Config,
    clock: Arc<dyn Clock>,
    listener: TcpListener,
) -> Result<(Running<D>, Arc<SimulatedQontak>), StartError> {
    let gateway = Gateway::new(CRM_CLIENT_ID, CRM_CLIENT_SECRET, clock.clone());
    for (_, sso) in QONTAK_IDS {
        gateway.add_user(sso);
    }
    let crm = StandIn::start(gateway).await?;
    config.crm = Some(CrmConfig {
        base_url: crm.url(),
        client_id: CRM_CLIENT_ID.into(),
        client_secret: CRM_CLIENT_SECRET.into(),
        budget_per_minute: 6_000,
        poll_interval: StdDuration::from_millis(500),
    });
    let running = crate::start(db, config, clock, listener).await?;
    seed(&running.service).await?;
    let secret = running.service.create_webhook_secret().await?;
    let webhook_url = format!("{}{}", running.url(), secret.path);
    let http = reqwest::Client::builder()
        .timeout(StdDuration::from_secs(10))
        .build()
        .map_err(|e| StartError::Io(std::io::Error::other(e)))?;
    Ok((running, Arc::new(SimulatedQontak { crm, webhook_url, http })))
}

/// Registers the demo agents with fixed tokens, links them to their Qontak identities, and
/// announces a maintenance window three hours ahead (MW-1), unless one is announced already.
pub async fn seed<D: Database>(service: &Service<D>) -> ServiceResult<()> {
    for ((id, name, token), (agent, sso)) in AGENTS.into_iter().zip(QONTAK_IDS) {
        service.add_user_with_token(id, name, token, "demo-desktop").await?;
        service.link_agent(id, Some(agent.into()), Some(sso.into())).await?;
    }
    if service.maintenance_status().windows.is_empty() {
        let start = service.clock.now() + Duration::hours(3);
        service.announce(start, start + Duration::hours(2), "Performance enhancements".into()).await?;
    }
    Ok(())
}

/// Makes one piece of activity every `pace` on average until cancelled, or until `limit` were made.
pub async fn simulate<D: Database>(
    service: Arc<Service<D>>,
    qontak: Arc<SimulatedQontak>,
    pace: StdDuration,
    limit: Option<u64>,
) {
    let mut rooms = Rooms::default();
    let mut n: u64 = 0;
    while limit.is_none_or(|l| n < l) {
        let jitter = rand::rng().random_range(0.4..1.6);
        tokio::select! {
            _ = service.shutdown.cancelled() => return,
            _ = tokio::time::sleep(pace.mul_f64(jitter)) => {}
        }
        n += 1;
        match next_activity(&mut rooms, n, service.clock.now()) {
            Activity::Webhook(body) => {
                let sent = qontak.http.post(&qontak.webhook_url).json(&body).send().await;
                match sent {
                    Ok(r) if r.status().is_success() => tracing::debug!(status = %r.status(), "demo webhook"),
                    Ok(r) => tracing::warn!(status = %r.status(), "demo webhook refused"),
                    Err(e) => tracing::warn!(error = %e, "demo webhook not delivered"),
                }
            }
            Activity::Crm { type_id, category_id, origin, description } => {
                qontak.crm.gateway.notify(QONTAK_IDS[0].1, type_id, category_id, origin, &description);
            }
            Activity::Producer(event) => match service.submit(event).await {
                Ok(r) => tracing::debug!(status = ?r.status, created = r.created.len(), "demo event"),
                Err(e) => tracing::warn!(error = ?e, "demo event refused"),
            },
        }
    }
}

/// One piece of simulated activity.
#[derive(Debug, Clone, PartialEq)]
pub enum Activity {
    /// A Qontak Omnichannel webhook body.
    Webhook(serde_json::Value),
    /// A new CRM notification for the first agent.
    Crm { type_id: i64, category_id: i64, origin: &'static str, description: String },
    /// Another producer's event.
    Producer(ProducerEvent),
}

/// The simulated Omnichannel's rooms of the first agent.
#[derive(Default)]
pub struct Rooms {
    open: Vec<Room>,
    next: u32,
}

struct Room {
    id: String,
    name: &'static str,
    channel: &'static str,
    agents: Vec<&'static str>,
}

fn room_body(
    room: &Room,
    status: &str,
    data_event: &str,
    resolved_by: Option<&str>,
    at: chrono::DateTime<Utc>,
) -> serde_json::Value {
    serde_json::json!({
        "id": room.id, "name": room.name, "status": status, "channel": room.channel,
        "channel_account": "Lonceng demo", "organization_id": "demo-org",
        "agent_ids": room.agents, "unread_count": 0,
        "resolved_at": resolved_by.map(|_| at.to_rfc3339()), "resolved_by_id": resolved_by,
        "resolved_by_type": resolved_by.map(|_| "Models::User"),
        "created_at": at.to_rfc3339(), "updated_at": at.to_rfc3339(), "data_event": data_event
    })
}

/// What happens next: about a third customers' messages, a sixth room changes, a third CRM
/// notifications, the rest other producers (one in ten of which the rules silence, NC-R1).
pub fn next_activity(rooms: &mut Rooms, n: u64, now: chrono::DateTime<Utc>) -> Activity {
    let mut rng = rand::rng();
    let me = QONTAK_IDS[0].0;
    let colleague = QONTAK_IDS[rng.random_range(1..QONTAK_IDS.len())].0;
    let roll = rng.random_range(0..100);
    // Each room event is one millisecond apart at least, so their versions never tie.
    let at = now + Duration::milliseconds(i64::try_from(n).unwrap_or(0));
    if roll < 50 && !rooms.open.is_empty() && (roll < 35 || rooms.open.len() > 4) {
        if roll < 35 {
            let room = rooms.open.choose(&mut rng).unwrap_or(&rooms.open[0]);
            return Activity::Webhook(serde_json::json!({
                "webhook_event": "message_interaction", "data_event": "receive_message_from_customer",
                "id": format!("demo-msg-{}-{n}", now.timestamp_millis()), "room_id": room.id,
                "sender_id": format!("contact-{}", room.name.len()), "is_agent": false,
                "text": pick(PREVIEWS), "created_at": now.to_rfc3339(),
                "room": {"id": room.id, "name": room.name, "channel": room.channel},
                "sender": {"name": room.name, "participant_type": "customer"}
            }));
        }
        // A room resolved, by a colleague or (one in five) by the agent, whom the rules leave alone.
        let i = rng.random_range(0..rooms.open.len());
        let room = rooms.open.swap_remove(i);
        let by = if rng.random_bool(0.2) { me } else { colleague };
        return Activity::Webhook(room_body(&room, "resolved", "resolve_room", Some(by), at));
    }
    if roll < 50 {
        rooms.next += 1;
        let room = Room {
            id: format!("demo-room-{}-{}", now.timestamp_millis(), rooms.next),
            name: pick(CONTACTS),
            channel: pick(&["wa_cloud", "wa_cloud", "ig", "web_chat", "telegram", "line"]),
            agents: if rng.random_bool(0.3) { vec![colleague, me] } else { vec![me] },
        };
        let body = room_body(&room, "assigned", "add_agent", None, at);
        rooms.open.push(room);
        return Activity::Webhook(body);
    }
    if roll < 83 {
        let (type_id, category_id, origin, description) = match rng.random_range(0..8) {
            0 => (1, 2, "deal", format!("{} mentioned you in deal {}", pick(NAMES), pick(DEALS))),
            1 => (1, 1, "task", format!("Reminder: {} is due in 30 minutes", pick(TASKS))),
            2 => (1, 3, "ticket", format!("{} assigned you ticket {}", pick(NAMES), pick(TICKETS))),
            3 => (1, 4, "task", format!("{} moved task {} to {}", pick(NAMES), pick(TASKS), pick(STATUSES))),
            4 => (
                1,
                5,
                "deal",
                format!("Your export of {} deals is ready to download", rng.random_range(10..5000)),
            ),
            5 => (
                2,
                8,
                "deal",
                format!("{} asks you to approve deal {} ({})", pick(NAMES), pick(DEALS), pick(AMOUNTS)),
            ),
            6 => (
                2,
                9,
                "expense",
                format!("{} submitted expense {} ({})", pick(NAMES), pick(EXPENSES), pick(AMOUNTS)),
            ),
            _ => (1, 7, "deal", format!("Deal {} moved to Won", pick(DEALS))),
        };
        return Activity::Crm { type_id, category_id, origin, description };
    }
    Activity::Producer(next_event(n))
}

fn pick<'a>(list: &[&'a str]) -> &'a str {
    list.choose(&mut rand::rng()).copied().unwrap_or_default()
}

fn actor(i: usize) -> Actor {
    let (id, name, _) = AGENTS[i % AGENTS.len()];
    Actor { id: id.into(), name: name.into() }
}

/// Another producer's plausible event for the first agent (the chatbot, automation, exports and
/// imports, approvals); about one in ten is a self-action the rules silence.
pub fn next_event(n: u64) -> ProducerEvent {
    let mut rng = rand::rng();
    let me = AGENTS[0].0.to_string();
    let colleague = actor(rng.random_range(1..AGENTS.len()));
    let key = format!("demo-{}-{n}", Utc::now().timestamp_millis());
    let room = rng.random_range(1000..9999);
    // Conversations and chat messages come as webhooks: these are the other producers' events.
    let roll = rng.random_range(50..100);
    let contact = pick(CONTACTS);
    let deal = pick(DEALS);
    let p = Params::new();
    let crm = |page: String| format!("https://app.qontak.com/crm/{page}");
    let (kind, params, url) = match roll {
        50..=52 => {
            let kind = if rng.random_bool(0.7) { Kind::ContactBlocked } else { Kind::ContactUnblocked };
            (kind, p.with("contact_name", contact), format!("https://chat.qontak.com/contacts/{room}"))
        }
        53..=60 => (Kind::DealOwnerAssigned, p.with("deal_name", deal), crm(format!("deals/{room}"))),
        61..=67 => {
            // The object is of the kind the text names: a deal's name in a deal, and so on.
            let (target, object, page) = match rng.random_range(0..4) {
                0 => ("deal", deal, format!("deals/{room}#notes")),
                1 => ("ticket", pick(TICKETS), format!("tickets/{room}#notes")),
                2 => ("task", pick(TASKS), format!("tasks/{room}#notes")),
                _ => ("task_detail", pick(TASKS), format!("tasks/{room}#checklist")),
            };
            (Kind::Mention, p.with("target", target).with("object_name", object), crm(page))
        }
        68..=71 => (
            Kind::Reminder,
            p.with("object_type", "task").with("object_name", pick(TASKS)),
            crm(format!("tasks/{room}")),
        ),
        72..=75 => {
            (Kind::TicketAssigned, p.with("ticket_name", pick(TICKETS)), crm(format!("tickets/{room}")))
        }
        76..=78 => {
            let status = p.with("task_name", pick(TASKS)).with("status", pick(STATUSES));
            (Kind::TaskStatusChanged, status, crm(format!("tasks/{room}")))
        }
        79..=83 => {
            let expense = p.with("expense_name", pick(EXPENSES)).with("amount", pick(AMOUNTS));
            (Kind::ExpenseApprovalRequested, expense, crm(format!("expenses/{room}")))
        }
        84..=87 => {
            let outcomes =
                [Kind::DealApprovalRequested, Kind::DealApprovalApproved, Kind::DealApprovalRejected];
            let kind = *outcomes.choose(&mut rng).unwrap_or(&Kind::DealApprovalApproved);
            (
                kind,
                p.with("deal_name", deal).with("amount", pick(AMOUNTS)),
                crm(format!("deals/{room}/approvals")),
            )
        }
        88..=90 => {
            let export = p.with("object_type", pick(&["deals", "contacts", "tickets"]));
            (
                Kind::ExportReady,
                export.with("count", rng.random_range(1..5000)),
                crm(format!("exports/{room}")),
            )
        }
        91..=93 => {
            let counts = p
                .with("success_count", rng.random_range(10..2000))
                .with("failure_count", rng.random_range(0..5));
            (Kind::ImportProcessed, counts.with("object_type", "contacts"), crm(format!("imports/{room}")))
        }
        94..=96 => {
            let outcome = if rng.random_bool(0.8) { "succeeded" } else { "failed" };
            let result =
                p.with("rule_name", pick(AUTOMATIONS)).with("object_name", deal).with("outcome", outcome);
            (Kind::AutomationResult, result, crm(format!("automation/{room}")))
        }
        // A self-assignment: the rules keep it silent (NC-R1).
        _ => (Kind::TaskAssigned, p.with("task_name", pick(TASKS)), crm(format!("tasks/{room}"))),
    };
    let origin = match kind {
        Kind::DealOwnerAssigned => {
            *[Origin::Manual, Origin::Inbox, Origin::Chatbot].choose(&mut rng).unwrap_or(&Origin::Manual)
        }
        Kind::AutomationResult => Origin::Automation,
        _ => Origin::Manual,
    };
    // NC-R2: a mention names who actually wrote it.
    let posted_by = (kind == Kind::Mention).then(|| colleague.clone());
    let actor = if roll >= 97 { actor(0) } else { colleague };
    let params = match kind {
        Kind::DealApprovalApproved | Kind::DealApprovalRejected => {
            Params(params.0.into_iter().filter(|(k, _)| k != "amount").collect())
        }
        _ => params,
    };
    ProducerEvent::Notification(DomainEvent {
        idempotency_key: key,
        kind,
        actor: Some(actor),
        posted_by,
        origin,
        category: None,
        recipients: vec![me],
        params,
        url,
        occurred_at: Utc::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lonceng_domain::qontak::{decode_webhook, Webhook};
    use lonceng_domain::rules::{decide, Outcome};

    #[test]
    fn every_demo_activity_is_understood_by_the_paths_it_takes() {
        let mut rooms = Rooms::default();
        let (mut webhooks, mut crm, mut listed) = (0, 0, 0);
        for n in 0..2_000 {
            match next_activity(&mut rooms, n, Utc::now()) {
                Activity::Webhook(body) => {
                    let decoded = decode_webhook(body.to_string().as_bytes());
                    assert!(
                        matches!(decoded, Ok(Webhook::Room(_) | Webhook::Message(_))),
                        "{body}: {decoded:?}"
                    );
                    webhooks += 1;
                }
                Activity::Crm { type_id, category_id, .. } => {
                    lonceng_domain::crm::category(type_id, category_id).unwrap();
                    crm += 1;
                }
                Activity::Producer(event) => match decide(&event) {
                    Ok(Outcome::List(_)) => listed += 1,
                    Ok(Outcome::ToastOnly(_)) => {}
                    Err(e) => panic!("demo event {n} invalid: {e}"),
                },
            }
        }
        assert!(
            webhooks > 600 && crm > 400 && listed > 150,
            "{webhooks} webhooks, {crm} CRM items, {listed} listed"
        );
    }
}
