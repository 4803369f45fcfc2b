//! IT's policy (ORG-3): settings fixed for everyone on this computer, read at start and placed above
//! the agent's own. The platform reads it (`/etc/lonceng/policy.json` on Linux; on Windows the
//! registry, `HKLM\Software\Policies\Lonceng` then `HKCU\…`); here it is read key by key, so a wrong
//! key is named and ignored while the others still apply, and never stops the app.
//!
//! A fixed setting shows as locked in Settings, a change to it is refused, and the agent's own
//! value stays in `settings.json` underneath: when IT lifts the policy, the agent's choice is back.

use std::collections::BTreeSet;

use lonceng_domain::i18n::Lang;
use lonceng_domain::model::{is_web_url, Category};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::AppError;
use crate::settings::{DesktopSettings, SettingsChanges, SignInMethod, SourceKind};

/// The settings a policy may fix, by the names the policy file (and the registry) uses.
pub const KEYS: &[&str] =
    &["server_url", "source", "sign_in", "lang", "autostart", "update_url", "muted", "sound", "proxy"];

/// What IT fixed; `None` leaves the agent's choice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    /// The organisation's server.
    pub server_url: Option<String>,
    /// Where notifications come from: the organisation's server or the CRM directly.
    pub source: Option<SourceKind>,
    /// How this computer signs in to the organisation's server.
    pub sign_in: Option<SignInMethod>,
    pub lang: Option<Lang>,
    pub autostart: Option<bool>,
    /// The update channel: the manifest address.
    pub update_url: Option<String>,
    /// Toast defaults: the categories that never toast.
    pub muted: Option<BTreeSet<Category>>,
    /// Toast defaults: sound on or off.
    pub sound: Option<bool>,
    /// The proxy, as Settings writes it (empty: the computer's own; `direct`: none).
    pub proxy: Option<String>,
}

/// A policy as read: where from (none when there is none), and what in it could not be used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub policy: Policy,
    pub source: Option<String>,
    pub problems: Vec<String>,
}

impl Loaded {
    /// A policy file's text (a JSON object).
    pub fn from_json(source: &str, text: &str) -> Loaded {
        match serde_json::from_str::<serde_json::Map<String, Value>>(text) {
            Ok(keys) => Loaded::from_values(source, keys),
            Err(e) => Loaded {
                policy: Policy::default(),
                source: Some(source.to_owned()),
                problems: vec![format!("not a JSON object: {e}")],
            },
        }
    }

    /// Named values (a file's keys, the registry's values), each used if it is a known key with a
    /// fitting value; what is not is named in `problems`.
    pub fn from_values(source: &str, values: impl IntoIterator<Item = (String, Value)>) -> Loaded {
        let mut policy = Policy::default();
        let mut problems = Vec::new();
        for (key, value) in values {
            let outcome = match key.as_str() {
                "server_url" => web_url(value).map(|v| policy.server_url = Some(v)),
                "update_url" => web_url(value).map(|v| policy.update_url = Some(v)),
                "source" => typed(value).map(|v| policy.source = Some(v)),
                "sign_in" => typed(value).map(|v| policy.sign_in = Some(v)),
                "lang" => typed(value).map(|v| policy.lang = Some(v)),
                "autostart" => flag(value).map(|v| policy.autostart = Some(v)),
                "sound" => flag(value).map(|v| policy.sound = Some(v)),
                "muted" => categories(value).map(|v| policy.muted = Some(v)),
                "proxy" => proxy(value).map(|v| policy.proxy = Some(v)),
                _ => Err(format!("not a setting a policy can fix (those are {})", KEYS.join(", "))),
            };
            if let Err(why) = outcome {
                problems.push(format!("{}: {why}", clip(&key)));
            }
        }
        Loaded { policy, source: Some(source.to_owned()), problems }
    }

    /// How many settings the policy fixes.
    pub fn fixed(&self) -> usize {
        self.locked().len()
    }

    /// The settings fixed, by the names the window knows them by.
    pub fn locked(&self) -> Vec<&'static str> {
        let p = &self.policy;
        [
            ("server_url", p.server_url.is_some()),
            ("source", p.source.is_some()),
            ("sign_in", p.sign_in.is_some()),
            ("lang", p.lang.is_some()),
            ("autostart", p.autostart.is_some()),
            ("update_url", p.update_url.is_some()),
            ("muted", p.muted.is_some()),
            ("sound", p.sound.is_some()),
            ("proxy", p.proxy.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, fixed)| fixed.then_some(name))
        .collect()
    }

    /// The settings in force: the agent's, with what the policy fixes on top.
    pub fn over(&self, mut s: DesktopSettings) -> DesktopSettings {
        let p = &self.policy;
        fix(&mut s.server_url, &p.server_url);
        fix(&mut s.source, &p.source);
        fix(&mut s.lang, &p.lang);
        fix(&mut s.autostart, &p.autostart);
        fix(&mut s.update_url, &p.update_url);
        fix(&mut s.muted, &p.muted);
        fix(&mut s.sound.on, &p.sound);
        fix(&mut s.proxy, &p.proxy);
        s
    }

    /// Refuses a change to a fixed setting (the same value, as a whole form sends it, passes).
    pub fn check(&self, c: &SettingsChanges) -> Result<(), AppError> {
        let p = &self.policy;
        let trimmed = |v: &Option<String>| v.as_deref().map(str::trim).map(str::to_owned);
        let touched = [
            ("server_url", differs(&trimmed(&c.server_url), &p.server_url)),
            ("source", differs(&c.source, &p.source)),
            ("lang", differs(&c.lang, &p.lang)),
            ("autostart", differs(&c.autostart, &p.autostart)),
            ("update_url", differs(&trimmed(&c.update_url), &p.update_url)),
            ("muted", differs(&c.muted, &p.muted)),
            ("sound", differs(&c.sound.as_ref().map(|s| s.on), &p.sound)),
            ("proxy", differs(&trimmed(&c.proxy), &p.proxy)),
        ];
        // A pasted token where IT has people sign in through the identity provider.
        let token_given = c.token.as_deref().is_some_and(|t| !t.trim().is_empty());
        if token_given && p.sign_in == Some(SignInMethod::Organisation) {
            return Err(AppError::Refused(
                "your organisation signs you in through its identity provider: use Sign in".into(),
            ));
        }
        match touched.into_iter().find(|(_, d)| *d) {
            Some((name, _)) => Err(AppError::Refused(format!("{name} is set by your organisation"))),
            None => Ok(()),
        }
    }
}

impl Loaded {
    /// The update manifest's address: IT's (ORG-3), else the command line's (`--update-url`,
    /// `LONCENG_UPDATE_URL`), else the agent's Settings; `in_force` is the settings under this policy.
    pub fn update_url(&self, flag: Option<String>, in_force: &DesktopSettings) -> Option<String> {
        let flag = flag.filter(|u| !u.trim().is_empty() && self.policy.update_url.is_none());
        flag.or_else(|| in_force.update_url())
    }

    /// After a change (that [`Loaded::check`] let through: same values) was applied to the agent's
    /// own settings, puts back the agent's own values of what the policy fixes: the policy stays
    /// on top, never written underneath as the agent's choice.
    pub fn keep_own(&self, before: &DesktopSettings, after: &mut DesktopSettings) {
        let p = &self.policy;
        restore(&mut after.server_url, &before.server_url, &p.server_url);
        restore(&mut after.source, &before.source, &p.source);
        restore(&mut after.lang, &before.lang, &p.lang);
        restore(&mut after.autostart, &before.autostart, &p.autostart);
        restore(&mut after.update_url, &before.update_url, &p.update_url);
        restore(&mut after.muted, &before.muted, &p.muted);
        restore(&mut after.sound.on, &before.sound.on, &p.sound);
        restore(&mut after.proxy, &before.proxy, &p.proxy);
    }
}

fn restore<T: Clone, F>(field: &mut T, own: &T, fixed: &Option<F>) {
    if fixed.is_some() {
        *field = own.clone();
    }
}

fn fix<T: Clone>(field: &mut T, fixed: &Option<T>) {
    if let Some(v) = fixed {
        *field = v.clone();
    }
}

/// A change that names a fixed setting with another value.
fn differs<T: PartialEq>(change: &Option<T>, fixed: &Option<T>) -> bool {
    matches!((change, fixed), (Some(c), Some(f)) if c != f)
}

fn typed<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// An address: http(s) only.
fn web_url(value: Value) -> Result<String, String> {
    let url = typed::<String>(value)?.trim().to_owned();
    if is_web_url(&url) {
        Ok(url)
    } else {
        Err(format!("'{}' is not an http(s) address", clip(&url)))
    }
}

/// A proxy as Settings takes it (empty, `direct`, or an http(s) proxy's address).
fn proxy(value: Value) -> Result<String, String> {
    let text = typed::<String>(value)?.trim().to_owned();
    lonceng_domain::net::ProxyChoice::from_setting(&text).map_err(|e| clip(&e))?;
    Ok(text)
}

/// true or false; 1 or 0 too, as the registry keeps them (DWORD).
fn flag(value: Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(b),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        other => Err(format!("expected true or false, found {}", clip(&other.to_string()))),
    }
}

/// A list of categories; one string with commas too, as a registry string holds it.
fn categories(value: Value) -> Result<BTreeSet<Category>, String> {
    let value = match value {
        Value::String(s) => Value::Array(
            s.split(',').map(str::trim).filter(|c| !c.is_empty()).map(|c| Value::String(c.into())).collect(),
        ),
        other => other,
    };
    typed(value)
}

/// A value or key from the policy, as much of it as a message needs.
fn clip(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).take(80).collect();
    if clean.chars().count() < s.chars().count() {
        format!("{clean}…")
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lonceng_client::toast::SoundSettings;

    // ORG-3: every key a policy can fix, in the file's form.
    #[test]
    fn org_3_a_policy_fixes_its_settings_above_the_agents() {
        let loaded = Loaded::from_json(
            "/etc/lonceng/policy.json",
            r#"{"server_url": " https://lonceng.example.co.id ", "source": "server", "lang": "id",
                "autostart": true, "update_url": "https://updates.example.co.id/lonceng.json",
                "muted": ["reminder"], "sound": false}"#,
        );
        assert_eq!(loaded.problems, Vec::<String>::new());
        assert_eq!(loaded.fixed(), 7);
        let mine = DesktopSettings {
            lang: Lang::En,
            autostart: false,
            server_url: "https://mine.example".into(),
            sound: SoundSettings { on: true, ..SoundSettings::default() },
            ..DesktopSettings::default()
        };
        let in_force = loaded.over(mine.clone());
        assert_eq!(in_force.server_url, "https://lonceng.example.co.id");
        assert_eq!((in_force.lang, in_force.autostart, in_force.sound.on), (Lang::Id, true, false));
        assert_eq!(in_force.muted, BTreeSet::from([Category::Reminder]));
        assert_eq!(in_force.crm_client_id, mine.crm_client_id, "what is not fixed stays the agent's");
    }

    // ORG-3: a wrong key is named and ignored; the rest applies.
    // ORG-3: IT fixes the proxy (a corporate network's); one that is no proxy's address is named.
    #[test]
    fn org_3_a_policy_fixes_the_proxy() {
        let loaded = Loaded::from_json("p", r#"{"proxy": "http://proxy.corp.example:3128"}"#);
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        let in_force = loaded.over(DesktopSettings::default());
        assert_eq!(in_force.proxy, "http://proxy.corp.example:3128");
        assert_eq!(loaded.locked(), ["proxy"]);
        let change = SettingsChanges { proxy: Some("direct".into()), ..SettingsChanges::default() };
        assert!(matches!(loaded.check(&change), Err(AppError::Refused(m)) if m.contains("proxy")));
        let bad = Loaded::from_json("p", r#"{"proxy": "ftp://proxy"}"#);
        assert_eq!(bad.policy.proxy, None);
        assert!(bad.problems[0].starts_with("proxy: "), "{:?}", bad.problems);
    }

    #[test]
    fn org_3_wrong_keys_and_types_are_named_one_by_one_and_the_rest_applies() {
        let loaded = Loaded::from_json(
            "policy.json",
            r#"{"server_url": "ftp://x", "autostart": "yes", "lang": "fr", "muted": ["reminder", 3],
                "colour": "red", "sound": 0, "update_url": 42}"#,
        );
        assert_eq!(loaded.policy, Policy { sound: Some(false), ..Policy::default() });
        let problems = loaded.problems.join("\n");
        for key in ["server_url", "autostart", "lang", "muted", "colour", "update_url"] {
            assert!(problems.contains(&format!("{key}: ")), "{key} named in:\n{problems}");
        }
        let broken = Loaded::from_json("policy.json", "[1, 2");
        assert_eq!((broken.fixed(), broken.problems.len()), (0, 1));
        let huge = Loaded::from_json("p", &format!(r#"{{"{}": 1}}"#, "k\u{202e}".repeat(10_000)));
        assert!(huge.problems[0].chars().count() < 300, "a hostile key is cut: {}", huge.problems[0].len());
    }

    // ORG-3: the registry's forms (DWORD flags, a comma-separated string) read the same.
    #[test]
    fn org_3_registry_values_read_like_the_file() {
        let values = [
            ("autostart".to_owned(), Value::from(0)),
            ("muted".to_owned(), Value::from("reminder, mention")),
            ("source".to_owned(), Value::from("crm")),
        ];
        let loaded = Loaded::from_values(r"HKLM\Software\Policies\Lonceng", values);
        assert_eq!(loaded.problems, Vec::<String>::new());
        assert_eq!(loaded.policy.autostart, Some(false));
        assert_eq!(loaded.policy.muted, Some(BTreeSet::from([Category::Reminder, Category::Mention])));
        assert_eq!(loaded.policy.source, Some(SourceKind::Crm));
    }

    // ORG-3: a locked setting cannot be changed; the same value (a whole form) passes.
    #[test]
    fn org_3_a_change_to_a_locked_setting_is_refused() {
        let loaded =
            Loaded::from_json("p", r#"{"server_url": "https://lonceng.example.co.id", "autostart": true}"#);
        let same = SettingsChanges {
            server_url: Some("https://lonceng.example.co.id ".into()),
            autostart: Some(true),
            lang: Some(Lang::Id),
            ..SettingsChanges::default()
        };
        assert!(loaded.check(&same).is_ok());
        let other = SettingsChanges { server_url: Some("https://elsewhere.example".into()), ..same.clone() };
        let err = loaded.check(&other).unwrap_err();
        assert!(matches!(&err, AppError::Refused(m) if m.contains("server_url")), "{err}");
        assert!(loaded.check(&SettingsChanges { autostart: Some(false), ..same }).is_err());
        assert_eq!(Loaded::default().locked(), Vec::<&str>::new());
    }

    // ORG-3: IT's update channel wins over the command line, which wins over Settings.
    #[test]
    fn org_3_it_decides_how_this_computer_signs_in() {
        let loaded = Loaded::from_json("policy.json", r#"{"sign_in": "organisation"}"#);
        assert_eq!(loaded.policy.sign_in, Some(SignInMethod::Organisation));
        assert_eq!(loaded.locked(), ["sign_in"]);
        let pasted = SettingsChanges { token: Some("an-admins-token".into()), ..SettingsChanges::default() };
        assert!(matches!(loaded.check(&pasted), Err(AppError::Refused(_))), "no pasted token");
        assert!(loaded.check(&SettingsChanges::default()).is_ok());
        let tokens = Loaded::from_json("policy.json", r#"{"sign_in": "token"}"#);
        assert!(tokens.check(&pasted).is_ok());
        let wrong = Loaded::from_json("policy.json", r#"{"sign_in": "passwords"}"#);
        assert_eq!(wrong.policy.sign_in, None);
        assert!(wrong.problems[0].starts_with("sign_in:"), "{:?}", wrong.problems);
    }

    #[test]
    fn org_3_the_update_channel_is_its_the_flags_then_the_agents() {
        let own = DesktopSettings {
            update_url: "https://mine.example/u.json".into(),
            ..DesktopSettings::default()
        };
        let flag = || Some("https://flag.example/u.json".to_owned());
        let none = Loaded::default();
        assert_eq!(none.update_url(flag(), &own).as_deref(), Some("https://flag.example/u.json"));
        assert_eq!(none.update_url(Some(" ".into()), &own).as_deref(), Some("https://mine.example/u.json"));
        let it = Loaded::from_json("p", r#"{"update_url": "https://it.example/u.json"}"#);
        assert_eq!(it.update_url(flag(), &it.over(own)).as_deref(), Some("https://it.example/u.json"));
    }

    // ORG-3: a form saved under a policy keeps the agent's own values underneath.
    #[test]
    fn org_3_the_agents_own_values_stay_under_the_policy() {
        let loaded = Loaded::from_json("p", r#"{"lang": "id", "sound": false}"#);
        let before = DesktopSettings { lang: Lang::En, ..DesktopSettings::default() };
        let mut after = before.clone();
        after
            .apply(SettingsChanges {
                lang: Some(Lang::Id),
                sound: Some(SoundSettings { on: false, silent: BTreeSet::from([Category::Mention]) }),
                update_url: Some("https://updates.example".into()),
                ..SettingsChanges::default()
            })
            .unwrap();
        loaded.keep_own(&before, &mut after);
        assert_eq!((after.lang, after.sound.on), (Lang::En, true), "the agent's own, under the policy");
        assert_eq!(after.sound.silent, BTreeSet::from([Category::Mention]), "what is not fixed is saved");
        assert_eq!(after.update_url, "https://updates.example");
        assert_eq!(loaded.over(after).lang, Lang::Id, "in force: the policy");
    }
}
