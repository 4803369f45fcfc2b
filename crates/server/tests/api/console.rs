//! ORG-4: the admin console's session, over HTTP: the admin token opens one (bootstrap), its cookie
//! is `__Host-`, HttpOnly, Secure and SameSite=Strict, a change needs the session's CSRF token and
//! must not come from another site, the session ends after its longest life and at sign-out, and
//! every console page carries a CSP that runs only the console's own files and forbids framing.
//! The browser suite (admin/tests/console.test.mjs) does the pages' tasks in Chromium.

use crate::util::*;

const COOKIE: &str = "__Host-lonceng-admin";

/// Signs in with the admin token: the cookie (`name=value`) and the CSRF token.
async fn console(s: &Server) -> (String, String) {
    let resp = s.http.post(s.url("/admin/session")).json(&json!({"token": ADMIN})).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let set = resp.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().to_owned();
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(part), "{part} in {set}");
    }
    assert!(!set.contains("Domain"), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with(&format!("{COOKIE}=")), "{cookie}");
    let body: Value = resp.json().await.unwrap();
    (cookie, body["csrf"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn org_4_a_console_session_changes_nothing_without_its_csrf_token_nor_from_another_site() {
    let s = server().await;
    let (st, _) = s.send(s.http.post(s.url("/admin/session")).json(&json!({"token": "guess"}))).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (cookie, csrf) = console(&s).await;

    let (st, _) = s.send(s.http.get(s.url("/v1/admin/users")).header("cookie", &cookie)).await;
    assert_eq!(st, StatusCode::OK, "the session reads the admin API");
    let add = |id: &str| {
        s.http.post(s.url("/v1/admin/users")).header("cookie", &cookie).json(&json!({"id": id, "name": "X"}))
    };
    let (st, b) = s.send(add("u-1")).await;
    assert_eq!((st, b["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{b}");
    let (st, _) = s.send(add("u-1").header("x-csrf-token", "not-it")).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) =
        s.send(add("u-1").header("x-csrf-token", &csrf).header("origin", "https://evil.example")).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "another origin");
    let (st, _) =
        s.send(add("u-1").header("x-csrf-token", &csrf).header("sec-fetch-site", "cross-site")).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "another site");
    assert_eq!(s.get(ADMIN, "/v1/admin/users?q=u-1").await.1["items"].as_array().unwrap().len(), 0);
    let (st, b) =
        s.send(add("u-1").header("x-csrf-token", &csrf).header("sec-fetch-site", "same-origin")).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");

    // The change is audited as the console's admin.
    let (_, audit) = s.get(ADMIN, "/v1/admin/audit?action=user_created").await;
    assert_eq!(audit["items"][0]["target"], "u-1");
    assert_eq!(audit["items"][0]["actor"], "admin");

    // Signing out ends the session on the server, not only in the browser.
    let (st, _) = s
        .send(s.http.delete(s.url("/admin/session")).header("cookie", &cookie).header("x-csrf-token", &csrf))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.send(s.http.get(s.url("/v1/admin/users")).header("cookie", &cookie)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn org_4_a_console_session_ends_after_twelve_hours_whatever_its_use() {
    let s = server().await;
    let (cookie, _) = console(&s).await;
    s.clock.advance(chrono::Duration::hours(11));
    let (st, _) = s.send(s.http.get(s.url("/admin/session")).header("cookie", &cookie)).await;
    assert_eq!(st, StatusCode::OK);
    s.clock.advance(chrono::Duration::hours(2));
    let (st, b) = s.send(s.http.get(s.url("/admin/session")).header("cookie", &cookie)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{b}");
    assert_eq!(b["organisation"], false, "this server has no identity provider: the token it is");
    let (st, _) = s.send(s.http.get(s.url("/v1/admin/users")).header("cookie", &cookie)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // A made-up cookie opens nothing either.
    let forged = format!("{COOKIE}=AAAAAAAAAAAAAAAAAAAAAA");
    let (st, _) = s.send(s.http.get(s.url("/v1/admin/users")).header("cookie", forged)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn org_4_console_pages_run_only_their_own_files_and_cannot_be_framed() {
    let s = server().await;
    for path in ["/admin/", "/admin/session", "/admin/assets/nothing.js", "/admin/sign-in"] {
        let resp = s.http.get(s.url(path)).send().await.unwrap();
        let h = resp.headers();
        let csp =
            h.get("content-security-policy").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        for part in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"] {
            assert!(csp.contains(part), "{path}: {part} in {csp}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{path}: {csp}");
        assert_eq!(h.get("x-frame-options").unwrap(), "DENY", "{path}");
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff", "{path}");
    }
    // Without an identity provider, the console's organisation sign-in says so, as a page.
    let resp = s.http.get(s.url("/admin/sign-in")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED);
    assert!(resp.text().await.unwrap().contains("not set up"));
}
