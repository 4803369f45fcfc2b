//! ORG-1 and ORG-2: signing in through the organisation's identity provider, device credentials
//! with a lifecycle, devices an admin signs out, the audit trail, and the agents' CSV import —
//! against the test provider of `idp.rs`, which can be told to misbehave.

use lonceng_server::service::signin::OidcConfig;

use crate::util::*;
use lonceng_e2e::idp::{browser, App, Flow, Forge, Idp, Landed, Person, CLIENT_ID, CLIENT_SECRET};

const EMAIL: &str = "sari@example.co.id";

struct World {
    server: Server,
    idp: Idp,
    flow: Flow,
}

impl std::ops::Deref for World {
    type Target = Flow;
    fn deref(&self) -> &Flow {
        &self.flow
    }
}

fn oidc(issuer: &str) -> OidcConfig {
    OidcConfig {
        issuer: issuer.into(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        public_url: String::new(),
        allowed_domains: vec!["example.co.id".into()],
        required_group: Some("cs-agents".into()),
        admin_group: Some("lonceng-admins".into()),
        groups_claim: "groups".into(),
        extra_scopes: vec!["groups".into()],
        clock_skew: Duration::seconds(60),
        access_lifetime: Duration::hours(1),
    }
}

async fn world() -> World {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let idp = Idp::start(clock.clone(), Person::new("sub-sari", EMAIL)).await;
    // The public URL is the server's own address, known once it listens: bind first.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = config();
    let mut o = oidc(&idp.issuer);
    o.public_url = format!("http://{}", listener.local_addr().unwrap());
    config.oidc = Some(o);
    let running = start(fresh_db().await, config, clock.clone(), listener).await.unwrap();
    let flow = Flow { base: running.url(), browser: browser() };
    World { server: Server { running, clock, http: reqwest::Client::new() }, idp, flow }
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}")).to_owned()
}

#[tokio::test]
async fn org_1_a_person_signs_in_through_the_identity_provider_and_gets_device_credentials() {
    let w = world().await;
    let creds = w.sign_in().await;
    assert_eq!(s(&creds, "token_type"), "Bearer");
    assert_eq!(creds["expires_in"], 3600);
    assert_eq!(s(&creds, "user_id"), EMAIL, "made just in time, by email");
    let (st, me) = w.server.get(&s(&creds, "access_token"), "/v1/me").await;
    assert_eq!(st, StatusCode::OK, "{me}");
    assert_eq!(me["user_id"], EMAIL);
    assert_eq!(me["device_id"], creds["device_id"]);

    // ORG-2: the admin sees the device as it described itself, and the sign-in in the audit trail.
    let (st, list) = w.server.get(ADMIN, &format!("/v1/admin/users/{EMAIL}/devices")).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let d = &list["devices"][0];
    assert_eq!(
        (d["name"].as_str(), d["os"].as_str(), d["app_version"].as_str()),
        (Some("Sari's laptop"), Some("Windows 11"), Some("0.1.0"))
    );
    assert_eq!(d["signed_in"], true);
    assert_eq!(d["last_address"], "127.0.0.1");
    let (_, audit) = w.server.get(ADMIN, "/v1/admin/audit").await;
    let first = &audit["items"][0];
    assert_eq!(
        (first["action"].as_str(), first["actor"].as_str()),
        (Some("sign_in"), Some(&*format!("user:{EMAIL}")))
    );
    assert_eq!(first["address"], "127.0.0.1");

    // A second sign-in of the same person (by `sub`) is the same user, with a second device.
    let again = w.sign_in().await;
    assert_eq!(again["user_id"], creds["user_id"]);
    assert_ne!(again["device_id"], creds["device_id"]);
}

#[tokio::test]
async fn org_1_an_imported_agent_is_linked_to_their_qontak_agent_on_first_sign_in() {
    let w = world().await;
    let csv = format!(
        "email,name,qontak_agent_id,crm_sso_id\n{},Sari Dewi,agent-77,sso-77\n",
        EMAIL.to_uppercase()
    );
    let resp = w
        .server
        .http
        .post(w.server.url("/v1/admin/agents/import"))
        .bearer_auth(ADMIN)
        .header("content-type", "text/csv")
        .body(csv);
    let (st, report) = w.server.send(resp).await;
    assert_eq!(st, StatusCode::OK, "{report}");
    let imported = s(&report["rows"][0], "user_id");
    let creds = w.sign_in().await;
    assert_eq!(s(&creds, "user_id"), imported);
    let (_, agents) = w.server.get(ADMIN, "/v1/admin/qontak/agents").await;
    let linked: Vec<_> =
        agents.as_array().unwrap().iter().filter(|a| a["user_id"] == imported.as_str()).collect();
    assert_eq!(linked.len(), 1, "{agents}");
    assert_eq!(linked[0]["agent_id"], "agent-77");
}

#[tokio::test]
async fn org_1_id_tokens_the_library_refuses_are_refused_and_recorded() {
    let w = world().await;
    for (forge, says) in [
        (Forge::Audience, "audience"),
        (Forge::Expired, "xpired"),
        (Forge::Signature, "ignature"),
        (Forge::Nonce, "once"),
        (Forge::Deny, "refused the sign-in"),
    ] {
        w.idp.forge(forge);
        let why = w.refused().await;
        assert!(why.contains(says), "{forge:?}: {why}");
    }
    let (_, audit) = w.server.get(ADMIN, "/v1/admin/audit").await;
    let refused =
        audit["items"].as_array().unwrap().iter().filter(|a| a["action"] == "sign_in_refused").count();
    assert_eq!(refused, 5, "{audit}");
    let (st, _) = w.server.get(ADMIN, &format!("/v1/admin/users/{EMAIL}/devices")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nobody was made");
}

#[tokio::test]
async fn org_1_an_unknown_key_is_refused_until_the_provider_publishes_it() {
    let w = world().await;
    w.sign_in().await;
    w.idp.forge(Forge::UnknownKid);
    assert!(w.refused().await.contains("ignature"));
    // The provider rotates to that key: the server reads the keys again (at most every few seconds,
    // so a flood of forged key ids cannot make it hammer the provider) and accepts it.
    w.idp.rotate();
    until("the rotated key is accepted", || async {
        matches!(w.browse(&App::new()).await, Landed::App(q) if q.contains_key("code"))
    })
    .await;
}

#[tokio::test]
async fn org_1_people_outside_the_organisations_rules_are_refused() {
    let w = world().await;
    let mut outsider = Person::new("sub-x", "eve@elsewhere.example");
    w.idp.person(outsider.clone());
    assert!(w.refused().await.contains("not in a domain"));
    outsider = Person::new("sub-y", "budi@example.co.id");
    outsider.groups = vec!["finance".into()];
    w.idp.person(outsider.clone());
    assert!(w.refused().await.contains("cs-agents"));
    outsider.groups = vec!["cs-agents".into()];
    outsider.email_verified = false;
    w.idp.person(outsider);
    assert!(w.refused().await.contains("not verified"));
}

#[tokio::test]
async fn org_1_a_forged_or_replayed_state_gets_no_code() {
    let w = world().await;
    let forged = w.browser.get(w.server.url("/v1/auth/callback?state=forged&code=abc")).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(forged.headers().get("location").is_none());
    assert_eq!(forged.headers()["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
    // A real answer replayed: the first is taken, the second finds nothing (and the provider's
    // code is not exchanged twice).
    let app = App::new();
    let start = url::Url::parse_with_params(
        &w.server.url("/v1/auth/sign-in"),
        &[
            ("redirect_uri", app.redirect.as_str()),
            ("state", "s"),
            ("code_challenge", &app.challenge()),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    let to_idp =
        w.browser.get(start).send().await.unwrap().headers()["location"].to_str().unwrap().to_owned();
    let callback =
        w.browser.get(&to_idp).send().await.unwrap().headers()["location"].to_str().unwrap().to_owned();
    let first = w.browser.get(&callback).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::FOUND);
    assert!(first.headers()["location"].to_str().unwrap().contains("code="));
    let again = w.browser.get(&callback).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(w.idp.token_requests(), 1);
}

#[tokio::test]
async fn org_1_the_one_time_code_needs_its_verifier_and_works_once() {
    let w = world().await;
    let app = App::new();
    let code = w.code(&app).await;
    let thief =
        App { verifier: format!("x-{}", lonceng_server::new_secret()), redirect: app.redirect.clone() };
    let (st, e) = w.redeem(&thief, &code).await;
    assert_eq!((st, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{e}");
    assert!(s(&e, "error_description").contains("PKCE"));
    let elsewhere = App { verifier: app.verifier.clone(), redirect: "http://127.0.0.1:1/other".into() };
    assert_eq!(w.redeem(&elsewhere, &code).await.0, StatusCode::BAD_REQUEST);
    // The app redeems it; a replay is refused and signs out the device it made (RFC 6749 §4.1.2).
    let (st, creds) = w.redeem(&app, &code).await;
    assert_eq!(st, StatusCode::OK, "{creds}");
    let (st, e) = w.redeem(&app, &code).await;
    assert_eq!((st, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    assert_eq!(w.server.get(&s(&creds, "access_token"), "/v1/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn org_1_a_code_not_redeemed_within_a_minute_has_expired() {
    let w = world().await;
    let app = App::new();
    let code = w.code(&app).await;
    w.server.clock.advance(Duration::seconds(61));
    let (st, e) = w.redeem(&app, &code).await;
    assert_eq!((st, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
}

#[tokio::test]
async fn org_1_only_a_loopback_redirect_and_an_s256_challenge_start_a_sign_in() {
    let w = world().await;
    let app = App::new();
    for (redirect, method) in [
        ("https://evil.example/callback", "S256"),
        ("http://localhost:4000/callback", "S256"),
        ("http://127.0.0.1.evil.example/", "S256"),
        (app.redirect.as_str(), "plain"),
    ] {
        let start = url::Url::parse_with_params(
            &w.server.url("/v1/auth/sign-in"),
            &[
                ("redirect_uri", redirect),
                ("state", "s"),
                ("code_challenge", &app.challenge()),
                ("code_challenge_method", method),
            ],
        )
        .unwrap();
        let resp = w.browser.get(start).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{redirect} {method}");
        assert!(resp.headers().get("location").is_none());
        assert!(resp.text().await.unwrap().contains("not valid"));
    }
}

#[tokio::test]
async fn org_1_access_tokens_expire_and_the_refresh_token_rotates() {
    let w = world().await;
    let creds = w.sign_in().await;
    let access = s(&creds, "access_token");
    w.server.clock.advance(Duration::minutes(61));
    assert_eq!(w.server.get(&access, "/v1/me").await.0, StatusCode::UNAUTHORIZED, "expired");
    let (st, fresh) = w.refresh(&s(&creds, "refresh_token")).await;
    assert_eq!(st, StatusCode::OK, "{fresh}");
    assert_eq!(fresh["device_id"], creds["device_id"]);
    assert_ne!(fresh["refresh_token"], creds["refresh_token"]);
    assert_eq!(w.server.get(&s(&fresh, "access_token"), "/v1/me").await.0, StatusCode::OK);
    // The old refresh token again, minutes later: it was copied. The device is signed out, and
    // recorded.
    w.server.clock.advance(Duration::minutes(2));
    let (st, e) = w.refresh(&s(&creds, "refresh_token")).await;
    assert_eq!((st, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    assert_eq!(w.server.get(&s(&fresh, "access_token"), "/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(w.refresh(&s(&fresh, "refresh_token")).await.0, StatusCode::BAD_REQUEST);
    let (_, audit) = w.server.get(ADMIN, "/v1/admin/audit").await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "device_revoked" && s(a, "detail").contains("twice")),
        "{audit}"
    );
}

#[tokio::test]
async fn org_2_a_person_who_leaves_the_group_or_the_provider_is_signed_out_at_the_next_renewal() {
    let w = world().await;
    let creds = w.sign_in().await;
    // Still in the group: renewals go on (and the provider's own refresh token rotates with them).
    let (st, fresh) = w.refresh(&s(&creds, "refresh_token")).await;
    assert_eq!(st, StatusCode::OK, "{fresh}");
    // Out of the group: the next renewal signs the device out, and says why.
    let mut moved = Person::new("sub-sari", EMAIL);
    moved.groups = vec!["finance".into()];
    w.idp.person(moved);
    let (st, e) = w.refresh(&s(&fresh, "refresh_token")).await;
    assert_eq!((st, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{e}");
    assert!(s(&e, "error_description").contains("cs-agents"), "{e}");
    assert_eq!(w.server.get(&s(&fresh, "access_token"), "/v1/me").await.0, StatusCode::UNAUTHORIZED);
    // Gone from the provider altogether: the same.
    w.idp.person(Person::new("sub-sari", EMAIL));
    let other = w.sign_in().await;
    w.idp.forget_refresh_tokens();
    let (st, e) = w.refresh(&s(&other, "refresh_token")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(s(&e, "error_description").contains("no longer"), "{e}");
    let (_, audit) = w.server.get(ADMIN, "/v1/admin/audit").await;
    let revoked =
        audit["items"].as_array().unwrap().iter().filter(|a| a["action"] == "device_revoked").count();
    assert_eq!(revoked, 2, "{audit}");
}

#[tokio::test]
async fn org_2_a_renewal_whose_answer_was_lost_is_asked_again_without_signing_the_device_out() {
    let w = world().await;
    let creds = w.sign_in().await;
    let old = s(&creds, "refresh_token");
    // The server rotated, but its answer never reached the app (a network that dropped it).
    let (_, lost) = w.refresh(&old).await;
    w.server.clock.advance(Duration::seconds(20));
    let (st, again) = w.refresh(&old).await;
    assert_eq!(st, StatusCode::OK, "asked again: {again}");
    assert_eq!(again["device_id"], creds["device_id"]);
    // What the lost answer carried is spent instead; what the app holds now works.
    assert_eq!(w.server.get(&s(&lost, "access_token"), "/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(w.server.get(&s(&again, "access_token"), "/v1/me").await.0, StatusCode::OK);
    assert_eq!(w.refresh(&s(&again, "refresh_token")).await.0, StatusCode::OK);
    // Once the token it was replaced by has been used, the old one again is a copy.
    let (st, e) = w.refresh(&old).await;
    assert_eq!((st, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{e}");
}

#[tokio::test]
async fn org_2_a_device_the_admin_signs_out_loses_its_stream_and_its_tokens() {
    let w = world().await;
    let lost = w.sign_in().await;
    let kept = w.sign_in().await;
    let (lost_token, kept_token) = (s(&lost, "access_token"), s(&kept, "access_token"));
    let mut lost_stream = w.server.stream(&lost_token, None).await;
    let mut kept_stream = w.server.stream(&kept_token, None).await;
    assert_eq!(lost_stream.next().await.unwrap().event, "presence");
    assert_eq!(kept_stream.next().await.unwrap().event, "presence");
    let device = s(&lost, "device_id");
    let (st, b) =
        w.server.post(ADMIN, &format!("/v1/admin/users/{EMAIL}/devices/{device}/revoke"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["revoked"], json!([device]));
    // The stream ends (well within a second; the guard only stops a hang).
    let ended = tokio::time::timeout(StdDuration::from_secs(1), async {
        while let Some(e) = lost_stream.next().await {
            assert_ne!(e.event, "change");
        }
    })
    .await;
    assert!(ended.is_ok(), "the revoked device's stream is still open");
    assert_eq!(w.server.get(&lost_token, "/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(w.refresh(&s(&lost, "refresh_token")).await.0, StatusCode::BAD_REQUEST);
    // The other device goes on.
    assert_eq!(w.server.get(&kept_token, "/v1/me").await.0, StatusCode::OK);
    let (_, list) = w.server.get(ADMIN, &format!("/v1/admin/users/{EMAIL}/devices")).await;
    let revoked: Vec<_> =
        list["devices"].as_array().unwrap().iter().filter(|d| !d["revoked_at"].is_null()).collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["revoked_why"], "signed out by the organisation");
}

#[tokio::test]
async fn org_2_disabling_a_user_signs_out_everything_and_refuses_sign_in() {
    let w = world().await;
    let a = w.sign_in().await;
    let b = w.sign_in().await;
    let (st, body) = w.server.post(ADMIN, &format!("/v1/admin/users/{EMAIL}/disable"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["revoked"].as_array().unwrap().len(), 2);
    for c in [&a, &b] {
        assert_eq!(w.server.get(&s(c, "access_token"), "/v1/me").await.0, StatusCode::UNAUTHORIZED);
    }
    assert!(w.refused().await.contains("disabled"));
    assert_eq!(
        w.server.post(ADMIN, &format!("/v1/admin/users/{EMAIL}/enable"), json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    w.sign_in().await;
    // Sign out everywhere.
    let (_, body) = w.server.post(ADMIN, &format!("/v1/admin/users/{EMAIL}/devices/revoke"), json!({})).await;
    assert_eq!(body["revoked"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(
        w.server.post(ADMIN, "/v1/admin/users/nobody/devices/revoke", json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.server.get("not-admin", &format!("/v1/admin/users/{EMAIL}/devices")).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn org_2_a_device_signs_itself_out() {
    let w = world().await;
    let c = w.sign_in().await;
    let token = s(&c, "access_token");
    let resp =
        w.server.http.post(w.server.url("/v1/auth/sign-out")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(w.server.get(&token, "/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(w.refresh(&s(&c, "refresh_token")).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn org_2_an_admins_token_is_a_device_the_admin_can_sign_out() {
    let w = world().await;
    let token = w.server.token("u-1", "desk").await;
    let (_, list) = w.server.get(ADMIN, "/v1/admin/users/u-1/devices").await;
    assert_eq!(list["devices"][0]["id"], "desk");
    assert_eq!(list["devices"][0]["signed_in"], false);
    w.server.post(ADMIN, "/v1/admin/users/u-1/devices/desk/revoke", json!({})).await;
    assert_eq!(w.server.get(&token, "/v1/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn org_2_the_csv_import_previews_then_applies_and_reports_each_bad_row() {
    let w = world().await;
    let csv = "email,name,qontak_agent_id,crm_sso_id\n\
               budi@example.co.id,Budi,agent-1,\n\
               not-an-email,Nobody,agent-2,\n\
               dewi@example.co.id,<img src=x onerror=alert(1)>,agent-1,\n\
               eko@example.co.id,Eko,,sso-3\n";
    let import = |dry: bool| {
        w.server
            .http
            .post(w.server.url(&format!("/v1/admin/agents/import?dry_run={dry}")))
            .bearer_auth(ADMIN)
            .header("content-type", "text/csv")
            .body(csv)
    };
    let (st, preview) = w.server.send(import(true)).await;
    assert_eq!(st, StatusCode::OK, "{preview}");
    assert_eq!((preview["imported"].as_u64(), preview["errors"].as_u64()), (Some(2), Some(2)));
    assert_eq!(
        w.server.get(ADMIN, "/v1/admin/users/budi@example.co.id/devices").await.0,
        StatusCode::NOT_FOUND,
        "a preview writes nothing"
    );
    let (_, report) = w.server.send(import(false)).await;
    let lines: Vec<_> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["error"].is_null()))
        .collect();
    assert_eq!(lines, [(2, true), (3, false), (4, false), (5, true)]);
    assert_eq!(w.server.get(ADMIN, "/v1/admin/users/budi@example.co.id/devices").await.0, StatusCode::OK);
    // Not CSV, or not a CSV of agents: refused as a whole.
    let json =
        w.server.http.post(w.server.url("/v1/admin/agents/import")).bearer_auth(ADMIN).json(&json!({}));
    assert_eq!(w.server.send(json).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let wrong = w
        .server
        .http
        .post(w.server.url("/v1/admin/agents/import"))
        .bearer_auth(ADMIN)
        .header("content-type", "text/csv")
        .body("password\nx\n");
    assert_eq!(w.server.send(wrong).await.0, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn org_1_sign_in_without_an_identity_provider_says_so() {
    let server = server().await;
    let resp = reqwest::get(server.url("/v1/auth/sign-in?redirect_uri=x")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED, "said before the link is looked at");
    let app = App::new();
    let start = url::Url::parse_with_params(
        &server.url("/v1/auth/sign-in"),
        &[
            ("redirect_uri", app.redirect.as_str()),
            ("state", "s"),
            ("code_challenge", &app.challenge()),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    let resp = reqwest::get(start).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED);
    assert!(resp.text().await.unwrap().contains("ask your admin"));
    let form = [("grant_type", "refresh_token"), ("refresh_token", "x")];
    let (st, b) = server.send(server.http.post(server.url("/v1/auth/token")).form(&form)).await;
    assert_eq!(st, StatusCode::NOT_IMPLEMENTED, "{b}");
}

/// The real server binary, logging at TRACE, signs a person in and out again: nothing secret is
/// in what it wrote. (A child process, because a log subscriber of one test cannot be told apart
/// from the other tests' threads in this binary; on Linux, where servers run: under Wine a test
/// cannot start the cross-built binary by its build path.)
#[cfg(unix)]
#[tokio::test]
async fn org_1_no_token_code_verifier_or_secret_reaches_the_logs_even_at_trace() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let idp = Idp::start(clock, Person::new("sub-sari", EMAIL)).await;
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let log = dir.path().join("server.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lonceng-server"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--db"])
        .arg(dir.path().join("server.db"))
        .args(["--admin-token", ADMIN, "--producer-token", PRODUCER, "--oidc-issuer", &idp.issuer])
        .args([
            "--oidc-client-id",
            CLIENT_ID,
            "--public-url",
            &base,
            "--oidc-allowed-domain",
            "example.co.id",
        ])
        .args(["--oidc-required-group", "cs-agents", "--oidc-scope", "groups"])
        .env("LONCENG_OIDC_CLIENT_SECRET", CLIENT_SECRET)
        .env("RUST_LOG", "trace")
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let flow = Flow { base: base.clone(), browser: browser() };
    until("the server answers", || async { reqwest::get(flow.url("/healthz")).await.is_ok() }).await;
    let app = App::new();
    let code = flow.code(&app).await;
    let (st, creds) = flow.redeem(&app, &code).await;
    assert_eq!(st, StatusCode::OK, "{creds}");
    let (_, fresh) = flow.refresh(&s(&creds, "refresh_token")).await;
    let access = s(&fresh, "access_token");
    let me = flow.browser.get(flow.url("/v1/me")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let out = flow.browser.post(flow.url("/v1/auth/sign-out")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("/v1/auth/token") && text.contains("TRACE"),
        "the requests were logged at TRACE: {}",
        &text[..text.len().min(3000)]
    );
    for (what, secret) in [
        ("the one-time code", code),
        ("the PKCE verifier", app.verifier.clone()),
        ("the access token", s(&creds, "access_token")),
        ("the refresh token", s(&creds, "refresh_token")),
        ("the new access token", access),
        ("the new refresh token", s(&fresh, "refresh_token")),
        ("the provider's client secret", CLIENT_SECRET.to_owned()),
        ("the admin token", ADMIN.to_owned()),
    ] {
        assert!(!text.contains(&secret), "{what} is in the log");
    }
}
