//! Stream tickets: a web page cannot give `EventSource` an `Authorization` header, so a signed-in
//! page asks for a short-lived ticket and puts it in the stream's URL. A ticket names the user and
//! device it was issued to and when it expires, signed with a key derived from the admin token (so
//! every node of a deployment, which shares its configuration, accepts every node's tickets). It
//! may be used again until it expires: `EventSource` reconnects with the same URL.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{Service, ServiceError, ServiceResult};
use crate::db::{Database, Device};

/// How long a ticket lets a page open (and reopen) a stream.
pub const TICKET_LIFETIME: Duration = Duration::minutes(10);

#[derive(Serialize, Deserialize)]
struct Claims {
    u: String,
    d: String,
    /// Expiry, Unix seconds.
    e: i64,
}

impl<D: Database> Service<D> {
    fn ticket_mac(&self) -> Hmac<Sha256> {
        // Keyed by the admin token, never by anything a client holds.
        let key = crate::token_hash(&format!("lonceng stream tickets\0{}", self.config.admin_token));
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes a key of any length")
    }

    /// A ticket for `device`'s streams, and when it expires.
    pub fn stream_ticket(&self, device: &Device) -> (String, DateTime<Utc>) {
        let expires = self.clock.now() + TICKET_LIFETIME;
        let claims =
            Claims { u: device.user_id.clone(), d: device.device_id.clone(), e: expires.timestamp() };
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let mut mac = self.ticket_mac();
        mac.update(body.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        (format!("{body}.{sig}"), expires)
    }

    /// The device of a ticket this deployment issued and that has not expired.
    pub fn redeem_ticket(&self, ticket: &str) -> ServiceResult<Device> {
        let (body, sig) = ticket.split_once('.').ok_or(ServiceError::Unauthorized)?;
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| ServiceError::Unauthorized)?;
        let mut mac = self.ticket_mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&sig).map_err(|_| ServiceError::Unauthorized)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(body)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(ServiceError::Unauthorized)?;
        if claims.e < self.clock.now().timestamp() {
            return Err(ServiceError::Unauthorized);
        }
        Ok(Device { user_id: claims.u, device_id: claims.d })
    }
}
