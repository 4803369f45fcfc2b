//! GNOME's proxy settings (Settings → Network → Network Proxy), for agents whose IT set the
//! proxy there rather than in the environment: GNOME keeps them in dconf under
//! `org.gnome.system.proxy`, which has no D-Bus interface, so `gsettings` reads them — in one
//! call, with a timeout (a hung dconf must not hold a reconnect up).

use std::time::Duration;

use lonceng_domain::net::OsProxy;

use super::gsettings::Gsettings;

const SOURCE: &str = "GNOME's proxy settings";
const TIMEOUT: Duration = Duration::from_secs(2);

impl Gsettings {
    /// The proxy GNOME's settings name, if any (mode `none`, or no GNOME schema: `None`), from
    /// every key under `org.gnome.system.proxy` and its http, https, … children at once.
    pub fn proxy(&self) -> Option<OsProxy> {
        parse(&self.run(&["list-recursively", "org.gnome.system.proxy"], TIMEOUT)?)
    }
}

/// Reads `gsettings list-recursively` output.
pub fn parse(listing: &str) -> Option<OsProxy> {
    let get = |schema: &str, key: &str| -> Option<&str> {
        listing.lines().find_map(|l| {
            let rest = l.strip_prefix(schema)?.strip_prefix(' ')?;
            rest.strip_prefix(key)?.strip_prefix(' ')
        })
    };
    let text = |schema: &str, key: &str| get(schema, key).map(gvariant_string).unwrap_or_default();
    match text("org.gnome.system.proxy", "mode").as_str() {
        "manual" => {}
        "auto" => {
            let pac = text("org.gnome.system.proxy", "autoconfig-url");
            return Some(OsProxy::Automatic { pac, source: SOURCE });
        }
        _ => return None,
    }
    let address = |scheme: &str| -> Option<String> {
        let schema = format!("org.gnome.system.proxy.{scheme}");
        let host = text(&schema, "host");
        let port: u16 = get(&schema, "port")?.trim().parse().ok().filter(|p| *p > 0)?;
        if host.is_empty() || host.contains(['/', '@', ' ', '?', '#', '\\']) {
            return None;
        }
        // GNOME keeps the user and password with the http proxy: they go to it, and to the https
        // one only when it is the same proxy (never to another host).
        let same = text("org.gnome.system.proxy.http", "host") == host
            && get("org.gnome.system.proxy.http", "port").map(str::trim) == Some(port.to_string().as_str());
        let auth = get("org.gnome.system.proxy.http", "use-authentication") == Some("true") && same;
        let user = text("org.gnome.system.proxy.http", "authentication-user");
        let mut url = url::Url::parse(&format!("http://{host}:{port}")).ok()?;
        if auth && !user.is_empty() {
            url.set_username(&user).ok()?;
            let password = text("org.gnome.system.proxy.http", "authentication-password");
            url.set_password(Some(&password).filter(|p| !p.is_empty()).map(String::as_str)).ok()?;
        }
        Some(url.to_string())
    };
    let (http, https) = (address("http"), address("https"));
    if http.is_none() && https.is_none() {
        return None;
    }
    let ignore = get("org.gnome.system.proxy", "ignore-hosts").map(gvariant_strings).unwrap_or_default();
    let no_proxy = lonceng_domain::net::no_proxy_list(ignore.iter().map(String::as_str));
    Some(OsProxy::Manual { http, https, no_proxy, source: SOURCE })
}

/// A GVariant string as gsettings prints it: `'text'` (or `"text"` when it holds a `'`), with
/// backslash escapes.
fn gvariant_string(value: &str) -> String {
    let v = value.trim();
    let Some(quote) = v.chars().next().filter(|c| *c == '\'' || *c == '"') else {
        return String::new();
    };
    let mut out = String::new();
    let mut chars = v[1..].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c if c == quote => break,
            c => out.push(c),
        }
    }
    out
}

/// A GVariant string array: `['a', 'b']`, or `@as []` when empty.
fn gvariant_strings(value: &str) -> Vec<String> {
    let v = value.trim().trim_start_matches("@as").trim();
    let Some(inner) = v.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else {
        return Vec::new();
    };
    let mut items = Vec::new();
    let mut rest = inner.trim_start();
    while let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let mut end = None;
        let mut escaped = false;
        for (i, c) in rest.char_indices().skip(1) {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                c if c == quote => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        items.push(gvariant_string(&rest[..=end]));
        rest = rest[end + 1..].trim_start().trim_start_matches(',').trim_start();
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANUAL: &str = "org.gnome.system.proxy use-same-proxy true
org.gnome.system.proxy mode 'manual'
org.gnome.system.proxy autoconfig-url ''
org.gnome.system.proxy ignore-hosts ['localhost', '127.0.0.0/8', '*.corp.example', 'it\\'s']
org.gnome.system.proxy.http host 'proxy.corp.example'
org.gnome.system.proxy.http port 3128
org.gnome.system.proxy.http use-authentication true
org.gnome.system.proxy.http authentication-user 'sari'
org.gnome.system.proxy.http authentication-password 'p@ss:word'
org.gnome.system.proxy.https host 'secure.corp.example'
org.gnome.system.proxy.https port 8443
org.gnome.system.proxy.socks host ''
org.gnome.system.proxy.socks port 0
";

    #[test]
    fn gnome_manual_proxy_is_read_with_its_exceptions_and_credentials() {
        let Some(OsProxy::Manual { http, https, no_proxy, .. }) = parse(MANUAL) else { panic!("manual") };
        assert_eq!(http.as_deref(), Some("http://sari:p%40ss%3Aword@proxy.corp.example:3128/"));
        // Another host: the http proxy's password is not sent there.
        assert_eq!(https.as_deref(), Some("http://secure.corp.example:8443/"));
        let same = MANUAL.replace("'secure.corp.example'", "'proxy.corp.example'").replace("8443", "3128");
        let Some(OsProxy::Manual { https, .. }) = parse(&same) else { panic!("manual") };
        assert_eq!(
            https.as_deref(),
            Some("http://sari:p%40ss%3Aword@proxy.corp.example:3128/"),
            "the same proxy"
        );
        assert_eq!(no_proxy, "localhost,127.0.0.0/8,.corp.example,it's");
    }

    #[test]
    fn gnome_none_auto_and_hostile_values() {
        assert_eq!(parse(&MANUAL.replace("'manual'", "'none'")), None);
        assert_eq!(parse(""), None, "no GNOME schema");
        let auto = MANUAL
            .replace("'manual'", "'auto'")
            .replace("autoconfig-url ''", "autoconfig-url 'http://wpad/wpad.dat'");
        assert_eq!(
            parse(&auto),
            Some(OsProxy::Automatic { pac: "http://wpad/wpad.dat".into(), source: SOURCE })
        );
        // A host that would smuggle a path or credentials, a port out of range: not used.
        let hostile = MANUAL
            .replace("'proxy.corp.example'", "'evil.example/x@'")
            .replace("8443", "99999")
            .replace("['localhost'", "@as [");
        assert_eq!(parse(&hostile), None);
        assert_eq!(gvariant_strings("@as []"), Vec::<String>::new());
        assert_eq!(gvariant_strings("['unterminated"), Vec::<String>::new());
        assert_eq!(gvariant_string("\"it's\""), "it's");
    }
}
