//! The published contract: openapi.json matches the router.

use crate::util::*;

/// The OpenAPI document lists exactly the routes the router serves, and every documented operation
/// answers the media type it documents (JSON, but for `/metrics`' Prometheus text).
#[tokio::test]
async fn the_openapi_document_matches_the_router() {
    let doc: Value = serde_json::from_str(include_str!("../../openapi.json")).expect("openapi.json parses");
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
    let mut documented = std::collections::BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            assert!(op["responses"].is_object(), "{method} {path} documents its responses");
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let source = include_str!("../../src/api/mod.rs");
    let mut served = std::collections::BTreeSet::new();
    // Each `.route(path, methods)` call, over as many lines as rustfmt gives it.
    for call in source.split(".route(").skip(1) {
        let mut depth = 1;
        let end = call
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(i, _)| i)
            .expect("a .route( call closes");
        let (path, methods) = call[..end].split_once(',').expect("a path and its methods");
        let path = path.trim().trim_matches('"').to_owned();
        // Methods bound to a name first (`let webhook = post(…)…;`): what the name stands for.
        let methods = methods.trim();
        let methods = source
            .split(&format!("let {methods} = "))
            .nth(1)
            .and_then(|bound| bound.split(';').next())
            .unwrap_or(methods);
        for method in ["get", "post", "put", "delete", "patch"] {
            if methods.contains(&format!("{method}(")) {
                served.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert_eq!(documented, served, "openapi.json and the router (src/api/mod.rs) disagree");

    // $refs resolve.
    let text = include_str!("../../openapi.json");
    for piece in text.split("\"$ref\": \"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(doc["components"]["schemas"][name].is_object(), "missing schema {name}");
    }

    let s = server().await;
    for (method, path) in &served {
        let url = s.url(&path.replace("{id}", "n_0"));
        let resp = s.http.request(method.parse().unwrap(), url).send().await.unwrap();
        let ctype =
            resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let op = &doc["paths"][path.as_str()][method.to_lowercase()];
        let documented: Vec<&String> = op["responses"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(|r| r["content"].as_object())
            .flat_map(|c| c.keys())
            .collect();
        assert!(
            documented.iter().any(|t| ctype.starts_with(t.as_str())),
            "{method} {path}: {ctype}, documented {documented:?}"
        );
    }
}

/// Every status the server answers to a bad body, a bad query or a missing token is one the
/// document lists for that operation: each operation is sent, with the token its security scheme
/// names, a body that is not JSON (415), broken JSON (400), JSON of the wrong shape (422), a query
/// parameter of the wrong type (400), and no token at all (401). schemathesis (scripts/
/// schemathesis.sh) explores the rest.
#[tokio::test]
async fn every_status_the_server_answers_to_bad_input_is_documented() {
    let doc: Value = serde_json::from_str(include_str!("../../openapi.json")).unwrap();
    let s = server().await;
    let client = s.token("u-1", "contract").await;
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if path == "/v1/stream" {
            continue; // a stream that opens never ends; its refusals are in streams.rs and browsers.rs
        }
        for (method, op) in ops.as_object().unwrap() {
            let documented = |status: StatusCode| op["responses"].get(status.as_str()).is_some();
            let token = match op["security"][0].as_object().and_then(|o| o.keys().next().cloned()).as_deref()
            {
                Some("client") => Some(client.as_str()),
                Some("producer") => Some(PRODUCER),
                Some("admin") => Some(ADMIN),
                _ => None,
            };
            let url = s.url(&path.replace("{id}", "n_0"));
            let send = |body: Option<(&'static str, &'static str)>, query: &str, auth: bool| {
                let mut req = s.http.request(method.to_uppercase().parse().unwrap(), format!("{url}{query}"));
                if let (Some(t), true) = (token, auth) {
                    req = req.bearer_auth(t);
                }
                if let Some((ctype, text)) = body {
                    req = req.header("content-type", ctype).body(text);
                }
                async move { req.send().await.unwrap().status() }
            };
            let mut tries = Vec::new();
            if op.get("requestBody").is_some() {
                tries.push(("not JSON", send(Some(("text/plain", "hello")), "", true).await));
                tries.push(("broken JSON", send(Some(("application/json", "{")), "", true).await));
                tries.push((
                    "JSON of the wrong shape",
                    send(Some(("application/json", "[1]")), "", true).await,
                ));
            }
            if op["parameters"].as_array().is_some_and(|ps| ps.iter().any(|p| p["in"] == "query")) {
                tries.push(("a query of the wrong type", send(None, "?limit=x&since=x&tab=x", true).await));
            }
            if token.is_some() {
                tries.push(("no token", send(None, "", false).await));
            }
            for (what, status) in tries {
                assert!(
                    documented(status),
                    "{method} {path} answers {status} to {what}, which openapi.json does not list"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 30, "only {checked} answers checked");
}
