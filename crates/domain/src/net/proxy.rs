//! Which proxy the app's requests take: the agent's (or IT's) choice in Settings, else the
//! computer's own — the environment's variables (as curl reads them), else the desktop's settings
//! (GNOME's, read by the desktop crate; Windows' Internet settings, which reqwest reads itself,
//! exceptions included). What `doctor` says of it never holds a password.

use std::net::IpAddr;
use std::sync::RwLock;

/// Where the app's requests go first: a corporate network's proxy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProxyChoice {
    /// The operating system's: the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
    /// `NO_PROXY`), else the desktop's settings.
    #[default]
    System,
    /// None at all.
    Direct,
    /// This one: `http://[user:password@]host:port`.
    Url(String),
}

impl ProxyChoice {
    /// The Settings field: empty for the system's, `direct` for none, else a proxy's address.
    pub fn from_setting(text: &str) -> Result<ProxyChoice, String> {
        match text.trim() {
            "" => Ok(ProxyChoice::System),
            t if t.eq_ignore_ascii_case("direct") || t.eq_ignore_ascii_case("none") => {
                Ok(ProxyChoice::Direct)
            }
            t => {
                let url = url::Url::parse(t).map_err(|e| format!("'{t}' is not a proxy address: {e}"))?;
                // A path, query or fragment is no part of a proxy's address (and would hide where
                // a password ends).
                let bare =
                    matches!(url.path(), "" | "/") && url.query().is_none() && url.fragment().is_none();
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || !bare {
                    return Err(format!(
                        "'{t}' is not a proxy address: write it like http://proxy.example:3128"
                    ));
                }
                Ok(ProxyChoice::Url(t.to_owned()))
            }
        }
    }

    /// What `lonceng doctor` says of it: never the password.
    pub fn describe(&self) -> String {
        match self {
            ProxyChoice::System => "the system's".into(),
            ProxyChoice::Direct => "none".into(),
            ProxyChoice::Url(u) => redact(u),
        }
    }
}

/// The proxy the desktop's own settings name (GNOME's, Windows' Internet settings), read by the
/// desktop crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OsProxy {
    /// Proxies by scheme of the address asked for (either may be absent), and the hosts that go
    /// direct (`NO_PROXY`'s form: `localhost,.example.com,10.0.0.0/8`).
    Manual { http: Option<String>, https: Option<String>, no_proxy: String, source: &'static str },
    /// A proxy auto-config file, which Lonceng cannot run: said by `doctor`, connections go direct.
    Automatic { pac: String, source: &'static str },
}

/// The proxy every client built from now on uses (the app sets it from Settings at start and
/// when they change; its sources are built again then).
static PROXY: RwLock<ProxyChoice> = RwLock::new(ProxyChoice::System);
static OS_PROXY: RwLock<Option<OsProxy>> = RwLock::new(None);

pub fn use_proxy(choice: ProxyChoice) {
    *PROXY.write().unwrap_or_else(|p| p.into_inner()) = choice;
}

pub fn proxy() -> ProxyChoice {
    PROXY.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// What the desktop's settings say (read again before each reconnect).
pub fn use_os_proxy(os: Option<OsProxy>) {
    *OS_PROXY.write().unwrap_or_else(|p| p.into_inner()) = os;
}

fn os_proxy() -> Option<OsProxy> {
    OS_PROXY.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// The desktop's proxy where Lonceng applies it; none on Windows, where reqwest (and the
/// updater's) read the Internet settings themselves, exceptions in every form included.
fn applied_os_proxy() -> Option<OsProxy> {
    os_proxy().filter(|_| !cfg!(windows))
}

/// A desktop's list of hosts that go direct, in `NO_PROXY`'s form: GNOME and Windows write
/// `*.example.com` where `NO_PROXY` says `.example.com`.
pub fn no_proxy_list<'a>(hosts: impl IntoIterator<Item = &'a str>) -> String {
    hosts
        .into_iter()
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| h.strip_prefix('*').filter(|r| r.starts_with('.')).unwrap_or(h))
        .collect::<Vec<_>>()
        .join(",")
}

/// The proxy variables of the environment for an address's scheme, in curl's order.
fn env_proxy(https: bool) -> Option<(&'static str, String)> {
    let vars: &[&'static str] = if https {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    vars.iter().find_map(|v| std::env::var(v).ok().filter(|x| !x.trim().is_empty()).map(|x| (*v, x)))
}

/// Whether the environment names any proxy: then it is the computer's whole proxy setting (as
/// for curl), and the desktop's is not looked at.
pub(super) fn environment_names_one() -> bool {
    env_proxy(true).is_some() || env_proxy(false).is_some()
}

fn env_no_proxy() -> String {
    ["NO_PROXY", "no_proxy"].iter().find_map(|v| std::env::var(v).ok()).unwrap_or_default()
}

/// The desktop's proxies for the clients built here, with their exceptions.
pub(super) fn desktop_proxies() -> Vec<reqwest::Proxy> {
    let Some(OsProxy::Manual { http, https, no_proxy, .. }) = applied_os_proxy() else {
        return Vec::new();
    };
    let no_proxy = reqwest::NoProxy::from_string(&no_proxy);
    let made =
        [https.map(|u| reqwest::Proxy::https(u.as_str())), http.map(|u| reqwest::Proxy::http(u.as_str()))];
    made.into_iter()
        .flatten()
        .filter_map(|p| match p {
            Ok(p) => Some(p.no_proxy(no_proxy.clone())),
            Err(e) => {
                tracing::warn!(error = %e, "the desktop's proxy cannot be used");
                None
            }
        })
        .collect()
}

/// How a client made elsewhere (the updater's) reaches `url`: no proxy, this one, or the system's
/// as its HTTP library reads it (the environment, Windows' Internet settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    System,
    Direct,
    Via(String),
}

pub fn route(url: &str) -> Route {
    let https = is_https(url);
    match proxy() {
        ProxyChoice::Direct => Route::Direct,
        ProxyChoice::Url(u) => Route::Via(u),
        ProxyChoice::System if environment_names_one() => Route::System,
        ProxyChoice::System => match applied_os_proxy() {
            Some(OsProxy::Manual { no_proxy, .. }) if bypassed(url, &no_proxy) => Route::Direct,
            Some(OsProxy::Manual { http, https: secure, .. }) => {
                (if https { secure } else { http }).map_or(Route::System, Route::Via)
            }
            Some(OsProxy::Automatic { .. }) | None => Route::System,
        },
    }
}

/// Which proxy a request to `url` goes through, and by whose setting: what `doctor` says (never
/// a password). An error when the desktop names an auto-config file, which Lonceng cannot run.
pub fn proxy_for(url: &str) -> Result<String, String> {
    let https = is_https(url);
    Ok(match proxy() {
        ProxyChoice::Direct => "none (Settings)".into(),
        ProxyChoice::Url(u) => format!("{} (Settings)", redact(&u)),
        ProxyChoice::System if environment_names_one() => match env_proxy(https) {
            Some(_) if bypassed(url, &env_no_proxy()) => "none (NO_PROXY)".into(),
            Some((var, value)) => format!("{} ({var})", redact(&value)),
            None => "none (the environment names a proxy for other addresses only)".into(),
        },
        ProxyChoice::System => match os_proxy() {
            Some(OsProxy::Manual { no_proxy, source, .. }) if bypassed(url, &no_proxy) => {
                format!("none (an exception in {source})")
            }
            Some(OsProxy::Manual { http, https: secure, source, .. }) => {
                match if https { secure } else { http } {
                    Some(u) => format!("{} ({source})", redact(&u)),
                    None => format!("none ({source})"),
                }
            }
            Some(OsProxy::Automatic { pac, source }) => return Err(format!("{source}: {}", redact(&pac))),
            None => "none".into(),
        },
    })
}

fn is_https(url: &str) -> bool {
    url.trim_start().to_ascii_lowercase().starts_with("https:")
}

/// Whether `url`'s host is among `list` (`NO_PROXY`'s form): `*`, a host and its subdomains
/// (`example.com`, `.example.com`), an address, or a network (`10.0.0.0/8`).
pub fn bypassed(url: &str, list: &str) -> bool {
    let Some(host) = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase)) else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: Option<IpAddr> = host.parse().ok();
    list.split(',').map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()).any(|entry| {
        if entry == "*" {
            return true;
        }
        if let (Some(ip), Some((net, bits))) = (ip, entry.split_once('/')) {
            return in_network(ip, net, bits);
        }
        let name = entry.trim_start_matches('.');
        host == name || host.strip_suffix(name).is_some_and(|rest| rest.ends_with('.'))
    })
}

fn in_network(ip: IpAddr, net: &str, bits: &str) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else { return false };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// A proxy's address as `doctor` shows it: its scheme, host and port, nothing else (no user, no
/// password, and nothing a mistyped address could carry after its host). `host:port` alone is
/// read as http.
pub(super) fn redact(address: &str) -> String {
    let address = address.trim();
    let parsed = if address.contains("://") {
        url::Url::parse(address).ok()
    } else {
        url::Url::parse(&format!("http://{address}")).ok()
    };
    match parsed.as_ref().and_then(|u| Some((u.scheme(), u.host_str()?, u.port()))) {
        Some((scheme, host, Some(port))) => format!("{scheme}://{host}:{port}/"),
        Some((scheme, host, None)) => format!("{scheme}://{host}/"),
        None => "a proxy".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctor_never_shows_a_proxy_password_however_the_address_is_written() {
        for (written, shown) in [
            ("http://user:secret@proxy.corp:3128", "http://proxy.corp:3128/"),
            ("proxy.corp:8080", "http://proxy.corp:8080/"),
            ("user:secret@proxy.corp:8080", "http://proxy.corp:8080/"),
            ("http://proxy.corp/?token=secret", "http://proxy.corp/"),
            ("::::", "a proxy"),
        ] {
            assert_eq!(redact(written), shown, "{written}");
        }
        // Mistyped: whatever is made of them, the password is not in it.
        for written in ["http://user:pa/ss@proxy:3128", "http://us#er:pw@proxy:1", "http://u:p@ss@proxy:1"] {
            let said = redact(written);
            assert!(!said.contains("ss") && !said.contains("pw") && !said.contains('@'), "{written}: {said}");
        }
        assert!(ProxyChoice::from_setting("http://us#er:pw@proxy:1").is_err(), "a fragment is no address");
        assert!(ProxyChoice::from_setting("http://proxy:1/path").is_err());
        assert!(ProxyChoice::from_setting("http://user:pw@proxy:3128/").is_ok());
    }

    #[test]
    fn desktop_exception_lists_take_no_proxy_form() {
        assert_eq!(
            no_proxy_list(["localhost", " *.corp.example", "", "10.0.0.0/8", "*"]),
            "localhost,.corp.example,10.0.0.0/8,*"
        );
    }

    #[test]
    fn exceptions_match_hosts_subdomains_addresses_and_networks() {
        let list = "localhost, .corp.example,intranet.example , 10.0.0.0/8,192.168.1.7,fd00::/8";
        for yes in [
            "http://localhost:8080/",
            "https://nc.corp.example/",
            "https://corp.example/",
            "https://a.intranet.example/",
            "http://10.20.30.40/",
            "http://192.168.1.7/",
            "http://[fd00::1]/",
        ] {
            assert!(bypassed(yes, list), "{yes}");
        }
        for no in [
            "https://evilcorp.example/",
            "https://notintranet.example/",
            "http://11.0.0.1/",
            "http://192.168.1.8/",
            "nonsense",
        ] {
            assert!(!bypassed(no, list), "{no}");
        }
        assert!(bypassed("https://any.where/", "*"));
        assert!(!bypassed("http://10.0.0.1/", "10.0.0.0/99"), "a bad network matches nothing");
    }
}
