use super::*;
use lonceng_domain::i18n::{Catalog, Lang};

fn healthy() -> Facts {
    Facts {
        notifications: Notifications::Dbus {
            name: "dunst".into(),
            version: "1.9.0".into(),
            capabilities: vec!["body".into(), "actions".into(), "persistence".into()],
        },
        tray: Tray::Host,
        display: Display::X11 { active_window: true },
        screen_lock: Some("org.freedesktop.ScreenSaver".into()),
        keyring: Some("Secret Service".into()),
        autostart: Autostart { managed: true, wanted: true, entry: Some("x".into()), starts_this: true },
        network: Network { proxy: Ok("none".into()), trust: Ok("the system's certificates".into()) },
        server: Server::Lonceng { url: "https://nc.example.com".into(), reachable: Ok(()) },
        token: Token::Valid { user: "u-1".into() },
        stream: Stream::Open,
        clock_skew: Some(2),
        quarantined: Some(0),
        policy: PolicyFacts::default(),
    }
}

fn level_of(f: &Facts, check: Check) -> Level {
    diagnose(f).into_iter().find(|x| x.check == check).map(|x| x.level).unwrap()
}

#[test]
fn a_healthy_desktop_is_all_ok_and_exits_zero() {
    let findings = diagnose(&healthy());
    assert_eq!(findings.len(), 13, "one line per check");
    assert!(findings.iter().all(|f| f.level == Level::Ok && f.advice.is_none()), "{findings:?}");
    let catalog = Catalog::builtin().unwrap();
    let report = Report::render(&findings, &catalog, Lang::En);
    assert_eq!(report.exit_code(), 0);
    let text = report.text(&catalog, Lang::En);
    assert!(text.contains("dunst 1.9.0"), "{text}");
    assert_eq!(text.lines().count(), 13);
}

// ORG-3: a policy is reported with where it came from; a wrong entry is named, with what to do.
#[test]
fn org_3_the_policy_line_names_its_source_and_its_wrong_entries() {
    let catalog = Catalog::builtin().unwrap();
    let mut f = healthy();
    f.policy = PolicyFacts { source: Some("/etc/lonceng/policy.json".into()), fixed: 2, problems: vec![] };
    assert_eq!(level_of(&f, Check::Policy), Level::Ok);
    let text = Report::render(&diagnose(&f), &catalog, Lang::En).text(&catalog, Lang::En);
    assert!(text.contains("2 settings are fixed by your organisation"), "{text}");
    f.policy.problems =
        vec!["sound: expected true or false, found \"loud\"".into(), "colour: not a setting".into()];
    assert_eq!(level_of(&f, Check::Policy), Level::Warning);
    for lang in [Lang::En, Lang::Id] {
        let text = Report::render(&diagnose(&f), &catalog, lang).text(&catalog, lang);
        assert!(text.contains("sound: expected true or false") && text.contains("policy.json"), "{text}");
    }
}

#[test]
fn each_missing_piece_is_named_with_what_to_do() {
    let mut f = healthy();
    f.notifications = Notifications::Missing;
    f.tray = Tray::Missing { gnome: true };
    f.display = Display::Wayland;
    f.screen_lock = None;
    f.keyring = None;
    f.server = Server::Lonceng { url: "https://nc.example.com".into(), reachable: Err("refused".into()) };
    f.token = Token::Unchecked;
    f.stream = Stream::Unchecked;
    f.clock_skew = None;
    f.quarantined = Some(3);
    let findings = diagnose(&f);
    let catalog = Catalog::builtin().unwrap();
    for lang in [Lang::En, Lang::Id] {
        let report = Report::render(&findings, &catalog, lang);
        assert_eq!(report.level, Level::Problem);
        assert_eq!(report.exit_code(), 1);
        for line in &report.lines {
            assert!(!line.text.starts_with("doctor-"), "{lang:?}: a message is missing: {}", line.text);
            assert!(!line.title.starts_with("doctor-"), "{lang:?}: a title is missing: {}", line.title);
            if line.level != Level::Ok && ![Check::Token, Check::Stream, Check::Clock].contains(&line.check) {
                assert!(line.advice.is_some(), "{lang:?} {:?} says what to do", line.check);
            }
            if let Some(a) = &line.advice {
                assert!(!a.starts_with("doctor-"), "{lang:?}: advice missing: {a}");
            }
        }
    }
    let en = Report::render(&findings, &catalog, Lang::En);
    let tray = en.lines.iter().find(|l| l.check == Check::Tray).unwrap();
    assert!(tray.advice.as_deref().unwrap().contains("AppIndicator"), "the GNOME hint: {tray:?}");
    assert_eq!(level_of(&f, Check::Notifications), Level::Problem);
    assert_eq!(level_of(&f, Check::Display), Level::Warning);
    assert_eq!(level_of(&f, Check::Quarantine), Level::Warning);
}

#[test]
fn the_network_line_names_the_proxy_and_the_trust_store_or_what_fails() {
    let catalog = Catalog::builtin().unwrap();
    let line = |f: &Facts| {
        let report = Report::render(&diagnose(f), &catalog, Lang::En);
        report.lines.into_iter().find(|l| l.check == Check::Network).unwrap()
    };
    let mut f = healthy();
    f.network.proxy = Ok("http://proxy.corp.example:3128/ (HTTPS_PROXY)".into());
    let ok = line(&f);
    assert_eq!(ok.level, Level::Ok);
    assert!(ok.text.contains("proxy.corp.example:3128") && ok.text.contains("HTTPS_PROXY"), "{ok:?}");
    assert!(ok.text.contains("the system's certificates"), "{ok:?}");
    f.network.proxy = Err("GNOME's proxy settings: http://wpad/wpad.dat".into());
    let pac = line(&f);
    assert_eq!(pac.level, Level::Warning);
    assert!(pac.text.contains("wpad.dat") && pac.advice.as_deref().unwrap().contains("Settings"), "{pac:?}");
    f.network.trust = Err("No CA certificates were loaded from the system".into());
    let trust = line(&f);
    assert_eq!((trust.level, report_exit(&f)), (Level::Problem, 1));
    assert!(trust.text.contains("No CA certificates"), "{trust:?}");
}

fn report_exit(f: &Facts) -> i32 {
    Report::render(&diagnose(f), &Catalog::builtin().unwrap(), Lang::En).exit_code()
}

#[test]
fn a_notification_server_without_actions_is_a_warning() {
    let mut f = healthy();
    f.notifications = Notifications::Dbus {
        name: "notify-osd".into(),
        version: "1".into(),
        capabilities: vec!["body".into()],
    };
    assert_eq!(level_of(&f, Check::Notifications), Level::Warning);
}

#[test]
fn clock_skew_is_judged_either_way() {
    let mut f = healthy();
    for (skew, level) in [(0, Level::Ok), (-30, Level::Ok), (31, Level::Warning), (-301, Level::Problem)] {
        f.clock_skew = Some(skew);
        assert_eq!(level_of(&f, Check::Clock), level, "{skew} s");
    }
    f.clock_skew = Some(i64::MIN);
    assert_eq!(level_of(&f, Check::Clock), Level::Problem, "no overflow on a hostile Date");
}

#[test]
fn the_login_entry_is_checked_against_the_setting() {
    let mut f = healthy();
    let cases = [
        (false, true, None, false, Level::Ok),
        (true, true, Some("x"), true, Level::Ok),
        (true, true, Some("/tmp/other --hidden"), false, Level::Warning),
        (true, true, None, false, Level::Warning),
        (true, false, None, false, Level::Ok),
        (true, false, Some("x"), true, Level::Warning),
    ];
    for (managed, wanted, entry, starts_this, level) in cases {
        f.autostart = Autostart { managed, wanted, entry: entry.map(Into::into), starts_this };
        assert_eq!(level_of(&f, Check::Autostart), level, "{:?}", f.autostart);
    }
}

#[test]
fn outside_text_cannot_steer_a_terminal() {
    let mut f = healthy();
    f.notifications = Notifications::Dbus {
        name: "evil\u{1b}[2J\u{1b}]0;pwned\u{7}\nok".into(),
        version: "\u{202e}1".into(),
        capabilities: vec!["actions".into(), "x".repeat(10_000)],
    };
    let catalog = Catalog::builtin().unwrap();
    let report = Report::render(&diagnose(&f), &catalog, Lang::En);
    let text = report.text(&catalog, Lang::En);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'), "{text}");
    assert_eq!(text.lines().count(), 13, "no injected line");
    assert!(text.len() < 4_000, "long values are cut");
}
