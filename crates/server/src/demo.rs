//! Demo mode: a few agents, fixed tokens, and realistic Qontak activity at a pace a person can watch —
//! chat messages on WhatsApp, Instagram and web chat, conversations assigned and resolved, contacts
//! blocked, deals assigned (some automatically from Inbox or the chatbot), mentions, reminders,
//! approvals, exports and imports. Events go through [`Service::submit`], the same path as
//! `POST /v1/events`, so the rules apply exactly as for a real producer.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use lonceng_core::model::{ChatMessage, Kind, Params, CHANNELS};
use lonceng_core::rules::{Actor, DomainEvent, Origin, ProducerEvent};
use rand::seq::IndexedRandom;
use rand::Rng;

use crate::db::Database;
use crate::service::{Service, ServiceResult};

/// `(user id, name, client token)`; the first is the agent the demo desktop signs in as.
pub const AGENTS: [(&str, &str, &str); 3] = [
    ("agent-sari", "Sari Wulandari", "demo-sari"),
    ("agent-budi", "Budi Santoso", "demo-budi"),
    ("agent-dewi", "Dewi Lestari", "demo-dewi"),
];
pub const PRODUCER_TOKEN: &str = "demo-producer";
pub const ADMIN_TOKEN: &str = "demo-admin";

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

/// Registers the demo agents with fixed tokens and announces a maintenance window three hours ahead
/// (MW-1), unless one is announced already.
pub async fn seed<D: Database>(service: &Service<D>) -> ServiceResult<()> {
    for (id, name, token) in AGENTS {
        service.add_user_with_token(id, name, token, "demo-desktop").await?;
    }
    if service.maintenance_status().windows.is_empty() {
        let start = service.clock.now() + Duration::hours(3);
        service.announce(start, start + Duration::hours(2), "Performance enhancements".into()).await?;
    }
    Ok(())
}

/// Posts one event every `pace` on average until cancelled, or until `limit` events were posted.
pub async fn simulate<D: Database>(
    service: std::sync::Arc<Service<D>>,
    pace: StdDuration,
    limit: Option<u64>,
) {
    let mut n: u64 = 0;
    while limit.is_none_or(|l| n < l) {
        let jitter = rand::rng().random_range(0.4..1.6);
        tokio::select! {
            _ = service.shutdown.cancelled() => return,
            _ = tokio::time::sleep(pace.mul_f64(jitter)) => {}
        }
        n += 1;
        let event = next_event(n);
        match service.submit(event).await {
            Ok(r) => {
                tracing::debug!(status = ?r.status, created = r.created.len(), suppressed = r.suppressed.len(), "demo event")
            }
            Err(e) => tracing::warn!(error = ?e, "demo event refused"),
        }
    }
}

fn pick<'a>(list: &[&'a str]) -> &'a str {
    list.choose(&mut rand::rng()).copied().unwrap_or_default()
}

fn actor(i: usize) -> Actor {
    let (id, name, _) = AGENTS[i % AGENTS.len()];
    Actor { id: id.into(), name: name.into() }
}

/// A plausible event for the first agent; about one in ten is a self-action the rules silence.
pub fn next_event(n: u64) -> ProducerEvent {
    let mut rng = rand::rng();
    let me = AGENTS[0].0.to_string();
    let colleague = actor(rng.random_range(1..AGENTS.len()));
    let key = format!("demo-{}-{n}", Utc::now().timestamp_millis());
    let room = rng.random_range(1000..9999);
    let roll = rng.random_range(0..100);
    if roll < 35 {
        let channel = *["whatsapp", "whatsapp", "instagram", "webchat", "telegram", "line"]
            .choose(&mut rng)
            .unwrap_or(&CHANNELS[0]);
        return ProducerEvent::ChatMessage(ChatMessage {
            event_id: key,
            conversation_id: format!("room-{}", room % 6),
            channel: channel.into(),
            sender_name: pick(CONTACTS).into(),
            preview: pick(PREVIEWS).into(),
            recipient_id: me,
            url: format!("https://chat.qontak.com/inbox/room-{}", room % 6),
            received_at: Utc::now(),
        });
    }
    let contact = pick(CONTACTS);
    let deal = pick(DEALS);
    let p = Params::new();
    let crm = |page: String| format!("https://app.qontak.com/crm/{page}");
    let inbox = format!("https://chat.qontak.com/inbox/room-{room}");
    let (kind, params, url) = match roll {
        35..=44 => {
            let channel = pick(&["whatsapp", "instagram", "webchat"]);
            (Kind::ConversationAssigned, p.with("contact_name", contact).with("channel", channel), inbox)
        }
        45..=49 => {
            (Kind::ConversationResolved, p.with("contact_name", contact).with("channel", "whatsapp"), inbox)
        }
        50..=52 => {
            let kind = if rng.random_bool(0.7) { Kind::ContactBlocked } else { Kind::ContactUnblocked };
            (kind, p.with("contact_name", contact), format!("https://chat.qontak.com/contacts/{room}"))
        }
        53..=60 => (Kind::DealOwnerAssigned, p.with("deal_name", deal), crm(format!("deals/{room}"))),
        61..=67 => {
            let target = pick(&["deal", "ticket", "task", "task_detail"]);
            let object = pick(&[deal, pick(TICKETS), pick(TASKS)]);
            (
                Kind::Mention,
                p.with("target", target).with("object_name", object),
                crm(format!("deals/{room}#notes")),
            )
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
    use lonceng_core::rules::{decide, Outcome};

    #[test]
    fn every_demo_event_passes_the_rules() {
        let mut listed = 0;
        for n in 0..2_000 {
            match decide(&next_event(n)) {
                Ok(Outcome::List(_)) => listed += 1,
                Ok(Outcome::ToastOnly(_)) => {}
                Err(e) => panic!("demo event {n} invalid: {e}"),
            }
        }
        assert!(listed > 1_000, "the demo fills the list: {listed}");
    }
}
