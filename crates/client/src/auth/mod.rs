//! ORG-1 on the device: how the Lonceng source proves who it is. Either a fixed token (an admin's,
//! pasted under Settings → Advanced, for headless and test set-ups) or the device credentials
//! signing in gave ([`loopback`]): an access token for about an hour, renewed before it runs out and
//! whenever the server refuses it, with a refresh token that rotates on every renewal. The server
//! speaks OAuth 2 (RFC 6749), so the `oauth2` crate is the client: this module only decides when to
//! renew and what a refusal means.

pub mod loopback;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use lonceng_domain::clock::Clock;
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, ClientId, EndpointNotSet, EndpointSet, ExtraTokenFields, RefreshToken,
    RequestTokenError, StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::sync::{BoxFut, SourceError};

/// The app's client id at the server (a public client: no secret, PKCE instead).
pub const CLIENT_ID: &str = "lonceng-desktop";
/// Renew this long before the access token runs out (a laptop waking from sleep finds it run out
/// and renews at once).
const RENEW_AHEAD: Duration = Duration::minutes(5);
/// What the app says when the organisation signed the device out.
pub const SIGNED_OUT: &str = "Signed out by your organisation. Sign in again.";

/// Device credentials as the app keeps them (in the keyring, as JSON).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// The server they are for: another server's credentials are never sent anywhere.
    pub server: String,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
    pub user_id: String,
    pub device_id: String,
}

impl std::fmt::Debug for Credentials {
    /// Never the tokens: credentials may reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("server", &self.server)
            .field("user_id", &self.user_id)
            .field("device_id", &self.device_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Whose credentials the server's token answer carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceFields {
    pub user_id: String,
    pub device_id: String,
}
impl ExtraTokenFields for DeviceFields {}

pub type TokenAnswer = StandardTokenResponse<DeviceFields, BasicTokenType>;
pub type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The server as an OAuth 2 authorization server: its sign-in page and token endpoint.
pub fn oauth_client(server: &str) -> Result<OAuthClient, SourceError> {
    let base = server.trim_end_matches('/');
    let bad = |e: url::ParseError| SourceError::Protocol(format!("the server address: {e}"));
    Ok(oauth2::Client::new(ClientId::new(CLIENT_ID.into()))
        .set_auth_type(AuthType::RequestBody)
        .set_auth_uri(AuthUrl::new(format!("{base}/v1/auth/sign-in")).map_err(bad)?)
        .set_token_uri(TokenUrl::new(format!("{base}/v1/auth/token")).map_err(bad)?))
}

/// The HTTP client for the server's sign-in endpoints: no redirects (RFC 6749 §4.1.3's answer comes
/// from the endpoint itself; a redirect would carry the code, or a token, elsewhere).
pub fn token_http() -> reqwest::Client {
    lonceng_domain::net::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap_or_default()
}

/// Credentials from the server's answer.
pub fn credentials(
    server: &str,
    answer: &TokenAnswer,
    now: DateTime<Utc>,
) -> Result<Credentials, SourceError> {
    let refresh = answer
        .refresh_token()
        .ok_or_else(|| SourceError::Protocol("the server sent no refresh token".into()))?;
    let lifetime = answer.expires_in().and_then(|d| Duration::from_std(d).ok()).unwrap_or(Duration::hours(1));
    Ok(Credentials {
        server: server.to_owned(),
        access_token: answer.access_token().secret().clone(),
        refresh_token: refresh.secret().clone(),
        expires_at: now.checked_add_signed(lifetime).unwrap_or(now),
        user_id: answer.extra_fields().user_id.clone(),
        device_id: answer.extra_fields().device_id.clone(),
    })
}

/// What a token request's failure means: the server said no for good (`invalid_grant`: signed out),
/// or it could not answer now (worth a retry).
pub fn token_failure<E: std::error::Error>(e: RequestTokenError<E, BasicErrorResponse>) -> SourceError {
    match e {
        RequestTokenError::ServerResponse(r) if *r.error() == BasicErrorResponseType::InvalidGrant => {
            let why = r.error_description().cloned().unwrap_or_default();
            tracing::info!(reason = %why, "the server refused the device's credentials");
            SourceError::Unauthorized(SIGNED_OUT.into())
        }
        RequestTokenError::ServerResponse(r) => SourceError::Protocol(format!("the server refused: {r}")),
        RequestTokenError::Request(e) => SourceError::Network(format!("renewing the sign-in: {e}")),
        // Not an OAuth answer (a proxy's page, maintenance's 503): worth a retry later.
        RequestTokenError::Parse(e, _) => {
            SourceError::Network(format!("renewing the sign-in: the answer: {e}"))
        }
        RequestTokenError::Other(e) => SourceError::Protocol(e),
    }
}

/// What proves the source is the agent's device.
pub trait Bearer: Send + Sync + 'static {
    /// The token to send now (renewed first when it is about to run out).
    fn token(&self) -> BoxFut<'_, Result<String, SourceError>>;
    /// The server refused `token` (401): whether a new one is there to try (else the refusal
    /// stands).
    fn refused<'a>(&'a self, token: &'a str) -> BoxFut<'a, Result<bool, SourceError>>;
}

/// A token that never changes (an admin's, pasted; the demo's).
pub struct Fixed(pub String);

impl Bearer for Fixed {
    fn token(&self) -> BoxFut<'_, Result<String, SourceError>> {
        Box::pin(std::future::ready(Ok(self.0.clone())))
    }

    fn refused<'a>(&'a self, _token: &'a str) -> BoxFut<'a, Result<bool, SourceError>> {
        Box::pin(std::future::ready(Ok(false)))
    }
}

/// Called with renewed credentials to keep, or `None` when the organisation signed the device out.
pub type Keep = Arc<dyn Fn(Option<Credentials>) + Send + Sync>;

/// Device credentials, renewed as they need to be.
pub struct Renewing {
    creds: tokio::sync::Mutex<Option<Credentials>>,
    client: OAuthClient,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    keep: Keep,
}

impl Renewing {
    pub fn new(creds: Credentials, clock: Arc<dyn Clock>, keep: Keep) -> Result<Renewing, SourceError> {
        Ok(Renewing {
            client: oauth_client(&creds.server)?,
            creds: tokio::sync::Mutex::new(Some(creds)),
            http: token_http(),
            clock,
            keep,
        })
    }

    /// Renews `held` (the lock is held: one renewal at a time, and the others see its result).
    async fn renew(&self, held: &mut Option<Credentials>) -> Result<(), SourceError> {
        let Some(c) = held.as_ref() else { return Err(SourceError::Unauthorized(SIGNED_OUT.into())) };
        let answer = self
            .client
            .exchange_refresh_token(&RefreshToken::new(c.refresh_token.clone()))
            .request_async(&self.http)
            .await;
        match answer {
            Ok(a) => {
                let fresh = credentials(&c.server, &a, self.clock.now())?;
                (self.keep)(Some(fresh.clone()));
                *held = Some(fresh);
                Ok(())
            }
            Err(e) => {
                let failure = token_failure(e);
                if matches!(failure, SourceError::Unauthorized(_)) {
                    // For good: nothing here is worth sending again.
                    *held = None;
                    (self.keep)(None);
                }
                Err(failure)
            }
        }
    }
}

impl Bearer for Renewing {
    fn token(&self) -> BoxFut<'_, Result<String, SourceError>> {
        Box::pin(async move {
            let mut held = self.creds.lock().await;
            let due = held.as_ref().is_none_or(|c| c.expires_at - RENEW_AHEAD <= self.clock.now());
            if due {
                self.renew(&mut held).await?;
            }
            held.as_ref().map(|c| c.access_token.clone()).ok_or(SourceError::Unauthorized(SIGNED_OUT.into()))
        })
    }

    fn refused<'a>(&'a self, token: &'a str) -> BoxFut<'a, Result<bool, SourceError>> {
        Box::pin(async move {
            let mut held = self.creds.lock().await;
            // Renewed meanwhile by another request: try with that.
            if held.as_ref().is_some_and(|c| c.access_token != token) {
                return Ok(true);
            }
            self.renew(&mut held).await.map(|()| true)
        })
    }
}
