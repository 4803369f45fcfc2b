//! The report for IT (`lonceng doctor --bundle`, Settings → Diagnose → "Save a report"): a zip of
//! the doctor's report, the logs and the settings. Every kind of private thing is planted where it
//! could leak (the keyring's file store, the list, a log file) and searched for in the zip.
// The runtime on a private D-Bus, as in dbus.rs.
#![cfg(unix)]

use std::io::Read;
use std::sync::Arc;

use crate::common::*;
use chrono::Utc;

const CUSTOMER: &str = "Contact rahasia-77";
const MESSAGE: &str = "Tolong kirim invoice ke alamat rumah saya";
const CRM_SECRET: &str = "crm-client-secret-value-9f8e7d";

/// Every entry of the zip, by name, as text.
fn entries(path: &std::path::Path) -> Vec<(String, String)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).expect("the zip")).expect("a zip");
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut text = String::new();
            f.read_to_string(&mut text).unwrap();
            (f.name().unwrap().into_owned(), text)
        })
        .collect()
}

fn assert_clean(path: &std::path::Path, planted: &[&str]) -> Vec<(String, String)> {
    let all = entries(path);
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    for want in ["README.txt", "report.txt", "settings.json"] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("logs/lonceng.")), "the logs: {names:?}");
    for (name, text) in &all {
        for secret in planted {
            assert!(!text.contains(secret), "{secret:?} leaked in {name}:\n{text}");
        }
    }
    all
}

bus_test! {
    fn a_report_for_it_carries_no_token_secret_name_or_message_text() {
    rt().block_on(async {
        let (_bus, _rec) = notification_server().await;
        let server = test_server().await;
        let dir = tempfile::tempdir().unwrap();
        let app = connected_desktop(dir.path(), &server, Arc::new(RecordingOpener::default())).await;
        let token = std::fs::read_to_string(dir.path().join("token")).unwrap();
        std::fs::write(dir.path().join("crm-secret"), CRM_SECRET).unwrap();
        server.service.submit(lonceng_e2e::assignment("rahasia-77", "agent-sari", Utc::now())).await.unwrap();
        eventually("listed", || app.counts().unwrap().total == 1).await;

        // A log of the kind a bug might write, with everything that must not leave.
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        let line = format!(
            "2026-12-07T01:00:00Z WARN sync: GET /v1/changes Authorization: Bearer {token}\n\
             2026-12-07T01:00:01Z WARN toast: {{\"sender_name\":\"{CUSTOMER}\",\"text\":\"{MESSAGE}\"}}\n\
             2026-12-07T01:00:02Z INFO crm: client_secret={CRM_SECRET} for {CUSTOMER}\n\
             2026-12-07T01:00:03Z INFO sync: connected to {}\n",
            server.url()
        );
        std::fs::write(logs.join("lonceng.2026-12-07.log"), line).unwrap();
        let planted = [token.trim(), CUSTOMER, MESSAGE, CRM_SECRET, "Dewi Lestari"];

        // From the window: Settings → Diagnose → "Save a report".
        let saved = app.save_report().await.unwrap();
        assert!(saved.ends_with(".zip") && saved.contains("reports"), "{saved}");
        let all = assert_clean(std::path::Path::new(&saved), &planted);
        let log = &all.iter().find(|(n, _)| n.starts_with("logs/")).unwrap().1;
        assert!(log.contains("[redacted]") && log.contains(&server.url()), "redacted, and still useful:\n{log}");
        let report = &all.iter().find(|(n, _)| n == "report.txt").unwrap().1;
        assert!(report.contains(&server.url()), "the doctor's findings:\n{report}");
        app.stop().await;

        // From a terminal: `lonceng doctor --bundle <zip>`.
        let out = dir.path().join("for-it.zip");
        let (text, _) = lonceng_desktop::doctor::bundle_command(Some(dir.path().to_path_buf()), None, out.clone()).await;
        assert!(text.contains("for-it.zip"), "{text}");
        assert_clean(&out, &planted);
        server.stop().await;
    });
    }
}
