//! ORG-1: sign-in through the organisation's identity provider. The server is the OpenID Connect
//! relying party (the `openidconnect` crate does discovery, the keys, `state`, `nonce`, PKCE and
//! every ID token check); the desktop app is an OAuth 2 public client of this server, by the
//! native-app pattern (RFC 8252: the system browser and a loopback redirect; RFC 7636: PKCE).
//!
//! 1. `GET /v1/auth/sign-in` (the app opens it in the browser with its loopback address, state and
//!    PKCE challenge): the server keeps the sign-in in the database — the identity provider may
//!    answer another node — and sends the person to the identity provider.
//! 2. `GET /v1/auth/callback` (the identity provider's answer): the code is exchanged and the ID
//!    token checked; the person is admitted by the configured domains and group, mapped to a user
//!    (by `sub`, else their imported email, else made just in time), and the browser is sent back
//!    to the app's loopback with a one-time code valid for a minute.
//! 3. `POST /v1/auth/token` ([`grants`]): the app redeems the code with its PKCE verifier for device
//!    credentials — an access token for an hour and a refresh token that rotates on every use
//!    (a refresh token used twice was copied: the device is revoked). Only hashes are kept.

mod grants;
mod idp;
mod seal;

use idp::clip;

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, Client, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenClaims, IdTokenFields,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, SignatureVerificationError, StandardErrorResponse, StandardTokenResponse,
    TokenResponse,
};
use serde::{Deserialize, Serialize};

use super::{Actor, Service, ServiceError, ServiceResult};
use crate::db::{
    Database, DeviceMeta, Identity, NewDevice, NewTokens, Redeemed, Refreshed, SignInRequest, SignedInUser,
};
use crate::{new_secret, same_secret, token_hash};

/// From the app's first click to the identity provider's answer.
pub const SIGN_IN_LIFETIME: Duration = Duration::minutes(10);
/// The one-time code the app redeems right after the browser hands it back.
pub const CODE_LIFETIME: Duration = Duration::seconds(60);
/// A refresh token used again this soon after it was spent, while the one it was replaced by is
/// still unused, is the app asking again after a lost answer (a network that dropped it), not a
/// copy: it is honoured once more.
pub const RETRY_GRACE: Duration = Duration::seconds(60);
/// A refresh token not used for this long is no longer honoured.
pub const REFRESH_IDLE: Duration = Duration::days(90);
/// Unknown signing keys make the server read the provider's keys again, at most this often.
const REDISCOVER_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
/// Longest accepted text from the app (state, device name, OS, version).
const MAX_APP_TEXT: usize = 200;

/// The server's OpenID Connect set-up (`--oidc-*`).
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The identity provider's issuer URL (its discovery document is read from it).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// How the identity provider and browsers reach this server (`https://notifications.example.com`):
    /// the callback is `{public_url}/v1/auth/callback`.
    pub public_url: String,
    /// Email domains admitted (lower case); empty admits every person the provider vouches for.
    pub allowed_domains: Vec<String>,
    /// A group a person must be in, read from the ID token's `groups_claim`.
    pub required_group: Option<String>,
    /// The group whose people may use the admin console (none: the console takes the admin token
    /// only).
    pub admin_group: Option<String>,
    pub groups_claim: String,
    /// Scopes asked for besides `openid email profile`.
    pub extra_scopes: Vec<String>,
    /// Clock difference allowed between this server and the identity provider.
    pub clock_skew: Duration,
    /// How long an access token lasts.
    pub access_lifetime: Duration,
}

impl OidcConfig {
    pub fn callback_url(&self) -> String {
        format!("{}/v1/auth/callback", self.public_url.trim_end_matches('/'))
    }
}

/// The ID token's claims beyond the standard ones (the groups claim is named by configuration).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims(serde_json::Map<String, serde_json::Value>);
impl AdditionalClaims for OtherClaims {}

type Fields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<Fields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The identity provider as last discovered.
struct Provider {
    client: OidcClient,
    read_at: Instant,
}

/// Sign-in's state in one node: the discovered provider and the HTTP client that reaches it.
pub struct SignInState {
    provider: tokio::sync::Mutex<Option<std::sync::Arc<Provider>>>,
    http: reqwest::Client,
}

impl Default for SignInState {
    fn default() -> Self {
        // No redirects: discovery and the token endpoint answer directly (an open redirect at the
        // provider must not turn this server into a proxy).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        SignInState { provider: tokio::sync::Mutex::new(None), http }
    }
}

/// What the app sends to start a sign-in (`GET /v1/auth/sign-in`).
#[derive(Debug, Clone, Deserialize)]
pub struct AppSignIn {
    pub redirect_uri: String,
    pub state: String,
    pub code_challenge: String,
    pub code_challenge_method: String,
    #[serde(default)]
    pub device_name: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub app_version: String,
}

/// What a console sign-in keeps as its redirect: the console is no app on a loopback port.
pub const CONSOLE_RETURN: &str = "/admin/";

fn is_console(request: &SignInRequest) -> bool {
    request.redirect_uri == CONSOLE_RETURN
}

/// Where the identity provider's answer sends the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// Back to the app's loopback address (with a code, or with the reason it was refused).
    ToApp(String),
    /// An admin signed in to the console (ORG-4): the caller opens their session.
    Console { email: String, name: String },
    /// A console sign-in refused, with why.
    ConsoleRefused(String),
    /// A sign-in this server does not know (expired, used, forged): a page saying so.
    Unknown,
}

/// Device credentials (RFC 6749 §5.1), and whose they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub user_id: String,
    pub device_id: String,
}

/// A refused token request (RFC 6749 §5.2).
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidGrant(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// A refused sign-in, with the reason the person is shown.
struct Refusal(String);

/// What the identity provider says of a signed-in person now.
enum Recheck {
    /// Still admitted (with the provider's new refresh token, sealed, when it rotated it).
    Still(Option<String>),
    /// No longer: why.
    Gone(String),
    /// The provider could not be asked now.
    Unknown,
}

/// RFC 8252 §7.3: the app listens on the loopback interface, by IP literal, on any port.
pub fn is_loopback_redirect(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else { return false };
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    };
    url.scheme() == "http"
        && loopback
        && url.username().is_empty()
        && url.password().is_none()
        && url.fragment().is_none()
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters (a challenge has the same shape).
fn is_pkce_text(s: &str) -> bool {
    (43..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

fn app_text(s: &str, what: &str, required: bool) -> ServiceResult<String> {
    let ok =
        s.chars().count() <= MAX_APP_TEXT && !s.chars().any(char::is_control) && (!required || !s.is_empty());
    if ok {
        Ok(s.to_owned())
    } else {
        Err(ServiceError::Invalid(format!(
            "{what} must be 1 to {MAX_APP_TEXT} characters without control characters"
        )))
    }
}

/// The app's loopback address with query parameters added.
fn to_app(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            url.to_string()
        }
        Err(_) => redirect_uri.to_owned(),
    }
}

impl<D: Database> Service<D> {
    fn oidc(&self) -> ServiceResult<&OidcConfig> {
        self.config.oidc.as_ref().ok_or(ServiceError::NotConfigured(
            "this server has no identity provider set up (--oidc-issuer); ask your admin for a token",
        ))
    }

    /// The provider, discovered once and again when its keys may have changed (`fresh`).
    async fn provider(&self, fresh: bool) -> ServiceResult<std::sync::Arc<Provider>> {
        let oidc = self.oidc()?;
        let mut slot = self.signin.provider.lock().await;
        if let Some(p) = slot.as_ref() {
            if !fresh || p.read_at.elapsed() < REDISCOVER_EVERY {
                return Ok(p.clone());
            }
        }
        let issuer = IssuerUrl::new(oidc.issuer.clone())
            .map_err(|e| ServiceError::Invalid(format!("--oidc-issuer: {e}")))?;
        let metadata =
            CoreProviderMetadata::discover_async(issuer, &self.signin.http).await.map_err(|e| {
                tracing::warn!(error = %e, "the identity provider cannot be read");
                ServiceError::IdentityProvider(format!("the identity provider cannot be reached: {e}"))
            })?;
        let redirect = RedirectUrl::new(oidc.callback_url())
            .map_err(|e| ServiceError::Invalid(format!("--public-url: {e}")))?;
        let client = OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(oidc.client_id.clone()),
            Some(ClientSecret::new(oidc.client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        let provider = std::sync::Arc::new(Provider { client, read_at: Instant::now() });
        *slot = Some(provider.clone());
        Ok(provider)
    }

    /// Starts a sign-in: the URL of the identity provider's page the browser goes to.
    pub async fn begin_sign_in(&self, app: AppSignIn, address: Option<String>) -> ServiceResult<String> {
        self.oidc()?;
        if !is_loopback_redirect(&app.redirect_uri) {
            return Err(ServiceError::Invalid(
                "redirect_uri must be http://127.0.0.1:<port>/… or http://[::1]:<port>/… (RFC 8252)".into(),
            ));
        }
        if app.code_challenge_method != "S256" || !is_pkce_text(&app.code_challenge) {
            return Err(ServiceError::Invalid(
                "code_challenge must be an S256 PKCE challenge (RFC 7636)".into(),
            ));
        }
        let device = DeviceMeta {
            name: app_text(&app.device_name, "device_name", false)?,
            os: app_text(&app.os, "os", false)?,
            app_version: app_text(&app.app_version, "app_version", false)?,
        };
        let app_state = app_text(&app.state, "state", true)?;
        let (redirect_uri, code_challenge) = (app.redirect_uri, app.code_challenge);
        self.to_provider(address, move |nonce, idp_verifier, address| SignInRequest {
            redirect_uri,
            app_state,
            code_challenge,
            device,
            nonce,
            idp_verifier,
            address,
        })
        .await
    }

    /// ORG-4: starts an admin's sign-in to the console: the identity provider's page to go to.
    pub async fn begin_console_sign_in(&self, address: Option<String>) -> ServiceResult<String> {
        let oidc = self.oidc()?;
        if oidc.admin_group.is_none() {
            return Err(ServiceError::NotConfigured(
                "this server has no admin group set up (--oidc-admin-group): sign in with the admin token",
            ));
        }
        self.to_provider(address, |nonce, idp_verifier, address| SignInRequest {
            redirect_uri: CONSOLE_RETURN.into(),
            app_state: String::new(),
            code_challenge: String::new(),
            device: DeviceMeta {
                name: "admin console".into(),
                os: String::new(),
                app_version: String::new(),
            },
            nonce,
            idp_verifier,
            address,
        })
        .await
    }

    /// Keeps a sign-in (made by `kept` from its nonce, PKCE verifier and address) and gives the
    /// identity provider's page it starts at.
    async fn to_provider(
        &self,
        address: Option<String>,
        kept: impl FnOnce(String, String, Option<String>) -> SignInRequest,
    ) -> ServiceResult<String> {
        let oidc = self.oidc()?.clone();
        let provider = self.provider(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = provider
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()));
        for scope in &oidc.extra_scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let kept = kept(nonce.secret().clone(), verifier.secret().clone(), address);
        self.db.start_sign_in(token_hash(state.secret()), kept, self.clock.now()).await?;
        Ok(url.to_string())
    }

    /// The identity provider's answer: where the browser goes next.
    pub async fn finish_sign_in(
        &self,
        state: &str,
        code: Option<&str>,
        idp_error: Option<&str>,
        address: Option<String>,
    ) -> ServiceResult<Callback> {
        self.oidc()?;
        let now = self.clock.now();
        let state_hash = token_hash(state);
        let Some(request) = self.db.take_sign_in(state_hash.clone(), now - SIGN_IN_LIFETIME, now).await?
        else {
            return Ok(Callback::Unknown);
        };
        let address = address.or_else(|| request.address.clone());
        let refuse = |why: String| {
            Callback::ToApp(to_app(
                &request.redirect_uri,
                &[("error", "access_denied"), ("error_description", &why), ("state", &request.app_state)],
            ))
        };
        let judged = match (idp_error, code) {
            (Some(e), _) => Err(Refusal(format!("the identity provider refused the sign-in ({})", clip(e)))),
            (None, None) => Err(Refusal("the identity provider sent no code".into())),
            // The provider out of reach is said to the app too, which would otherwise wait.
            (None, Some(code)) => match self.person(code, &request, now).await {
                Ok(judged) => judged,
                Err(ServiceError::IdentityProvider(why)) => Err(Refusal(why)),
                Err(e) => return Err(e),
            },
        };
        let console = is_console(&request);
        let (identity, idp_refresh) = match judged {
            Ok(found) => found,
            Err(Refusal(why)) if console => {
                self.record(&Actor::server(address), "console_sign_in_refused", "console", &why).await;
                return Ok(Callback::ConsoleRefused(why));
            }
            Err(Refusal(why)) => {
                self.record(&Actor::server(address), "sign_in_refused", &request.device.name, &why).await;
                return Ok(refuse(why));
            }
        };
        if console {
            let actor = Actor::console(&identity.email, address);
            self.record(&actor, "console_sign_in", "console", &identity.name).await;
            return Ok(Callback::Console { email: identity.email, name: identity.name });
        }
        let user = match self.db.sign_in_user(identity.clone()).await {
            Ok(SignedInUser::User { id, .. }) => id,
            Ok(SignedInUser::Disabled(id)) => {
                let why = "your account is disabled in Lonceng; ask your admin".to_owned();
                self.record(&Actor::user(&id, address), "sign_in_refused", &request.device.name, &why).await;
                return Ok(refuse(why));
            }
            Err(crate::db::DbError::Conflict(why)) => {
                self.record(&Actor::server(address), "sign_in_refused", &identity.email, &why).await;
                return Ok(refuse(why));
            }
            Err(e) => return Err(e.into()),
        };
        let code = new_secret();
        self.db.code_sign_in(state_hash, token_hash(&code), user.clone(), idp_refresh, now).await?;
        let detail = format!("{} ({})", identity.email, request.device.os);
        self.record(&Actor::user(&user, address), "sign_in", &request.device.name, &detail).await;
        Ok(Callback::ToApp(to_app(&request.redirect_uri, &[("code", &code), ("state", &request.app_state)])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_ip_literals_over_http_are_redirects() {
        for ok in ["http://127.0.0.1:49152/callback", "http://[::1]:8000/", "http://127.0.0.1/x?y=1"] {
            assert!(is_loopback_redirect(ok), "{ok}");
        }
        for bad in [
            "http://localhost:8000/",
            "https://127.0.0.1:8000/",
            "http://127.0.0.1.evil.example/",
            "http://evil.example/",
            "http://user@127.0.0.1:8000/",
            "http://127.0.0.1:8000/#frag",
            "lonceng://sign-in",
            "not a url",
        ] {
            assert!(!is_loopback_redirect(bad), "{bad}");
        }
    }

    #[test]
    fn pkce_text_is_43_to_128_unreserved_characters() {
        assert!(is_pkce_text(&"a".repeat(43)));
        assert!(is_pkce_text(&"A-._~9".repeat(20)));
        assert!(!is_pkce_text(&"a".repeat(42)));
        assert!(!is_pkce_text(&"a".repeat(129)));
        assert!(!is_pkce_text(&format!("{}+", "a".repeat(43))));
    }
}
