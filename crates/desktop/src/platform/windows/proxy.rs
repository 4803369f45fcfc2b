//! The proxy in Windows' Internet settings (Settings → Network → Proxy, or IT's group policy), as
//! the per-user registry keeps it: `ProxyEnable`, `ProxyServer` (`host:port` for every scheme, or
//! `http=host:port;https=host:port`), `ProxyOverride` (`<local>;*.corp.example`) and
//! `AutoConfigURL` (a PAC file, which Lonceng cannot run: `doctor` says so).

use lonceng_domain::net::OsProxy;

const KEY: &str = r"Software\Microsoft\Windows\CurrentVersion\Internet Settings";
const SOURCE: &str = "Windows' Internet settings";

pub fn internet_settings() -> Option<OsProxy> {
    let key = windows_registry::CURRENT_USER.open(KEY).ok()?;
    let enabled = key.get_u32("ProxyEnable").unwrap_or(0) != 0;
    let server = key.get_string("ProxyServer").unwrap_or_default();
    let bypass = key.get_string("ProxyOverride").unwrap_or_default();
    let pac = key.get_string("AutoConfigURL").unwrap_or_default();
    parse(enabled, &server, &bypass, &pac)
}

/// The values read, as a proxy (none when it is off and no PAC file is named).
pub fn parse(enabled: bool, server: &str, bypass: &str, pac: &str) -> Option<OsProxy> {
    if !enabled {
        let pac = pac.trim();
        return (!pac.is_empty()).then(|| OsProxy::Automatic { pac: pac.to_owned(), source: SOURCE });
    }
    let address = |a: &str| -> Option<String> {
        let a = a.trim();
        let a = a.strip_prefix("http://").unwrap_or(a);
        let url = url::Url::parse(&format!("http://{a}")).ok()?;
        (url.host_str().is_some() && url.path() == "/" && url.username().is_empty()).then(|| url.to_string())
    };
    let (mut http, mut https) = (None, None);
    for part in server.split(';').filter(|p| !p.trim().is_empty()) {
        match part.split_once('=') {
            Some((scheme, a)) if scheme.trim().eq_ignore_ascii_case("http") => http = address(a),
            Some((scheme, a)) if scheme.trim().eq_ignore_ascii_case("https") => https = address(a),
            Some(_) => {}
            None => {
                http = address(part);
                https = http.clone();
            }
        }
    }
    if http.is_none() && https.is_none() {
        return None;
    }
    // `<local>` (names without a dot) has no NO_PROXY form.
    let no_proxy = lonceng_domain::net::no_proxy_list(bypass.split(';').filter(|h| h.trim() != "<local>"));
    Some(OsProxy::Manual { http, https, no_proxy, source: SOURCE })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internet_settings_one_proxy_per_scheme_or_for_all() {
        let Some(OsProxy::Manual { http, https, no_proxy, .. }) =
            parse(true, "proxy.corp.example:8080", "<local>;*.corp.example;10.1.2.3", "")
        else {
            panic!("manual")
        };
        assert_eq!(http.as_deref(), Some("http://proxy.corp.example:8080/"));
        assert_eq!(https, http);
        assert_eq!(no_proxy, ".corp.example,10.1.2.3");
        let Some(OsProxy::Manual { http, https, .. }) =
            parse(true, "http=web:3128;https=secure:3129;socks=s:1080", "", "")
        else {
            panic!("by scheme")
        };
        assert_eq!(
            (http.as_deref(), https.as_deref()),
            (Some("http://web:3128/"), Some("http://secure:3129/"))
        );
        assert_eq!(parse(false, "proxy:8080", "", ""), None, "switched off");
        assert!(matches!(parse(false, "", "", "http://wpad/wpad.dat"), Some(OsProxy::Automatic { .. })));
        for hostile in ["", ";;", "user:pw@evil:1", "evil/path:1", "ftp=only:21"] {
            assert_eq!(parse(true, hostile, "", ""), None, "{hostile}");
        }
    }
}
