//! Qontak Omnichannel webhooks into the service: the secret of the URL, the room state machine
//! (`lonceng_domain::qontak`), customer messages as chat toasts (NC-R4), and the dead letters that keep
//! whatever could not be used, with the reason, until an operator replays it.
//!
//! Answers: a webhook that was used (or is a re-delivery, or older than the room) is 200; one kept as
//! a dead letter is 202. Nothing received is answered 5xx for its content, and nothing is dropped
//! silently: Qontak re-sends what it thinks failed, so an answer of "failed" for a bad body would only
//! bring it back forever.

use chrono::{DateTime, Duration, Utc};
use lonceng_domain::protocol::EventStatus;
use lonceng_domain::qontak::{self, decode_webhook, room_step, RoomStep, Webhook};
use lonceng_domain::rules::{self, Decision, Outcome, ProducerEvent};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::group::GroupCommit;
use super::{Service, ServiceError, ServiceResult};
use crate::db::{AgentLink, Applied, Database, DeadLetter, NewDeadLetter, RoomJob, WebhookSecret};
use crate::{new_secret, same_secret, token_hash};

/// How long a rotated secret keeps working, so that Qontak's settings can be changed meanwhile.
pub const ROTATION_GRACE: Duration = Duration::hours(24);
/// How long a copy of the secrets is trusted (a rotation made elsewhere is seen within this); a
/// webhook then costs one transaction, not three.
const SECRETS_FRESH: std::time::Duration = std::time::Duration::from_secs(5);
/// How often a secret's last use is written.
const USE_NOTED_EVERY: Duration = Duration::minutes(1);

/// What the intake keeps between webhooks: the secrets as last read, when each was last noted as
/// used, and the queue of room events waiting for the next commit.
#[derive(Default)]
pub struct IntakeState {
    secrets: std::sync::Mutex<Option<(std::time::Instant, std::sync::Arc<Vec<WebhookSecret>>)>>,
    noted: std::sync::Mutex<std::collections::HashMap<String, DateTime<Utc>>>,
    pub(super) rooms: GroupCommit<RoomJob, Result<Applied, String>, ROOMS_PER_COMMIT>,
}

/// Room events applied in one transaction at most (group commit).
const ROOMS_PER_COMMIT: usize = 64;

pub const WEBHOOK_SOURCE: &str = "qontak_webhook";

/// Text a database can keep: PostgreSQL refuses NUL in text, so a garbage body with NULs would not
/// even become a dead letter (and Qontak would re-send it forever). U+FFFD, as for invalid UTF-8.
pub(super) fn keepable(text: &str) -> String {
    text.replace('\0', "\u{fffd}")
}
pub const CRM_SOURCE: &str = "crm";

/// What a webhook did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    /// Used: notifications created (possibly none, when nobody linked is concerned).
    Applied,
    /// Delivered before: nothing changed (MW-4).
    Duplicate,
    /// Older than what is known of the room: nothing changed.
    Stale,
    /// Chat toasts queued during maintenance.
    Queued,
    /// Known, and not something Lonceng notifies about.
    Ignored,
    /// Kept in the dead letters with the reason.
    DeadLetter,
}

/// The answer to a webhook (and to a replay).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAnswer {
    pub status: WebhookStatus,
    /// Notifications created.
    pub created: usize,
    /// Chat toasts sent to agents.
    pub chats: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl WebhookAnswer {
    fn of(status: WebhookStatus) -> WebhookAnswer {
        WebhookAnswer { status, created: 0, chats: 0, dead_letter_id: None, reason: None }
    }
}

/// A new or rotated secret: shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedSecret {
    pub id: String,
    pub secret: String,
    /// The path to register with Qontak, after the server's public address.
    pub path: String,
    pub previous_valid_until: Option<DateTime<Utc>>,
}

/// A secret as listed: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretInfo {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub previous_valid_until: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What the intake concluded, before it is answered.
enum Intake {
    Done(WebhookAnswer),
    Refused(String),
}

pub(super) fn hex_digest(body: &[u8]) -> String {
    Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect()
}

impl<D: Database> Service<D> {
    /// `POST /v1/integrations/qontak/webhooks/{secret}`. An unknown secret is "not found", like any
    /// path that does not exist.
    pub async fn qontak_webhook(&self, secret: &str, body: &[u8]) -> ServiceResult<WebhookAnswer> {
        let id = self
            .webhook_secret_id(secret)
            .await?
            .ok_or_else(|| ServiceError::NotFound("no such path".into()))?;
        crate::metrics::METRICS.events_received.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let now = self.clock.now();
        let due = {
            let mut noted = self.intake.noted.lock().unwrap_or_else(|p| p.into_inner());
            let due = noted.get(&id).is_none_or(|at| now - *at >= USE_NOTED_EVERY);
            if due {
                noted.insert(id.clone(), now);
            }
            due
        };
        if due {
            if let Err(e) = self.db.webhook_secret_used(id, now).await {
                tracing::warn!(error = %e, "cannot note the webhook secret's use");
            }
        }
        match self.intake(body).await? {
            Intake::Done(answer) => Ok(answer),
            Intake::Refused(reason) => {
                let letter = NewDeadLetter {
                    source: WEBHOOK_SOURCE,
                    key: format!("{WEBHOOK_SOURCE}:{}", hex_digest(body)),
                    reason: keepable(&reason),
                    body: keepable(&String::from_utf8_lossy(body)),
                    at: self.clock.now(),
                };
                let (id, fresh) = self.db.add_dead_letter(letter).await?;
                if fresh {
                    crate::metrics::METRICS.dead_letters.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::warn!(dead_letter = id, reason, "Qontak webhook kept as a dead letter");
                }
                Ok(WebhookAnswer {
                    dead_letter_id: Some(id),
                    reason: Some(reason),
                    ..WebhookAnswer::of(WebhookStatus::DeadLetter)
                })
            }
        }
    }

    /// Not found unless `secret` is a webhook secret (so that limits are told only to Qontak).
    pub async fn qontak_webhook_secret_known(&self, secret: &str) -> ServiceResult<()> {
        self.webhook_secret_id(secret)
            .await?
            .map(|_| ())
            .ok_or_else(|| ServiceError::NotFound("no such path".into()))
    }

    /// The id of the secret `given` is (constant time against every kept hash).
    async fn webhook_secret_id(&self, given: &str) -> ServiceResult<Option<String>> {
        let now = self.clock.now();
        let given = token_hash(given);
        let mut found = None;
        for s in self.current_secrets().await?.iter() {
            let previous_ok = s.previous_until.is_some_and(|t| t > now)
                && s.previous_hash.as_deref().is_some_and(|h| same_secret(&given, h));
            // Every secret is compared, found or not, so the time taken says nothing.
            if (same_secret(&given, &s.hash) || previous_ok) && found.is_none() {
                found = Some(s.id.clone());
            }
        }
        Ok(found)
    }

    /// The secrets, read again when the copy is older than [`SECRETS_FRESH`].
    async fn current_secrets(&self) -> ServiceResult<std::sync::Arc<Vec<WebhookSecret>>> {
        if let Some((at, secrets)) = self.intake.secrets.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            if at.elapsed() < SECRETS_FRESH {
                return Ok(secrets.clone());
            }
        }
        let secrets = std::sync::Arc::new(self.db.webhook_secrets().await?);
        *self.intake.secrets.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((std::time::Instant::now(), secrets.clone()));
        Ok(secrets)
    }

    /// A secret was created or rotated here: read them again at the next webhook.
    fn forget_secrets(&self) {
        *self.intake.secrets.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    async fn intake(&self, body: &[u8]) -> ServiceResult<Intake> {
        let webhook = match decode_webhook(body) {
            Ok(w) => w,
            Err(e) => return Ok(Intake::Refused(e.to_string())),
        };
        match webhook {
            Webhook::Ignored(why) => Ok(Intake::Done(WebhookAnswer {
                reason: Some(why),
                ..WebhookAnswer::of(WebhookStatus::Ignored)
            })),
            Webhook::Room(room) => self.room_event(room).await,
            Webhook::Message(message) => self.customer_message(message).await,
        }
    }

    async fn room_event(&self, room: qontak::RoomEvent) -> ServiceResult<Intake> {
        let now = self.clock.now();
        let links = self.config.links.clone();
        let url = self.config.qontak_room_url.clone();
        let mut agents = room.agent_ids.clone();
        agents.extend(room.resolved_by_id.iter().chain(room.assigned_by_id.iter()).cloned());
        let (key, room_id) = (room.key(), room.id.clone());
        let stale = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let was_stale = stale.clone();
        let decide: crate::db::RoomDecision = Box::new(move |previous, users| {
            let (state, events) = match room_step(previous, &room, users, &url) {
                RoomStep::Stale => {
                    stale.store(true, std::sync::atomic::Ordering::Relaxed);
                    return Ok((None, Outcome::List(Vec::new())));
                }
                RoomStep::Apply { state, events } => (state, events),
            };
            // The same admission as any producer's event (NC-R1, NC-R2, NC-R5, links, time).
            let mut decisions: Vec<Decision> = Vec::new();
            for event in events {
                match rules::admit(&ProducerEvent::Notification(event), now, &links) {
                    Ok(Outcome::List(d)) => decisions.extend(d),
                    Ok(Outcome::ToastOnly(_)) => {}
                    Err(e) => return Err(format!("room {}: {e}", room.id)),
                }
            }
            Ok((Some(state), Outcome::List(decisions)))
        });
        let job = RoomJob { key, room_id, agents, decide };
        let applied = self
            .intake
            .rooms
            .apply(job, |jobs| async move {
                let results = self.db.apply_rooms(jobs, self.clock.now()).await?;
                for applied in results.iter().flatten() {
                    self.publish(&applied.changes);
                }
                Ok(results)
            })
            .await?;
        match applied {
            Err(reason) => Ok(Intake::Refused(reason)),
            Ok(applied) => {
                // What this delivery created: nothing for a re-delivery or a stale version.
                let (status, created) = if applied.response.duplicate {
                    (WebhookStatus::Duplicate, 0)
                } else if was_stale.load(std::sync::atomic::Ordering::Relaxed) {
                    (WebhookStatus::Stale, 0)
                } else {
                    (WebhookStatus::Applied, applied.response.created.len())
                };
                Ok(Intake::Done(WebhookAnswer { created, ..WebhookAnswer::of(status) }))
            }
        }
    }

    async fn customer_message(&self, message: qontak::MessageEvent) -> ServiceResult<Intake> {
        let Some(users) = self.db.room_recipients(message.room_id.clone()).await? else {
            // Kept, so that a replay after the room's assignment arrived delivers it.
            return Ok(Intake::Refused(format!(
                "room {} is not known yet (no room event received for it); replay once it is",
                message.room_id
            )));
        };
        let mut answer = WebhookAnswer::of(WebhookStatus::Applied);
        if users.is_empty() {
            answer.status = WebhookStatus::Ignored;
            answer.reason = Some("no agent of the room is linked to a Lonceng user".into());
        }
        let mut duplicates = 0;
        for chat in qontak::chat_messages(&message, &users, &self.config.qontak_room_url, self.clock.now()) {
            match self.submit(ProducerEvent::ChatMessage(chat)).await {
                Ok(r) if r.duplicate => duplicates += 1,
                Ok(r) => {
                    answer.chats += 1;
                    if r.status == EventStatus::Queued {
                        answer.status = WebhookStatus::Queued;
                    }
                }
                Err(ServiceError::InvalidEvent(e)) => {
                    return Ok(Intake::Refused(format!("message {}: {e}", message.id)))
                }
                Err(e) => return Err(e),
            }
        }
        if duplicates > 0 && answer.chats == 0 {
            answer.status = WebhookStatus::Duplicate;
        }
        Ok(Intake::Done(answer))
    }

    // ---- administration ----

    /// A new webhook secret (its id: `wh_` and 8 hex digits); the secret is shown this once.
    pub async fn create_webhook_secret(&self) -> ServiceResult<IssuedSecret> {
        let secret = new_secret();
        let id = format!("wh_{}", &new_secret()[..8]);
        let now = self.clock.now();
        let kept = WebhookSecret {
            id: id.clone(),
            hash: token_hash(&secret),
            previous_hash: None,
            previous_until: None,
            created_at: now,
            rotated_at: None,
            last_used_at: None,
        };
        self.db.put_webhook_secret(kept).await?;
        self.forget_secrets();
        Ok(issued(id, secret, None))
    }

    pub async fn webhook_secrets(&self) -> ServiceResult<Vec<SecretInfo>> {
        let now = self.clock.now();
        Ok(self
            .db
            .webhook_secrets()
            .await?
            .into_iter()
            .map(|s| SecretInfo {
                id: s.id,
                created_at: s.created_at,
                rotated_at: s.rotated_at,
                previous_valid_until: s.previous_until.filter(|t| *t > now),
                last_used_at: s.last_used_at,
            })
            .collect())
    }

    /// A new secret for `id`; the old one keeps working for [`ROTATION_GRACE`].
    pub async fn rotate_webhook_secret(&self, id: &str) -> ServiceResult<IssuedSecret> {
        let current = self
            .db
            .webhook_secrets()
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| ServiceError::NotFound(format!("no webhook secret '{id}'")))?;
        let secret = new_secret();
        let now = self.clock.now();
        let until = now + ROTATION_GRACE;
        let rotated = WebhookSecret {
            hash: token_hash(&secret),
            previous_hash: Some(current.hash.clone()),
            previous_until: Some(until),
            rotated_at: Some(now),
            ..current
        };
        self.db.put_webhook_secret(rotated).await?;
        self.forget_secrets();
        Ok(issued(id.to_owned(), secret, Some(until)))
    }

    /// Links a user to their Qontak agent id and CRM SSO user id (`None` for neither unlinks).
    pub async fn link_agent(
        &self,
        user_id: &str,
        agent_id: Option<String>,
        crm_sso_id: Option<String>,
    ) -> ServiceResult<AgentLink> {
        // The same ids webhooks can carry: 1 to 128 characters, no control characters.
        let fits = |v: &Option<String>| {
            v.as_ref().is_none_or(|s| lonceng_domain::model::is_plain_id(s, qontak::MAX_ID))
        };
        if !(fits(&agent_id) && fits(&crm_sso_id)) {
            return Err(ServiceError::Invalid(format!(
                "agent_id and crm_sso_id must be 1 to {} characters, without control characters",
                qontak::MAX_ID
            )));
        }
        let link = self
            .db
            .link_agent(user_id.to_owned(), agent_id, crm_sso_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no user '{user_id}'")))?;
        self.bridge.wake();
        Ok(link)
    }

    pub async fn agent_links(&self) -> ServiceResult<Vec<AgentLink>> {
        Ok(self.db.agent_links().await?)
    }

    pub async fn dead_letters(&self, limit: usize, before: Option<i64>) -> ServiceResult<Vec<DeadLetter>> {
        Ok(self.db.dead_letters(limit, before).await?)
    }

    /// Runs a dead letter through the intake again: used, it goes; refused, it stays with the reason.
    pub async fn replay_dead_letter(&self, id: i64) -> ServiceResult<WebhookAnswer> {
        let letter = self
            .db
            .dead_letter(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no dead letter {id}")))?;
        if letter.source != WEBHOOK_SOURCE {
            return Err(ServiceError::Conflict(
                "CRM items are read again on every poll of the CRM; this one is retried by itself".into(),
            ));
        }
        match self.intake(letter.body.as_bytes()).await? {
            Intake::Done(answer) => {
                self.db.settle_dead_letter(id, None).await?;
                Ok(answer)
            }
            Intake::Refused(reason) => {
                self.db.settle_dead_letter(id, Some(reason.clone())).await?;
                Ok(WebhookAnswer {
                    dead_letter_id: Some(id),
                    reason: Some(reason),
                    ..WebhookAnswer::of(WebhookStatus::DeadLetter)
                })
            }
        }
    }
}

fn issued(id: String, secret: String, previous_valid_until: Option<DateTime<Utc>>) -> IssuedSecret {
    IssuedSecret {
        path: format!("/v1/integrations/qontak/webhooks/{secret}"),
        id,
        secret,
        previous_valid_until,
    }
}
