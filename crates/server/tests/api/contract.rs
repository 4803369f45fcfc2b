//! The published contract: openapi.json matches the router.

use crate::util::*;

/// The OpenAPI document lists exactly the routes the router serves, and every documented operation
/// answers JSON.
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
    for line in source.lines().map(str::trim).filter(|l| l.starts_with(".route(\"")) {
        let path = line.split('"').nth(1).unwrap().to_owned();
        for method in ["get", "post", "put", "delete", "patch"] {
            if line.contains(&format!("{method}(")) {
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
        assert!(ctype.starts_with("application/json"), "{method} {path}: {ctype}");
    }
}
