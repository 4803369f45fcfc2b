//! Real Qontak data on the desktop, on a private D-Bus with a recording notification server:
//! - through the organisation's server: a room webhook becomes an Inbox toast and a list item on
//!   the linked agent's desktop, a customer's message a chat toast and no list item, a CRM item
//!   polled by the server's bridge a toast that a read in the Qontak web withdraws (NC-R13);
//! - the direct CRM mode: sign-in problems said in words an agent understands, the secret kept
//!   from the window, and a switch of source that keeps nothing stale in the list.
// Linux desktop services (D-Bus, X11); the Windows backends have tests/windows.rs.
#![cfg(unix)]

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use chrono::Utc;
use lonceng_client::store::Scope;
use lonceng_client::sync::ConnState;
use lonceng_desktop::settings::{SettingsChanges, SourceKind};
use lonceng_domain::clock::{Clock, ManualClock, SystemClock};
use lonceng_domain::model::Tab;
use lonceng_server::bridge::CrmConfig;
use lonceng_server::crm_standin::{Gateway, StandIn};

const CLIENT: &str = "org-client";
const SECRET: &str = "org-secret";

fn notified(rec: &Recorder) -> Vec<(String, String)> {
    rec.calls
        .lock()
        .unwrap()
        .iter()
        .filter_map(|c| match c {
            Call::Notify { summary, body, .. } => Some((visible(summary), visible(body))),
            _ => None,
        })
        .collect()
}

fn tab(app: &lonceng_desktop::runtime::Desktop, tab: Tab) -> Vec<String> {
    let page = app.page(Scope { tab, category: None }, false, None, 50).unwrap();
    page.items.into_iter().map(|n| n.id).collect()
}

// NC-R4, NC-R13 with real Qontak payloads, end to end
bus_test! {
    fn qontak_webhooks_and_crm_items_reach_the_linked_agents_desktop_through_the_server() {
    rt().block_on(async {
        let (_bus, rec) = notification_server().await;
        let gateway = Gateway::new(CLIENT, SECRET, Arc::new(SystemClock));
        gateway.add_user("sso-sari");
        let crm = StandIn::start(gateway.clone()).await.unwrap();
        let mut config = lonceng_server::Config::new("p", "a");
        config.crm = Some(CrmConfig {
            base_url: crm.url(),
            client_id: CLIENT.into(),
            client_secret: SECRET.into(),
            budget_per_minute: 6_000,
            poll_interval: Duration::from_millis(100),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = lonceng_server::start(
            lonceng_server::sqlite::SqliteDb::in_memory().unwrap(),
            config,
            Arc::new(SystemClock),
            listener,
        )
        .await
        .unwrap();
        let svc = &server.service;
        svc.add_user("agent-sari", "Sari").await.unwrap();
        svc.link_agent("agent-sari", Some("qa-sari".into()), Some("sso-sari".into())).await.unwrap();
        let hook = format!("{}{}", server.url(), svc.create_webhook_secret().await.unwrap().path);
        let dir = tempfile::tempdir().unwrap();
        let app = connected_desktop(dir.path(), &server, Arc::new(RecordingOpener::default())).await;
        let http = reqwest::Client::new();
        let now = Utc::now().to_rfc3339();

        // The room is assigned to Sari in Qontak: an Inbox toast and an Inbox item.
        let room = serde_json::json!({
            "id": "room-77", "name": "Adrian", "status": "assigned", "channel": "wa_cloud",
            "agent_ids": ["qa-sari"], "updated_at": now, "data_event": "add_agent"
        });
        assert!(http.post(&hook).json(&room).send().await.unwrap().status().is_success());
        eventually("the Inbox toast", || notified(&rec).iter().any(|(s, _)| s == "Conversation assigned")).await;
        eventually("the Inbox item", || tab(&app, Tab::Inbox).len() == 1).await;
        let (_, body) = notified(&rec).into_iter().find(|(s, _)| s == "Conversation assigned").unwrap();
        assert_eq!(body, "Qontak assigned you the conversation with Adrian on WhatsApp");

        // A customer writes: a chat toast, and nothing listed or counted (NC-R4).
        let message = serde_json::json!({
            "webhook_event": "message_interaction", "data_event": "receive_message_from_customer",
            "id": "msg-1", "room_id": "room-77", "is_agent": false, "text": "Halo kak, sudah dikirim?",
            "created_at": now, "room": {"id": "room-77", "channel": "wa_cloud"},
            "sender": {"name": "Adrian", "participant_type": "customer"}
        });
        assert!(http.post(&hook).json(&message).send().await.unwrap().status().is_success());
        eventually("the chat toast", || notified(&rec).iter().any(|(_, b)| b.contains("Halo kak, sudah dikirim?"))).await;
        // Its buttons open or mute the conversation; a message is not an item, so no "Mark as read".
        let chat_actions = rec.calls.lock().unwrap().iter().rev().find_map(|c| match c {
            Call::Notify { body, actions, .. } if body.contains("Halo kak") => Some(actions.clone()),
            _ => None,
        });
        let want = ["default", "Open conversation", "open", "Open conversation", "mute", "Mute this conversation"];
        assert_eq!(chat_actions, Some(want.map(String::from).to_vec()));
        assert_eq!(app.counts().unwrap().total, 1, "the message is not an item");

        // A CRM notification, polled by the server's bridge: a toast; read in the Qontak web, the
        // next poll reads it here and the toast is withdrawn (NC-R13).
        let id = gateway.notify("sso-sari", 1, 2, "deal", "Budi mentioned you in deal PT Maju");
        eventually("the CRM toast", || notified(&rec).iter().any(|(_, b)| b == "Budi mentioned you in deal PT Maju")).await;
        assert_eq!(tab(&app, Tab::General), vec![format!("crm_{id}")]);
        let toast = rec.calls.lock().unwrap().iter().filter(|c| matches!(c, Call::Notify { .. })).count() as u32;
        gateway.read_on_web("sso-sari", id);
        eventually("the CRM toast withdrawn", || rec.calls.lock().unwrap().contains(&Call::Close(toast))).await;
        assert_eq!(app.counts().unwrap().total, 1, "read here too");
        app.stop().await;
        server.stop().await;
        crm.stop();
    });
    }
}

bus_test! {
    fn the_direct_crm_mode_says_what_is_wrong_keeps_its_secret_and_switching_keeps_nothing_stale() {
    rt().block_on(async {
        let server = test_server().await;
        server.service.submit(lonceng_e2e::mention("m1", "agent-sari", Utc::now())).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let app = connected_desktop(dir.path(), &server, Arc::new(RecordingOpener::default())).await;
        eventually("the server's item", || app.counts().unwrap().total == 1).await;
        let server_items = tab(&app, Tab::General);

        // The CRM's gateway runs ten minutes ahead of this computer.
        let gateway_clock = Arc::new(ManualClock::new(Utc::now() + chrono::Duration::minutes(10)));
        let gateway = Gateway::new(CLIENT, SECRET, gateway_clock.clone());
        gateway.add_user("sso-sari");
        gateway.notify("sso-sari", 1, 2, "deal", "Budi mentioned you");
        gateway.notify("sso-sari", 2, 9, "expense", "Approve expense Flight JKT–DPS");
        let crm = StandIn::start(gateway.clone()).await.unwrap();
        let offline = |app: &lonceng_desktop::runtime::Desktop| match app.status().state {
            ConnState::Offline { reason, .. } => Some(reason),
            _ => None,
        };

        let view = app
            .save_settings(SettingsChanges {
                source: Some(SourceKind::Crm),
                crm_base_url: Some(crm.url()),
                crm_client_id: Some(CLIENT.into()),
                crm_sso_user_id: Some("sso-sari".into()),
                crm_client_secret: Some(SECRET.into()),
                ..SettingsChanges::default()
            })
            .await
            .unwrap();
        assert!(view.has_crm_secret);
        assert!(!serde_json::to_string(&view).unwrap().contains(SECRET), "the secret never reaches the window");
        assert!(tab(&app, Tab::General).is_empty(), "nothing from the server is left in the list");
        eventually("the clock skew said", || offline(&app).is_some_and(|r| r.contains("clock is") && r.contains("300 s"))).await;

        // The clock is right again, but the secret is wrong.
        gateway_clock.set(SystemClock.now());
        app.save_settings(SettingsChanges { crm_client_secret: Some("not-it".into()), ..Default::default() }).await.unwrap();
        eventually("the wrong secret said", || offline(&app).is_some_and(|r| r.contains("check the client id and client secret"))).await;

        // An SSO user id the CRM does not know.
        app.save_settings(SettingsChanges {
            crm_client_secret: Some(SECRET.into()),
            crm_sso_user_id: Some("sso-nobody".into()),
            ..Default::default()
        })
        .await
        .unwrap();
        eventually("the unknown user said", || offline(&app).is_some_and(|r| r.contains("does not know the SSO user id 'sso-nobody'"))).await;

        // All right: General and Approval from the CRM; Inbox stays empty (no webhooks here).
        app.save_settings(SettingsChanges { crm_sso_user_id: Some("sso-sari".into()), ..Default::default() }).await.unwrap();
        eventually("connected to the CRM", || app.counts().unwrap().total == 2).await;
        assert_eq!(tab(&app, Tab::General).len(), 1);
        assert_eq!(tab(&app, Tab::Approval).len(), 1);
        assert!(tab(&app, Tab::Inbox).is_empty());
        assert_eq!(app.settings().settings.source, SourceKind::Crm);
        // ORG-7: the CRM cannot mark anything unread: refused, saying so, and nothing changes.
        let crm_item = tab(&app, Tab::General)[0].clone();
        app.mark_read(&crm_item).unwrap();
        let refused = app.mark_unread(&crm_item).unwrap_err().to_string();
        assert!(refused.contains("cannot mark notifications unread"), "{refused}");
        assert_eq!(app.counts().unwrap().total, 1);


        // Back to the server: only the server's items again.
        app.save_settings(SettingsChanges { source: Some(SourceKind::Server), ..Default::default() }).await.unwrap();
        eventually("the server's list back", || tab(&app, Tab::General) == server_items && app.counts().unwrap().total == 1).await;
        // Through the server it can, on every device: unread here reaches the server, which tells
        // the agent's devices. At once after the read's commit, while the app may still be waiting
        // for the read's answer (an unread then once lost its place in the outbox).
        let (mut announced, _) = server.service.subscribe("agent-sari");
        app.mark_read(&server_items[0]).unwrap();
        announcement(&mut announced, "read").await;
        app.mark_unread(&server_items[0]).unwrap();
        assert_eq!(app.counts().unwrap().total, 1, "counted here at once");
        announcement(&mut announced, "unread").await;
        assert_eq!(server.service.counts("agent-sari").await.unwrap().total, 1);
        app.stop().await;
        server.stop().await;
        crm.stop();
    });
    }
}

/// Waits for the server to tell Sari's devices of a change of `kind` ("read", "unread").
async fn announcement(frames: &mut tokio::sync::broadcast::Receiver<lonceng_server::hub::Frame>, kind: &str) {
    use tokio::sync::broadcast::error::RecvError;
    let wanted = format!("\"type\":\"{kind}\"");
    let told = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match frames.recv().await {
                Ok(lonceng_server::hub::Frame::Change { sse, .. })
                    if String::from_utf8_lossy(&sse).contains(&wanted) =>
                {
                    return
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => panic!("the server stopped"),
            }
        }
    })
    .await;
    assert!(told.is_ok(), "the server announced no {kind}");
}
