//! A test OpenID provider on port 0, for the server's sign-in topic and the desktop's: it signs real ID tokens (RS256, with
//! the `openidconnect` crate's own signer) and can be told to get one thing wrong in the next token
//! (the audience, the expiry, the signature, the key id, the nonce), to rotate its keys, or to
//! refuse. It logs everyone in as the person it is given. The certified provider (`oidc-provider`)
//! drives the same server in the end-to-end suite; this one can misbehave on purpose.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use openidconnect::core::{
    CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AdditionalClaims, Audience, EndUserEmail, EndUserName, IdToken, IdTokenClaims, IssuerUrl, JsonWebKeyId,
    LocalizedClaim, Nonce, PkceCodeChallenge, PkceCodeVerifier, PrivateSigningKey, StandardClaims,
    SubjectIdentifier,
};
use serde::{Deserialize, Serialize};

use std::sync::Arc;

use chrono::Duration;
use lonceng_domain::clock::{Clock, ManualClock};
use serde_json::{json, Value};

pub const CLIENT_ID: &str = "lonceng-server";
pub const CLIENT_SECRET: &str = "idp-client-secret";

fn key(name: &str, kid: &str) -> CoreRsaPrivateSigningKey {
    let pem = match name {
        "first" => include_str!("idp-keys/first.pem"),
        "second" => include_str!("idp-keys/second.pem"),
        _ => include_str!("idp-keys/rogue.pem"),
    };
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.into()))).unwrap()
}

/// Who the provider logs in.
#[derive(Debug, Clone)]
pub struct Person {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    pub groups: Vec<String>,
}

impl Person {
    pub fn new(sub: &str, email: &str) -> Person {
        Person {
            sub: sub.into(),
            email: email.into(),
            email_verified: true,
            name: "Sari Dewi".into(),
            groups: vec!["cs-agents".into()],
        }
    }
}

/// What the next ID token gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forge {
    Nothing,
    Audience,
    Expired,
    /// Signed by a key the provider never published, under its published key's id.
    Signature,
    /// Signed by the second key before the provider publishes it.
    UnknownKid,
    Nonce,
    /// The provider refuses the login (`error=access_denied`).
    Deny,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Groups {
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    groups: Vec<String>,
}
impl AdditionalClaims for Groups {}

struct Issued {
    nonce: String,
    challenge: String,
    redirect_uri: String,
    person: Person,
}

struct IdpState {
    issuer: String,
    clock: Arc<ManualClock>,
    person: Person,
    forge: Forge,
    /// Published keys, by id; the first signs.
    keys: Vec<(String, &'static str)>,
    codes: HashMap<String, Issued>,
    /// Refresh tokens given, by whose they are (`sub`).
    refresh: HashMap<String, String>,
    /// Token requests answered (a replayed provider code must not reach it twice).
    token_requests: usize,
}

pub struct Idp {
    pub issuer: String,
    state: Arc<Mutex<IdpState>>,
}

impl Idp {
    pub async fn start(clock: Arc<ManualClock>, person: Person) -> Idp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(IdpState {
            issuer: issuer.clone(),
            clock,
            person,
            forge: Forge::Nothing,
            keys: vec![("k1".into(), "first")],
            codes: HashMap::new(),
            refresh: HashMap::new(),
            token_requests: 0,
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Idp { issuer, state }
    }

    fn with<T>(&self, f: impl FnOnce(&mut IdpState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    pub fn forge(&self, forge: Forge) {
        self.with(|s| s.forge = forge);
    }

    pub fn person(&self, person: Person) {
        self.with(|s| s.person = person);
    }

    /// The provider signs with its second key from now on and publishes only it.
    pub fn rotate(&self) {
        self.with(|s| s.keys = vec![("k2".into(), "second")]);
    }

    /// The person left the organisation: the provider refuses their refresh tokens.
    pub fn forget_refresh_tokens(&self) {
        self.with(|s| s.refresh.clear());
    }

    pub fn token_requests(&self) -> usize {
        self.with(|s| s.token_requests)
    }
}

async fn discovery(State(s): State<Arc<Mutex<IdpState>>>) -> Json<Value> {
    let issuer = s.lock().unwrap().issuer.clone();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "groups"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks(State(s): State<Arc<Mutex<IdpState>>>) -> Json<Value> {
    let keys: Vec<Value> = s
        .lock()
        .unwrap()
        .keys
        .iter()
        .map(|(kid, name)| serde_json::to_value(key(name, kid).as_verification_key()).unwrap())
        .collect();
    Json(json!({ "keys": keys }))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    state: String,
    nonce: String,
    code_challenge: String,
    code_challenge_method: String,
    scope: String,
}

/// Logs the person in at once and sends the browser back with a code.
async fn authorize(State(s): State<Arc<Mutex<IdpState>>>, Query(q): Query<AuthorizeQuery>) -> Response {
    assert_eq!(q.client_id, CLIENT_ID);
    assert_eq!(q.code_challenge_method, "S256");
    assert!(q.scope.split(' ').any(|s| s == "openid"), "{}", q.scope);
    let mut st = s.lock().unwrap();
    let mut back = url::Url::parse(&q.redirect_uri).unwrap();
    if st.forge == Forge::Deny {
        back.query_pairs_mut().append_pair("error", "access_denied").append_pair("state", &q.state);
    } else {
        let code = lonceng_server::new_secret();
        let person = st.person.clone();
        st.codes.insert(
            code.clone(),
            Issued { nonce: q.nonce, challenge: q.code_challenge, redirect_uri: q.redirect_uri, person },
        );
        back.query_pairs_mut().append_pair("code", &code).append_pair("state", &q.state);
    }
    (StatusCode::FOUND, [(header::LOCATION, back.to_string())]).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

fn refused() -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response()
}

async fn token(
    State(s): State<Arc<Mutex<IdpState>>>,
    headers: HeaderMap,
    Form(f): Form<TokenForm>,
) -> Response {
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{CLIENT_ID}:{CLIENT_SECRET}")
        )
    );
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(basic.as_str()) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client"}))).into_response();
    }
    let mut st = s.lock().unwrap();
    st.token_requests += 1;
    let (person, nonce) = match f.grant_type.as_str() {
        "authorization_code" => {
            let Some(issued) = f.code.and_then(|c| st.codes.remove(&c)) else { return refused() };
            let verifier = PkceCodeVerifier::new(f.code_verifier.unwrap_or_default());
            let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
            assert_eq!(challenge.as_str(), issued.challenge, "the server's PKCE verifier");
            assert_eq!(f.redirect_uri.as_deref(), Some(issued.redirect_uri.as_str()));
            (issued.person, Some(issued.nonce))
        }
        // A renewal: the person as the provider knows them now (their groups may have changed).
        "refresh_token" => {
            let Some(sub) = f.refresh_token.and_then(|r| st.refresh.remove(&r)) else { return refused() };
            if st.person.sub != sub {
                return refused();
            }
            (st.person.clone(), None)
        }
        _ => {
            return (StatusCode::BAD_REQUEST, Json(json!({"error": "unsupported_grant_type"})))
                .into_response()
        }
    };
    let refresh = format!("idp-refresh-{}", lonceng_server::new_secret());
    st.refresh.insert(refresh.clone(), person.sub.clone());
    let id_token = id_token(&mut st, person, nonce);
    Json(json!({
        "access_token": "idp-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "refresh_token": refresh,
        "id_token": id_token,
    }))
    .into_response()
}

/// An ID token for `p`, signed as the provider is told to (see [`Forge`]).
fn id_token(st: &mut IdpState, p: Person, nonce: Option<String>) -> String {
    let now = st.clock.now();
    let forge = std::mem::replace(&mut st.forge, Forge::Nothing);
    let audience = if forge == Forge::Audience { "someone-else" } else { CLIENT_ID };
    let (iat, exp) = if forge == Forge::Expired {
        (now - Duration::hours(2), now - Duration::hours(1))
    } else {
        (now, now + Duration::minutes(5))
    };
    let nonce = if forge == Forge::Nonce { Some("another-nonce".to_owned()) } else { nonce };
    let mut name = LocalizedClaim::new();
    name.insert(None, EndUserName::new(p.name));
    let standard = StandardClaims::new(SubjectIdentifier::new(p.sub))
        .set_email(Some(EndUserEmail::new(p.email)))
        .set_email_verified(Some(p.email_verified))
        .set_name(Some(name));
    let claims = IdTokenClaims::new(
        IssuerUrl::new(st.issuer.clone()).unwrap(),
        vec![Audience::new(audience.into())],
        exp,
        iat,
        standard,
        Groups { groups: p.groups },
    )
    .set_nonce(nonce.map(Nonce::new));
    let (kid, signer) = st.keys[0].clone();
    let signing_key = match forge {
        Forge::Signature => key("rogue", &kid),
        Forge::UnknownKid => key("second", "k2"),
        _ => key(signer, &kid),
    };
    let token: IdToken<Groups, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm> =
        IdToken::new(claims, &signing_key, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, None, None).unwrap();
    token.to_string()
}

// ---- the browser's and the app's side ----

/// The browser's and the app's side of a sign-in, against a server at `base`.
pub struct Flow {
    pub base: String,
    /// A client that does not follow redirects: each hop is looked at.
    pub browser: reqwest::Client,
}

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// What the app holds during one sign-in.
pub struct App {
    pub verifier: String,
    pub redirect: String,
}

impl Default for App {
    fn default() -> App {
        App::new()
    }
}

impl App {
    pub fn new() -> App {
        App {
            verifier: format!("v-{}", lonceng_server::new_secret()),
            redirect: "http://127.0.0.1:45678/callback".into(),
        }
    }

    pub fn challenge(&self) -> String {
        openidconnect::PkceCodeChallenge::from_code_verifier_sha256(&openidconnect::PkceCodeVerifier::new(
            self.verifier.clone(),
        ))
        .as_str()
        .to_owned()
    }
}

/// Where the browser ended: the app's loopback address with its query, or a page of the server.
#[derive(Debug)]
pub enum Landed {
    App(HashMap<String, String>),
    Page(StatusCode, String),
}

impl Flow {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The browser's way: the server's sign-in page, the provider, the callback, and back to the
    /// app's loopback address (not followed: the app's listener is the app's business).
    pub async fn browse(&self, app: &App) -> Landed {
        let start = url::Url::parse_with_params(
            &self.url("/v1/auth/sign-in"),
            &[
                ("redirect_uri", app.redirect.as_str()),
                ("state", "app-state"),
                ("code_challenge", &app.challenge()),
                ("code_challenge_method", "S256"),
                ("device_name", "Sari's laptop"),
                ("os", "Windows 11"),
                ("app_version", "0.1.0"),
            ],
        )
        .unwrap();
        let mut at = start.to_string();
        for _ in 0..5 {
            if at.starts_with(&app.redirect) {
                let url = url::Url::parse(&at).unwrap();
                return Landed::App(url.query_pairs().into_owned().collect());
            }
            let resp = self.browser.get(&at).send().await.unwrap();
            match resp.headers().get("location") {
                Some(to) if resp.status() == StatusCode::FOUND => at = to.to_str().unwrap().to_owned(),
                _ => return Landed::Page(resp.status(), resp.text().await.unwrap()),
            }
        }
        panic!("too many redirects")
    }

    pub async fn code(&self, app: &App) -> String {
        match self.browse(app).await {
            Landed::App(q) => {
                assert_eq!(q.get("state").map(String::as_str), Some("app-state"), "{q:?}");
                q.get("code").unwrap_or_else(|| panic!("no code: {q:?}")).clone()
            }
            other => panic!("{other:?}"),
        }
    }

    pub async fn redeem(&self, app: &App, code: &str) -> (StatusCode, Value) {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", app.verifier.as_str()),
            ("redirect_uri", app.redirect.as_str()),
            ("client_id", "lonceng-desktop"),
        ];
        self.send(self.browser.post(self.url("/v1/auth/token")).form(&form)).await
    }

    pub async fn refresh(&self, refresh: &str) -> (StatusCode, Value) {
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
        self.send(self.browser.post(self.url("/v1/auth/token")).form(&form)).await
    }

    /// A whole sign-in; returns the credentials.
    pub async fn sign_in(&self) -> Value {
        let app = App::new();
        let code = self.code(&app).await;
        let (s, creds) = self.redeem(&app, &code).await;
        assert_eq!(s, StatusCode::OK, "{creds}");
        creds
    }

    /// The reason the app is told a sign-in was refused.
    pub async fn refused(&self) -> String {
        match self.browse(&App::new()).await {
            Landed::App(q) => {
                assert_eq!(q.get("error").map(String::as_str), Some("access_denied"), "{q:?}");
                assert!(!q.contains_key("code"), "{q:?}");
                q["error_description"].clone()
            }
            other => panic!("{other:?}"),
        }
    }
}
