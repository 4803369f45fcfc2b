use super::*;

fn wire() -> WireNotification {
    WireNotification {
        id: "n-1".into(),
        tab: "general".into(),
        category: "mention".into(),
        kind: "mention".into(),
        params: serde_json::json!({"actor": "Budi", "target": "deal", "object_name": "PT Maju"}),
        actor_id: Some("u-2".into()),
        recipient_id: "u-1".into(),
        url: "https://app.qontak.com/crm/deals/1".into(),
        created_at: "2026-01-20T01:00:00Z".parse().unwrap(),
        read_at: None,
    }
}

#[test]
fn every_category_belongs_to_the_tab_that_lists_it() {
    for tab in Tab::ALL {
        for c in tab.categories() {
            assert_eq!(c.tab(), *tab);
        }
    }
    let listed: usize = Tab::ALL.iter().map(|t| t.categories().len()).sum();
    assert_eq!(listed, Category::ALL.len());
}

#[test]
fn category_codes_round_trip() {
    for c in Category::ALL {
        assert_eq!(Category::from_code(c.code()), Some(*c));
    }
    assert_eq!(Category::from_code(0), None);
    assert_eq!(Category::from_code(99), None);
}

#[test]
fn every_kind_lands_in_its_documented_tab() {
    use Kind::*;
    let inbox = [ConversationAssigned, ConversationResolved, ContactBlocked, ContactUnblocked];
    for kind in Kind::ALL {
        if let Some(c) = kind.category() {
            let expected = if inbox.contains(kind) {
                Tab::Inbox
            } else if kind.as_str().contains("approval") {
                Tab::Approval
            } else {
                Tab::General
            };
            assert_eq!(c.tab(), expected, "{kind}");
        }
    }
}

#[test]
fn a_valid_wire_item_becomes_a_notification_and_round_trips() {
    let n = wire().validate().unwrap();
    assert_eq!(n.tab(), Tab::General);
    assert_eq!(n.kind, Kind::Mention);
    assert_eq!(n.params.text("actor"), Some("Budi"));
    assert_eq!(n.to_wire().validate().unwrap(), n);
}

#[test]
fn unknown_kind_tab_and_category_are_named_in_the_error() {
    let mut w = wire();
    w.kind = "hologram".into();
    let err = w.validate().unwrap_err();
    assert_eq!(err.id, "n-1");
    assert!(err.to_string().contains("unknown Kind 'hologram'"), "{err}");

    let mut w = wire();
    w.tab = "spam".into();
    assert!(matches!(w.validate().unwrap_err().problem, Problem::Unknown(UnknownKey { what: "Tab", .. })));

    let mut w = wire();
    w.category = "resolved".into();
    let err = w.validate().unwrap_err();
    assert_eq!(err.problem, Problem::CategoryNotInTab { tab: Tab::General, category: Category::Resolved });
    assert!(err.to_string().contains("belongs to tab 'inbox'"));
}

#[test]
fn kind_must_match_category_except_crm_notices_outside_inbox() {
    let mut w = wire();
    w.category = "reminder".into();
    assert!(matches!(w.validate().unwrap_err().problem, Problem::KindNotInCategory { .. }));
    assert!(Kind::CrmNotice.allows(Category::Expenses));
    assert!(Kind::CrmNotice.allows(Category::Reminder));
    assert!(!Kind::CrmNotice.allows(Category::Resolved));
}

#[test]
fn params_are_checked_against_the_kind() {
    let mut w = wire();
    w.params = serde_json::json!({"actor": "Budi", "target": "deal"});
    assert_eq!(
        w.validate().unwrap_err().problem,
        Problem::MissingParam { kind: Kind::Mention, param: "object_name" }
    );
    let mut w = wire();
    w.params = serde_json::json!({"actor": 5, "target": "deal", "object_name": "x"});
    assert!(matches!(w.validate().unwrap_err().problem, Problem::BadParam { param: "actor", .. }));
    let mut w = wire();
    w.params = serde_json::json!({"actor": "B", "target": "Deal Room!", "object_name": "x"});
    assert!(matches!(w.validate().unwrap_err().problem, Problem::BadParam { param: "target", .. }));
    let mut w = wire();
    w.params = serde_json::json!(["not", "an", "object"]);
    assert_eq!(w.validate().unwrap_err().problem, Problem::ParamsNotObject);
    let mut w = wire();
    w.params = serde_json::json!({"actor": "B", "target": "deal", "object_name": "x".repeat(2001)});
    assert!(matches!(w.validate().unwrap_err().problem, Problem::BadParam { .. }));
}

#[test]
fn counts_must_be_non_negative_and_choices_may_be_new_values() {
    let p = Params::new().with("object_type", "invoices").with("count", 3);
    assert_eq!(p.validate(Kind::ExportReady), Ok(()));
    let p = Params::new().with("object_type", "deals").with("count", -1);
    assert!(p.validate(Kind::ExportReady).is_err());
}

#[test]
fn urls_must_be_absolute_web_urls() {
    assert!(is_web_url("https://app.qontak.com/crm/deals/1?tab=notes#x"));
    assert!(is_web_url("http://localhost:8080/x"));
    for bad in [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://",
        "https:// x.com",
        "/relative",
        "https://a.com/\u{7}",
    ] {
        assert!(!is_web_url(bad), "{bad}");
    }
    let mut w = wire();
    w.url = "javascript:alert(1)".into();
    assert_eq!(w.validate().unwrap_err().problem, Problem::BadUrl);
}

#[test]
fn bad_ids_recipients_and_read_times_are_rejected() {
    let mut w = wire();
    w.id = String::new();
    assert_eq!(w.validate().unwrap_err().problem, Problem::BadId);
    let mut w = wire();
    w.recipient_id = String::new();
    assert_eq!(w.validate().unwrap_err().problem, Problem::NoRecipient);
    let mut w = wire();
    w.read_at = Some("2026-01-19T00:00:00Z".parse().unwrap());
    assert_eq!(w.validate().unwrap_err().problem, Problem::ReadBeforeCreated);
}
