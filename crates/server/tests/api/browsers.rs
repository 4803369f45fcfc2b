//! What a web page needs: CORS for configured origins only, and stream tickets that its
//! `EventSource` can carry in the URL (scoped to the user, short-lived, unforgeable). The same
//! flow in Chromium itself is `ui/tests/stream.test.mjs`.

use crate::util::*;
use lonceng_server::service::TICKET_LIFETIME;

const ORIGIN: &str = "https://agent.example.com";

async fn browser_server() -> Server {
    let mut c = config();
    c.cors_origins = vec![ORIGIN.to_owned()];
    server_with(fresh_db().await, c, Arc::new(ManualClock::new(t0()))).await
}

async fn ticket(s: &Server, token: &str) -> String {
    let (status, b) = s.post(token, "/v1/stream/tickets", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    let expires: DateTime<Utc> = b["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires, s.clock.now() + TICKET_LIFETIME);
    b["ticket"].as_str().unwrap().to_owned()
}

async fn stream_status(s: &Server, query: &str) -> StatusCode {
    s.http.get(s.url(&format!("/v1/stream?{query}"))).send().await.unwrap().status()
}

#[tokio::test]
async fn a_preflight_from_a_configured_origin_is_answered_and_others_are_not() {
    let s = browser_server().await;
    let preflight = |origin: &str| {
        s.http
            .request(reqwest::Method::OPTIONS, s.url("/v1/stream/tickets"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization,content-type")
            .send()
    };
    let ok = preflight(ORIGIN).await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(ok.headers()["access-control-allow-origin"], ORIGIN);
    let allowed = ok.headers()["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");

    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none(), "no CORS for an unlisted origin");
    // And with none configured (the default), no origin is allowed.
    let plain = server().await;
    let r = plain.http.get(plain.url("/healthz")).header("Origin", ORIGIN).send().await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_ticket_opens_its_users_stream_and_only_that() {
    let s = browser_server().await;
    let sari = s.token("u-1", "web").await;
    let t = ticket(&s, &sari).await;

    let resp = s.http.get(s.url(&format!("/v1/stream?ticket={t}"))).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = Box::pin(resp.bytes_stream().eventsource().map(|e| e.expect("SSE parses")));
    s.notify(mention("for-budi", "u-2")).await;
    let hers = s.notify(mention("for-sari", "u-1")).await;
    let c = next_change(&mut stream).await;
    assert_eq!(created_ids(&[c]), vec![hers], "Sari's item first; Budi's never reaches her stream");

    // A ticket is for the stream only: it is not a bearer token for the API.
    let (status, _) = s.get(&t, "/v1/notifications").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn forged_tampered_and_expired_tickets_are_refused() {
    let s = browser_server().await;
    let sari = s.token("u-1", "web").await;
    let t = ticket(&s, &sari).await;
    assert_eq!(stream_status(&s, &format!("ticket={t}")).await, StatusCode::OK);

    // The claims say u-2, the signature is Sari's.
    let (_, sig) = t.split_once('.').unwrap();
    let budi =
        base64_url(&json!({"u": "u-2", "d": "web", "e": (s.clock.now() + Duration::hours(1)).timestamp()}));
    for bad in [
        format!("{budi}.{sig}"),
        format!("{t}x"),
        "not-a-ticket".to_owned(),
        ".".to_owned(),
        "%00".to_owned(),
        "a".repeat(4_000), // longer URLs are refused by the HTTP layer (431) before this
    ] {
        let q = format!("ticket={}", url_escape(&bad));
        assert_eq!(stream_status(&s, &q).await, StatusCode::UNAUTHORIZED, "{bad:.40}");
    }
    assert_eq!(stream_status(&s, "").await, StatusCode::UNAUTHORIZED, "no ticket, no token");

    s.clock.advance(TICKET_LIFETIME + Duration::seconds(1));
    assert_eq!(stream_status(&s, &format!("ticket={t}")).await, StatusCode::UNAUTHORIZED, "expired");
}

// ORG-2
#[tokio::test]
async fn org_2_a_ticket_of_a_device_signed_out_since_opens_nothing() {
    let s = browser_server().await;
    let sari = s.token("u-1", "web").await;
    let t = ticket(&s, &sari).await;
    assert_eq!(stream_status(&s, &format!("ticket={t}")).await, StatusCode::OK);
    let (st, b) = s.post(ADMIN, "/v1/admin/users/u-1/devices/web/revoke", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(stream_status(&s, &format!("ticket={t}")).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn tickets_need_a_client_token_and_are_refused_during_maintenance() {
    let s = browser_server().await;
    let (status, _) = s.post(PRODUCER, "/v1/stream/tickets", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a producer is not a client");
    let sari = s.token("u-1", "web").await;
    let t = ticket(&s, &sari).await;
    let (status, b) = s
        .post(ADMIN, "/v1/admin/maintenance/start", json!({"until": s.clock.now() + Duration::hours(1)}))
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(stream_status(&s, &format!("ticket={t}")).await, StatusCode::SERVICE_UNAVAILABLE);
}

fn base64_url(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}
