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
//! 3. `POST /v1/auth/token`: the app redeems the code with its PKCE verifier for device
//!    credentials — an access token for an hour and a refresh token that rotates on every use
//!    (a refresh token used twice was copied: the device is revoked). Only hashes are kept.

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

/// Where the identity provider's answer sends the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// Back to the app's loopback address (with a code, or with the reason it was refused).
    ToApp(String),
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

/// The key that seals the identity provider's refresh tokens at rest: derived from the client
/// secret, which every node has and the database does not.
fn sealing_key(oidc: &OidcConfig) -> Option<ring::aead::LessSafeKey> {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("lonceng: identity provider refresh tokens\0{}", oidc.client_secret).as_bytes(),
    );
    let key = ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, digest.as_ref()).ok()?;
    Some(ring::aead::LessSafeKey::new(key))
}

/// A secret sealed (ChaCha20-Poly1305, a random nonce first), base64.
fn seal(oidc: &OidcConfig, secret: &str) -> Option<String> {
    use ring::rand::SecureRandom;
    let key = sealing_key(oidc)?;
    let mut nonce = [0u8; ring::aead::NONCE_LEN];
    ring::rand::SystemRandom::new().fill(&mut nonce).ok()?;
    let mut sealed = secret.as_bytes().to_vec();
    key.seal_in_place_append_tag(
        ring::aead::Nonce::assume_unique_for_key(nonce),
        ring::aead::Aad::empty(),
        &mut sealed,
    )
    .ok()?;
    let mut out = nonce.to_vec();
    out.extend(sealed);
    Some(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, out))
}

/// A sealed secret opened; none when it was sealed with another key or tampered with.
fn unseal(oidc: &OidcConfig, sealed: &str) -> Option<String> {
    let key = sealing_key(oidc)?;
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sealed).ok()?;
    if bytes.len() < ring::aead::NONCE_LEN {
        return None;
    }
    let (nonce, body) = bytes.split_at(ring::aead::NONCE_LEN);
    let nonce = ring::aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut body = body.to_vec();
    let plain = key.open_in_place(nonce, ring::aead::Aad::empty(), &mut body).ok()?;
    String::from_utf8(plain.to_vec()).ok()
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
        let oidc = self.oidc()?.clone();
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
        let kept = SignInRequest {
            redirect_uri: app.redirect_uri,
            app_state,
            code_challenge: app.code_challenge,
            device,
            nonce: nonce.secret().clone(),
            idp_verifier: verifier.secret().clone(),
            address,
        };
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
        let (identity, idp_refresh) = match judged {
            Ok(found) => found,
            Err(Refusal(why)) => {
                self.record(&Actor::server(address), "sign_in_refused", &request.device.name, &why).await;
                return Ok(refuse(why));
            }
        };
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

    /// Exchanges the provider's code and checks the person: the ID token by the library, then the
    /// organisation's rules (a verified email in an allowed domain, the required group).
    async fn person(
        &self,
        code: &str,
        request: &SignInRequest,
        now: DateTime<Utc>,
    ) -> ServiceResult<Result<(Identity, Option<String>), Refusal>> {
        let oidc = self.oidc()?;
        let mut provider = self.provider(false).await?;
        let exchange = match provider.client.exchange_code(AuthorizationCode::new(code.to_owned())) {
            Ok(e) => e,
            Err(e) => return Ok(Err(Refusal(format!("the identity provider has no token endpoint: {e}")))),
        };
        let answer = exchange
            .set_pkce_verifier(PkceCodeVerifier::new(request.idp_verifier.clone()))
            .request_async(&self.signin.http)
            .await;
        let tokens = match answer {
            Ok(t) => t,
            Err(e) => {
                return Ok(Err(Refusal(format!("the identity provider did not accept the sign-in: {e}"))))
            }
        };
        let Some(id_token) = tokens.id_token() else {
            return Ok(Err(Refusal("the identity provider sent no ID token".into())));
        };
        let nonce = Nonce::new(request.nonce.clone());
        let skew = oidc.clock_skew;
        let check =
            |p: &Provider| -> Result<IdTokenClaims<OtherClaims, CoreGenderClaim>, ClaimsVerificationError> {
                let verifier =
                    p.client.id_token_verifier().set_time_fn(move || now - skew).set_issue_time_verifier_fn(
                        move |iat| {
                            if iat > now + skew {
                                Err(format!("issued in the future ({iat})"))
                            } else {
                                Ok(())
                            }
                        },
                    );
                id_token.claims(&verifier, &nonce).cloned()
            };
        let claims = match check(&provider) {
            // The provider may have rotated its keys since they were read: read them again, once.
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                provider = self.provider(true).await?;
                check(&provider)
            }
            other => other,
        };
        let claims = match claims {
            Ok(c) => c,
            Err(e) => return Ok(Err(Refusal(format!("the identity provider's ID token was refused: {e}")))),
        };
        // Kept (sealed) to ask the provider again, at each renewal, whether the person may still
        // sign in.
        let refresh = tokens.refresh_token().and_then(|r| seal(oidc, r.secret()));
        Ok(admit(oidc, &claims).map(|identity| (identity, refresh)))
    }

    /// ORG-2: asks the identity provider again (with its refresh token) whether the person may
    /// still sign in: gone from it, or out of the required group, is the end of the device. When the
    /// provider cannot be asked now, the device goes on: an outage must not sign everyone out.
    async fn still_admitted(&self, sealed: &str) -> ServiceResult<Recheck> {
        let oidc = self.oidc()?;
        let Some(refresh) = unseal(oidc, sealed) else {
            tracing::warn!(
                "an identity provider refresh token cannot be opened (the client secret changed?)"
            );
            return Ok(Recheck::Unknown);
        };
        let provider = self.provider(false).await?;
        let refresh = RefreshToken::new(refresh);
        let Ok(request) = provider.client.exchange_refresh_token(&refresh) else {
            return Ok(Recheck::Unknown);
        };
        let tokens = match request.request_async(&self.signin.http).await {
            Ok(t) => t,
            Err(RequestTokenError::ServerResponse(e))
                if *e.error() == CoreErrorResponseType::InvalidGrant =>
            {
                return Ok(Recheck::Gone("the identity provider no longer signs this person in".into()))
            }
            Err(e) => {
                tracing::warn!(error = %e, "the identity provider could not be asked about a device");
                return Ok(Recheck::Unknown);
            }
        };
        let kept = tokens.refresh_token().and_then(|r| seal(oidc, r.secret()));
        let Some(id_token) = tokens.id_token() else { return Ok(Recheck::Still(kept)) };
        let now = self.clock.now();
        let skew = oidc.clock_skew;
        let verifier = provider.client.id_token_verifier().set_time_fn(move || now - skew);
        // A renewed ID token carries no nonce (OpenID Connect Core §12.2).
        match id_token.claims(&verifier, |_: Option<&Nonce>| Ok(())) {
            Ok(claims) => Ok(match admit(oidc, claims) {
                Ok(_) => Recheck::Still(kept),
                Err(Refusal(why)) => Recheck::Gone(why),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "a renewed ID token was refused");
                Ok(Recheck::Unknown)
            }
        }
    }

    /// Redeems the one-time code for device credentials (`grant_type=authorization_code`).
    pub async fn redeem_sign_in(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
        address: Option<String>,
    ) -> Result<Credentials, GrantError> {
        let oidc = self.oidc()?.clone();
        if !is_pkce_text(verifier) {
            return Err(GrantError::InvalidRequest(
                "code_verifier must be 43 to 128 unreserved characters".into(),
            ));
        }
        let code_hash = token_hash(code);
        let Some(sign_in) = self.db.coded_sign_in(code_hash.clone()).await.map_err(ServiceError::from)?
        else {
            return Err(GrantError::InvalidGrant("the sign-in code is not valid".into()));
        };
        if redirect_uri != sign_in.request.redirect_uri {
            return Err(GrantError::InvalidGrant(
                "redirect_uri is not the one the sign-in started with".into(),
            ));
        }
        let computed =
            PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.to_owned()));
        if !same_secret(computed.as_str(), &sign_in.request.code_challenge) {
            return Err(GrantError::InvalidGrant("the PKCE verifier does not match the challenge".into()));
        }
        let now = self.clock.now();
        let (fresh, access, refresh) = self.new_tokens(&oidc, address.clone());
        let device =
            NewDevice { id: format!("d-{}", &new_secret()[..16]), meta: sign_in.request.device.clone() };
        match self
            .db
            .redeem_code(code_hash, now - CODE_LIFETIME, device, fresh)
            .await
            .map_err(ServiceError::from)?
        {
            Redeemed::Made(d) => Ok(Credentials {
                access_token: access,
                token_type: "Bearer".into(),
                expires_in: oidc.access_lifetime.num_seconds(),
                refresh_token: refresh,
                user_id: d.user_id,
                device_id: d.device_id,
            }),
            Redeemed::Refused { revoked } => {
                if let Some(d) = revoked {
                    self.devices_revoked(&d.user_id, std::slice::from_ref(&d.device_id)).await;
                    let actor = Actor::user(&d.user_id, address);
                    self.record(&actor, "device_revoked", &d.device_id, "its sign-in code was used twice")
                        .await;
                }
                Err(GrantError::InvalidGrant("the sign-in code was used already or has expired".into()))
            }
        }
    }

    /// Rotates a device's credentials (`grant_type=refresh_token`).
    pub async fn refresh_credentials(
        &self,
        refresh: &str,
        address: Option<String>,
    ) -> Result<Credentials, GrantError> {
        let oidc = self.oidc()?.clone();
        let now = self.clock.now();
        let (fresh, access, new_refresh) = self.new_tokens(&oidc, address.clone());
        match self
            .db
            .refresh(token_hash(refresh), now - REFRESH_IDLE, now - RETRY_GRACE, fresh)
            .await
            .map_err(ServiceError::from)?
        {
            Refreshed::Rotated { device: d, idp_refresh } => {
                if let Some(sealed) = idp_refresh {
                    match self.still_admitted(&sealed).await? {
                        Recheck::Still(None) | Recheck::Unknown => {}
                        Recheck::Still(kept) => {
                            self.db.set_idp_refresh(d.clone(), kept).await.map_err(ServiceError::from)?;
                        }
                        Recheck::Gone(why) => {
                            let revoked = self
                                .db
                                .revoke(d.user_id.clone(), Some(d.device_id.clone()), why.clone(), now)
                                .await
                                .map_err(ServiceError::from)?;
                            self.devices_revoked(&d.user_id, &revoked).await;
                            let actor = Actor::user(&d.user_id, address);
                            self.record(&actor, "device_revoked", &d.device_id, &why).await;
                            return Err(GrantError::InvalidGrant(format!(
                                "this device was signed out: {why}"
                            )));
                        }
                    }
                }
                Ok(Credentials {
                    access_token: access,
                    token_type: "Bearer".into(),
                    expires_in: oidc.access_lifetime.num_seconds(),
                    refresh_token: new_refresh,
                    user_id: d.user_id,
                    device_id: d.device_id,
                })
            }
            Refreshed::Reused(d) => {
                self.devices_revoked(&d.user_id, std::slice::from_ref(&d.device_id)).await;
                let actor = Actor::user(&d.user_id, address);
                self.record(
                    &actor,
                    "device_revoked",
                    &d.device_id,
                    "its refresh token was used twice (copied)",
                )
                .await;
                Err(GrantError::InvalidGrant(
                    "this device was signed out: its sign-in was used elsewhere".into(),
                ))
            }
            Refreshed::Refused => Err(GrantError::InvalidGrant("this device is signed out".into())),
        }
    }

    /// New credentials: what the database keeps (hashes), the access token and the refresh token.
    fn new_tokens(&self, oidc: &OidcConfig, address: Option<String>) -> (NewTokens, String, String) {
        let now = self.clock.now();
        let (access, refresh) = (new_secret(), new_secret());
        let kept = NewTokens {
            access_hash: token_hash(&access),
            access_expires: now + oidc.access_lifetime,
            refresh_hash: token_hash(&refresh),
            at: now,
            address,
        };
        (kept, access, refresh)
    }
}

/// The organisation's rules, on claims the library has verified.
fn admit(
    oidc: &OidcConfig,
    claims: &IdTokenClaims<OtherClaims, CoreGenderClaim>,
) -> Result<Identity, Refusal> {
    let email = match (claims.email(), claims.email_verified()) {
        (Some(e), Some(true)) => e.as_str().trim().to_lowercase(),
        (Some(_), _) => return Err(Refusal("your email is not verified at the identity provider".into())),
        (None, _) => return Err(Refusal("the identity provider did not give your email".into())),
    };
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if !oidc.allowed_domains.is_empty() && !oidc.allowed_domains.iter().any(|d| d == domain) {
        return Err(Refusal(format!("{email} is not in a domain this organisation admits")));
    }
    if let Some(group) = &oidc.required_group {
        let groups = claims.additional_claims().0.get(&oidc.groups_claim);
        let member = match groups {
            Some(serde_json::Value::Array(gs)) => gs.iter().any(|g| g.as_str() == Some(group)),
            Some(serde_json::Value::String(g)) => g == group,
            _ => false,
        };
        if !member {
            return Err(Refusal(format!("{email} is not in the group '{group}' that may use Lonceng")));
        }
    }
    let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()).unwrap_or_default();
    Ok(Identity {
        issuer: claims.issuer().as_str().to_owned(),
        subject: claims.subject().as_str().to_owned(),
        email,
        name: name.chars().filter(|c| !c.is_control()).take(200).collect(),
    })
}

/// At most 200 characters of what the identity provider said, for a message.
fn clip(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
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
    fn a_sealed_refresh_token_opens_only_with_the_same_client_secret() {
        let mut oidc = OidcConfig {
            issuer: "https://idp.example".into(),
            client_id: "lonceng".into(),
            client_secret: "one".into(),
            public_url: "https://nc.example".into(),
            allowed_domains: Vec::new(),
            required_group: None,
            groups_claim: "groups".into(),
            extra_scopes: Vec::new(),
            clock_skew: Duration::seconds(60),
            access_lifetime: Duration::hours(1),
        };
        let sealed = seal(&oidc, "idp-refresh-token").unwrap();
        assert!(!sealed.contains("idp-refresh"));
        assert_ne!(seal(&oidc, "idp-refresh-token").unwrap(), sealed, "a fresh nonce each time");
        assert_eq!(unseal(&oidc, &sealed).as_deref(), Some("idp-refresh-token"));
        let mut tampered =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &sealed).unwrap();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            unseal(&oidc, &base64::Engine::encode(&base64::engine::general_purpose::STANDARD, tampered)),
            None
        );
        assert_eq!(unseal(&oidc, "not base64 at all"), None);
        oidc.client_secret = "two".into();
        assert_eq!(unseal(&oidc, &sealed), None);
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
