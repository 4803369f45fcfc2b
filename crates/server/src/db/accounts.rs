//! What the database keeps for sign-in (ORG-1): people's identities at the organisation's identity
//! provider, their devices with expiring access tokens and rotating refresh tokens (hashes only),
//! sign-ins under way (kept here, not in a node's memory, because the identity provider's answer
//! may reach another node behind the load balancer), and the audit trail of sign-ins and admin
//! actions (ORG-2).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The device a client token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub user_id: String,
    pub device_id: String,
}

/// A device found by its token, and until when the token is good (`None`: an admin's token, good
/// until revoked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub device: Device,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a device says of itself when it signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceMeta {
    pub name: String,
    pub os: String,
    pub app_version: String,
}

/// A device about to be made by a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    pub id: String,
    pub meta: DeviceMeta,
}

/// A device's new credentials, as hashes, and where they were asked for from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTokens {
    pub access_hash: String,
    pub access_expires: DateTime<Utc>,
    pub refresh_hash: String,
    pub at: DateTime<Utc>,
    pub address: Option<String>,
}

/// A device as an administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub os: String,
    pub app_version: String,
    /// Signed in through the identity provider (false: a token an admin issued).
    pub signed_in: bool,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub last_address: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_why: Option<String>,
}

/// A sign-in on its way through the identity provider: what the app asked for, and what the
/// server sent the identity provider (to check its answer with).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRequest {
    /// The app's loopback address the one-time code goes to.
    pub redirect_uri: String,
    /// The app's own state, handed back with the code.
    pub app_state: String,
    /// The app's PKCE challenge (S256).
    pub code_challenge: String,
    pub device: DeviceMeta,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The server's own PKCE verifier towards the identity provider.
    pub idp_verifier: String,
    pub address: Option<String>,
}

/// A sign-in that has been given a one-time code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub request: SignInRequest,
    pub user_id: String,
    pub coded_at: DateTime<Utc>,
    pub redeemed_at: Option<DateTime<Utc>>,
    pub device_id: Option<String>,
    /// The identity provider's refresh token, sealed (`service::signin`): the device made from this
    /// sign-in keeps it, to ask the provider again whether the person is still admitted.
    pub idp_refresh: Option<String>,
}

/// What redeeming a one-time code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// The device was made with its credentials.
    Made(Device),
    /// The code had been redeemed before (or is too old): the device it made, if any, is revoked.
    Refused { revoked: Option<Device> },
}

/// What a refresh did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    /// With the identity provider's refresh token the device keeps (sealed), if any.
    Rotated { device: Device, idp_refresh: Option<String> },
    /// The refresh token had been used before: the device is revoked now.
    Reused(Device),
    /// Unknown, or its device revoked or its user disabled.
    Refused,
}

/// A person as the identity provider vouched for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    /// Verified, lower case.
    pub email: String,
    pub name: String,
}

/// Who a person signing in is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedInUser {
    /// A user (`made`: just now, on this first sign-in).
    User { id: String, made: bool },
    /// The user is disabled: no sign-in.
    Disabled(String),
}

/// An entry of the audit trail to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    pub at: DateTime<Utc>,
    /// `admin` (the admin token), `user:<id>` (a person signing in), `server`.
    pub actor: String,
    /// `sign_in`, `sign_in_refused`, `device_revoked`, `refresh_reused`, `user_disabled`, …
    pub action: String,
    pub target: String,
    pub address: Option<String>,
    pub detail: String,
}

/// An entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub address: Option<String>,
    pub detail: String,
}

/// What is past use: sign-ins started before `sign_ins_before`, access tokens that expired before
/// `access_before`, refresh tokens issued before `refresh_before` (a spent one is kept until then,
/// so that its reuse is still caught).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forget {
    pub sign_ins_before: DateTime<Utc>,
    pub access_before: DateTime<Utc>,
    pub refresh_before: DateTime<Utc>,
    /// Console sessions that expired before this.
    pub sessions_before: DateTime<Utc>,
}

/// An admin console session as kept: whose it is, its data, and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// The SHA-256 of the cookie's session id.
    pub id_hash: String,
    /// The admin's email, or `admin` for the holder of the admin token.
    pub person: String,
    /// The session's data (JSON), as the session library wrote it.
    pub record: String,
    pub expires_at: DateTime<Utc>,
}

/// A user as the admin's list shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub agent_id: Option<String>,
    pub crm_sso_id: Option<String>,
    /// Devices signed in now (not revoked).
    pub devices: i64,
}

/// Which users a list shows: those whose id, name or email holds `text` (any case), after `after`
/// (an id: keyset paging), `limit` at most, by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserQuery {
    pub text: Option<String>,
    pub after: Option<String>,
    pub limit: usize,
}

/// Which audit entries a list shows: by who (exact) and what (exact), older than `before`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub before: Option<i64>,
    pub limit: usize,
}

/// How a node is doing, as it reports itself (the admin's health page): the numbers its `/metrics`
/// shows, where nginx does not let anyone reach a node's own address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeReport {
    pub id: String,
    pub version: String,
    pub started_at: DateTime<Utc>,
    pub seen_at: DateTime<Utc>,
    pub streams_open: u64,
    pub events_received: u64,
    pub changes_sent: u64,
    /// From a change's commit to its frame on a stream, the 50th and 99th percentile (bucket
    /// bounds, milliseconds); none before the first change.
    pub delivery_lag_p50_ms: Option<f64>,
    pub delivery_lag_p99_ms: Option<f64>,
    /// Database calls, the 99th percentile (milliseconds).
    pub db_p99_ms: Option<f64>,
    pub db_unavailable: u64,
    pub dead_letters: u64,
}
