//! The Qontak CRM notifications API as a client (shared/reference): HMAC-signed requests, the paged
//! list read and mapped, an item marked read. The desktop's direct CRM mode and the server's CRM
//! bridge both speak to the CRM through this one client.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Method, Response, StatusCode};

use super::{crm_id_of, sign, Credentials, CrmNotification, CrmPage};
use crate::clock::Clock;
use crate::model::{Notification, Rejected};
use crate::net::{failure, read_capped, Endpoint, SourceError};

/// Pages read per poll: the newest notifications come first.
pub const MAX_PAGES: u32 = 5;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest page of the CRM list read.
const MAX_PAGE_BYTES: usize = 8 << 20;

/// Why the CRM gateway refused a request, in words an agent (or an admin) can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrmRefusal {
    #[error("the CRM refused the signature: check the client id and client secret (the company's HMAC credentials)")]
    Signature,
    /// The gateway accepts signatures dated within 300 s of its clock.
    #[error("this computer's clock is {0} s away from the CRM's, and the CRM accepts at most 300 s: set the clock right")]
    ClockSkew(i64),
    #[error("the CRM does not know the SSO user id '{0}', or it may not read notifications")]
    UnknownUser(String),
}

/// A failed CRM request: refused (retrying as is cannot help) or any other failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CrmError {
    #[error(transparent)]
    Refused(CrmRefusal),
    #[error(transparent)]
    Other(SourceError),
}

impl From<CrmError> for SourceError {
    fn from(e: CrmError) -> SourceError {
        match e {
            CrmError::Refused(r) => SourceError::Unauthorized(r.to_string()),
            CrmError::Other(e) => e,
        }
    }
}

/// One page of the CRM list, mapped: the items, those that did not map (with why), and whether
/// another page is worth reading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fetched {
    pub items: Vec<Notification>,
    pub rejected: Vec<Rejected>,
    pub more: bool,
    pub next: u32,
}

/// How far the gateway's clock (its `Date` header) is from `now`, in seconds.
fn skew(resp: &Response, now: DateTime<Utc>) -> Option<i64> {
    let date = resp.headers().get(reqwest::header::DATE)?.to_str().ok()?;
    let theirs = DateTime::parse_from_rfc2822(date).ok()?.with_timezone(&Utc);
    Some(now.signed_duration_since(theirs).num_seconds())
}

pub struct CrmClient {
    at: Endpoint,
    creds: Credentials,
    /// Lonceng's id for the agent (the recipient of every item).
    recipient_id: String,
    clock: Arc<dyn Clock>,
}

impl CrmClient {
    /// `base`: `https://api.mekari.com` (production) or `https://api.mekari.io` (staging).
    pub fn new(
        base: &str,
        creds: Credentials,
        recipient_id: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<CrmClient, SourceError> {
        let at = Endpoint::new(base, Some(REQUEST_TIMEOUT))?;
        Ok(CrmClient { at, creds, recipient_id: recipient_id.to_owned(), clock })
    }

    /// A client on an HTTP client shared with others (and its connections): the server's bridge
    /// makes one per agent and poll, and a client of its own each time would cost milliseconds.
    pub fn with_client(
        base: &str,
        http: reqwest::Client,
        creds: Credentials,
        recipient_id: &str,
        clock: Arc<dyn Clock>,
    ) -> CrmClient {
        let at = Endpoint::with_client(base, http);
        CrmClient { at, creds, recipient_id: recipient_id.to_owned(), clock }
    }

    /// A request signed for `path_and_query` at the clock's now.
    fn signed(&self, method: Method, path_and_query: &str) -> reqwest::RequestBuilder {
        let signed = sign(&self.creds, method.as_str(), path_and_query, self.clock.now());
        self.at
            .http
            .request(method, self.at.url(path_and_query))
            .header("Date", signed.date)
            .header("Authorization", signed.authorization)
            .header("X-Crm-User-Sso-Id", &self.creds.sso_user_id)
            .header("Content-Type", "application/json")
    }

    /// A failed response as a [`CrmError`]: 401 is a wrong signature or a clock too far off, 403 an
    /// SSO user id the CRM does not know.
    async fn refused(&self, resp: Response) -> CrmError {
        match resp.status() {
            StatusCode::UNAUTHORIZED => match skew(&resp, self.clock.now()) {
                Some(s) if s.abs() > 300 => CrmError::Refused(CrmRefusal::ClockSkew(s)),
                _ => CrmError::Refused(CrmRefusal::Signature),
            },
            StatusCode::FORBIDDEN => {
                CrmError::Refused(CrmRefusal::UnknownUser(self.creds.sso_user_id.clone()))
            }
            _ => CrmError::Other(failure(resp).await),
        }
    }

    /// `PUT …/{id}/mark_as_read` for a Lonceng item that came from the CRM (others are skipped).
    pub async fn mark_read(&self, id: &str) -> Result<(), CrmError> {
        let Some(crm_id) = crm_id_of(id) else { return Ok(()) };
        let path = format!("/qontak/crm/notifications/{crm_id}/mark_as_read");
        let resp = self
            .signed(Method::PUT, &path)
            .send()
            .await
            .map_err(|e| CrmError::Other(crate::net::network(e)))?;
        match resp.status() {
            s if s.is_success() => Ok(()),
            // Deleted on the CRM side: nothing left to mark.
            StatusCode::NOT_FOUND => Ok(()),
            _ => Err(self.refused(resp).await),
        }
    }

    /// Page `page_no` (from 1) of the agent's notifications, newest first.
    pub async fn fetch(&self, page_no: u32) -> Result<Fetched, CrmError> {
        let path = format!("/qontak/crm/notifications?page={page_no}");
        let resp = self
            .signed(Method::GET, &path)
            .send()
            .await
            .map_err(|e| CrmError::Other(crate::net::network(e)))?;
        if !resp.status().is_success() {
            return Err(self.refused(resp).await);
        }
        let body = read_capped(resp, MAX_PAGE_BYTES).await.map_err(CrmError::Other)?;
        decode_page(&body, page_no, &self.recipient_id, self.clock.now()).map_err(CrmError::Other)
    }
}

/// Decodes page `page_no` of the CRM list for `recipient_id`. A page that is not a page fails; an
/// item in it that does not map is quarantined with the reason (fuzzed: `fuzz/fuzz_targets/crm.rs`).
pub fn decode_page(
    body: &[u8],
    page_no: u32,
    recipient_id: &str,
    now: DateTime<Utc>,
) -> Result<Fetched, SourceError> {
    let page: CrmPage =
        serde_json::from_slice(body).map_err(|e| SourceError::Protocol(format!("CRM list: {e}")))?;
    let mut fetched = Fetched::default();
    for raw in page.response {
        let text = raw.to_string();
        let mapped = serde_json::from_value::<CrmNotification>(raw)
            .map_err(|e| format!("CRM notification: {e}"))
            .and_then(|n| n.to_notification(recipient_id, now).map_err(|e| e.to_string()));
        match mapped {
            Ok(n) => fetched.items.push(n),
            Err(error) => fetched.rejected.push(Rejected::new(&text, error)),
        }
    }
    let total = page.total_page.unwrap_or(1);
    fetched.more = page_no < total && page_no < MAX_PAGES;
    fetched.next = page_no.saturating_add(1);
    Ok(fetched)
}
