//! What an admin (or the console) lists and exports: users a page at a time and searched, the
//! agents as CSV that imports back as it was, and the audit trail filtered by who and what.

use crate::util::*;

async fn import(s: &Server, csv: &str) -> Value {
    let req =
        s.http.post(s.url("/v1/admin/agents/import")).bearer_auth(ADMIN).header("content-type", "text/csv");
    let (st, b) = s.send(req.body(csv.to_owned())).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    b
}

#[tokio::test]
async fn users_come_a_page_at_a_time_and_are_found_by_id_name_or_email() {
    let s = server().await;
    let mut csv = String::from("email,name,qontak_agent_id,crm_sso_id\n");
    for i in 0..7 {
        csv.push_str(&format!("agent{i}@example.co.id,Agent {i},a-{i},\n"));
    }
    csv.push_str("dewi@example.co.id,Dewi Lestari,,\n");
    import(&s, &csv).await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let q = after.as_ref().map_or(String::new(), |a| format!("&after={}", url_escape(a)));
        let (st, page) = s.get(ADMIN, &format!("/v1/admin/users?limit=3{q}")).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        seen.extend(page["items"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        match page["next_after"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "by id, each once");
    assert_eq!(seen.len(), 8);

    let (_, found) = s.get(ADMIN, "/v1/admin/users?q=LESTARI").await;
    let found = found["items"].as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0]["email"].as_str(), found[0]["devices"].as_i64()),
        (Some("dewi@example.co.id"), Some(0))
    );
    let (_, linked) = s.get(ADMIN, "/v1/admin/users?q=agent3").await;
    assert_eq!(linked["items"][0]["agent_id"], "a-3");
    // Search text is text: wildcards and quotes find nothing, and nothing breaks.
    for hostile in ["%", "_", "' OR 1=1 --", "\\", "\u{202E}"] {
        let (st, b) = s.get(ADMIN, &format!("/v1/admin/users?q={}", url_escape(hostile))).await;
        assert_eq!(st, StatusCode::OK, "{hostile}: {b}");
        assert_eq!(b["items"].as_array().unwrap().len(), 0, "{hostile}");
    }
    assert_eq!(s.get(ADMIN, "/v1/admin/users?limit=0").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        s.get(ADMIN, &format!("/v1/admin/users?q={}", "x".repeat(201))).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(s.get("not-admin", "/v1/admin/users").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_agents_export_imports_back_as_it_was_and_a_formula_stays_text() {
    let s = server().await;
    let csv = "email,name,qontak_agent_id,crm_sso_id\n\
               sari@example.co.id,Sari Dewi,agent-1,sso-1\n\
               budi@example.co.id,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",agent-2,\n\
               eko@example.co.id,\"Eko, CS\",,sso-3\n";
    import(&s, csv).await;
    let resp = s.http.get(s.url("/v1/admin/agents.csv")).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(resp.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let exported = resp.text().await.unwrap();
    assert!(exported.starts_with("email,name,qontak_agent_id,crm_sso_id\n"), "{exported}");
    assert!(exported.contains("\"'=HYPERLINK("), "a spreadsheet shows it as text: {exported}");
    // Imported again (a preview): every row is known and nothing is in error.
    let req = s
        .http
        .post(s.url("/v1/admin/agents/import?dry_run=true"))
        .bearer_auth(ADMIN)
        .header("content-type", "text/csv");
    let (_, again) = s.send(req.body(exported)).await;
    assert_eq!((again["imported"].as_u64(), again["errors"].as_u64()), (Some(3), Some(0)), "{again}");
    let (_, found) = s.get(ADMIN, "/v1/admin/users?q=budi").await;
    assert_eq!(found["items"][0]["name"], "=HYPERLINK(\"http://evil.example\",\"x\")", "kept as it came");
}

#[tokio::test]
async fn the_audit_trail_is_filtered_by_who_and_what() {
    let s = server().await;
    s.token("u-1", "desk").await;
    s.token("u-1", "laptop").await;
    for d in ["desk", "laptop"] {
        s.post(ADMIN, &format!("/v1/admin/users/u-1/devices/{d}/revoke"), json!({})).await;
    }
    s.post(ADMIN, "/v1/admin/users/u-1/disable", json!({})).await;
    let (_, all) = s.get(ADMIN, "/v1/admin/audit").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    let (_, revoked) = s.get(ADMIN, "/v1/admin/audit?action=device_revoked&actor=admin").await;
    let items = revoked["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|a| a["action"] == "device_revoked"));
    let (_, none) = s.get(ADMIN, "/v1/admin/audit?actor=user:u-1").await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    let (_, page) = s.get(ADMIN, "/v1/admin/audit?limit=1").await;
    let before = page["next_before"].as_i64().unwrap();
    let (_, older) = s.get(ADMIN, &format!("/v1/admin/audit?limit=5&before={before}")).await;
    assert_eq!(older["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn each_node_reports_its_health_and_a_silent_one_turns_stale_then_goes() {
    let s = server().await;
    s.tick().await;
    let (st, b) = s.get(ADMIN, "/v1/admin/nodes").await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let nodes = b["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{b}");
    let node = &nodes[0];
    assert!(node["id"].as_str().unwrap().ends_with(&format!("/{}", std::process::id())), "{node}");
    assert_eq!(
        (node["stale"].as_bool(), node["version"].as_str()),
        (Some(false), Some(env!("CARGO_PKG_VERSION")))
    );
    for field in ["streams_open", "events_received", "changes_sent", "db_unavailable", "dead_letters"] {
        assert!(node[field].is_u64(), "{field}: {node}");
    }
    // Not heard from for three report intervals: stale; for ten minutes: gone.
    s.clock.advance(Duration::seconds(16));
    assert_eq!(s.get(ADMIN, "/v1/admin/nodes").await.1["nodes"][0]["stale"], true);
    s.tick().await;
    assert_eq!(s.get(ADMIN, "/v1/admin/nodes").await.1["nodes"][0]["stale"], false, "reported again");
    s.clock.advance(Duration::minutes(11));
    assert_eq!(s.get(ADMIN, "/v1/admin/nodes").await.1["nodes"].as_array().unwrap().len(), 0);
    assert_eq!(s.get("not-admin", "/v1/admin/nodes").await.0, StatusCode::UNAUTHORIZED);
}

/// Packaging: the manual pages come from the command line's own definition, so `man
/// lonceng-server` and `man lonceng-admin` list every command `--help` lists.
#[test]
fn the_manual_pages_are_made_from_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lonceng-server"))
        .arg("manpages")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let server = std::fs::read_to_string(dir.path().join("lonceng-server.1")).unwrap();
    let admin = std::fs::read_to_string(dir.path().join("lonceng-admin.8")).unwrap();
    assert!(server.contains(".TH lonceng-server 1"), "{server}");
    assert!(admin.contains(".TH lonceng-admin 8") && admin.contains("/etc/lonceng/server.env"), "{admin}");
    for page in [&server, &admin] {
        for command in ["issue\\-token", "qontak\\-secret", "devices", "import\\-agents", "\\-\\-db"] {
            assert!(page.contains(command), "{command}");
        }
        assert!(!page.contains("manpages"), "the packaging command stays hidden");
    }
}
