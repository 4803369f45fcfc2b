//! Which pages a click may open (NC-R7): only http(s) pages on the allowed hosts, judged by the
//! host a browser would actually visit. Notification text and URLs come from the network; a link
//! that only looks like Qontak (`https://qontak.com.evil.example`, `https://app.qontak.com@evil`,
//! `https://app.qontak.com\@evil`, a look-alike in another script) is refused and logged, never
//! opened. Toast clicks and the window's items both open pages through [`Links`], so there is one
//! place that decides; the server applies the same policy to what producers send.
//!
//! URLs are parsed as browsers parse them (WHATWG, the `url` crate: backslashes, percent-encoding,
//! IDNA to punycode, trailing dots), and a host is allowed when it is an allowed domain or inside
//! one. An allowed entry that is itself a public suffix (`co.id`, `com`) allows nothing, and IP
//! literals (loopback, link-local, cloud metadata addresses) are never pages of Qontak.
//! `tests/contract/urls.json` holds the tricky forms, checked here and in a real browser.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use url::{Host, Url};

/// Opens a page in the default browser (the platform's part).
pub trait Opener: Send + Sync + 'static {
    fn open(&self, url: &str) -> Result<(), String>;
}

/// Which pages a click may open: http(s) on these domains or inside them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlPolicy {
    pub hosts: Vec<String>,
}

impl Default for UrlPolicy {
    fn default() -> Self {
        UrlPolicy { hosts: vec!["qontak.com".into(), "mekari.com".into(), "mekari.io".into()] }
    }
}

/// The host a browser would visit for `url`, as it would write it (lowercase, punycode, no trailing
/// dot), when `url` is an http(s) URL naming a domain; `None` for anything else.
pub fn browser_host(url: &str) -> Option<String> {
    let u = Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    match u.host()? {
        Host::Domain(d) => Some(d.trim_end_matches('.').to_owned()),
        Host::Ipv4(_) | Host::Ipv6(_) => None,
    }
}

impl UrlPolicy {
    /// Whether a click may open `url`.
    pub fn allows(&self, url: &str) -> bool {
        self.refusal(url).is_none()
    }

    /// Why `url` may not be opened, or `None` when it may.
    pub fn refusal(&self, url: &str) -> Option<String> {
        if !crate::model::is_web_url(url) {
            return Some("not an http(s) address".into());
        }
        let Ok(u) = Url::parse(url) else { return Some("not an http(s) address".into()) };
        if !u.username().is_empty() || u.password().is_some() {
            return Some("it carries a user name, which can disguise the host".into());
        }
        let Some(host) = browser_host(url) else {
            return Some("it names an IP address, not a domain".into());
        };
        let allowed = self
            .hosts
            .iter()
            .filter_map(|h| allowed_domain(h))
            .any(|a| host == a || host.strip_suffix(a.as_str()).is_some_and(|rest| rest.ends_with('.')));
        (!allowed).then(|| format!("{host} is not an allowed host"))
    }

    /// Also allows the host of a self-hosted Lonceng server (not a loopback demo): such deployments
    /// link to their own pages.
    pub fn with_server(mut self, server_url: &str) -> UrlPolicy {
        if let Some(host) = browser_host(server_url).filter(|h| h != "localhost") {
            self.hosts.push(host);
        }
        self
    }
}

/// An allowed entry as a domain to compare with: normalised as a browser writes hosts, and `None`
/// when it is a public suffix (which would allow everyone's domains under it) or not a domain.
fn allowed_domain(entry: &str) -> Option<String> {
    let host = browser_host(&format!("https://{}/", entry.trim()))?;
    psl::domain_str(&host).is_some().then_some(host)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("{0} is not a Qontak page; not opened")]
    NotAllowed(String),
    #[error("could not open {url}: {reason}")]
    Failed { url: String, reason: String },
}

/// The one way a page is opened: the policy, then the platform's opener.
pub struct Links {
    policy: Mutex<UrlPolicy>,
    opener: Arc<dyn Opener>,
}

impl Links {
    pub fn new(policy: UrlPolicy, opener: Arc<dyn Opener>) -> Links {
        Links { policy: Mutex::new(policy), opener }
    }

    pub fn set_policy(&self, policy: UrlPolicy) {
        *self.policy.lock().unwrap_or_else(|p| p.into_inner()) = policy;
    }

    /// Opens `url` if the policy allows it; refusals and failures are logged and returned.
    pub fn open(&self, url: &str) -> Result<(), LinkError> {
        if let Some(why) = self.policy.lock().unwrap_or_else(|p| p.into_inner()).refusal(url) {
            tracing::warn!(url, why, "refused to open a link");
            return Err(LinkError::NotAllowed(url.to_owned()));
        }
        self.opener.open(url).map_err(|reason| {
            tracing::warn!(error = %reason, url, "could not open the page");
            LinkError::Failed { url: url.to_owned(), reason }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // NC-R7: the shared corpus of tricky forms (also checked against Chromium's own parser in the
    // window's browser tests): the host a browser visits, and whether Lonceng opens it.
    #[test]
    fn nc_r7_only_pages_whose_real_host_is_allowed_may_be_opened() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/contract/urls.json")).unwrap();
        let p = UrlPolicy::default();
        let cases = doc["cases"].as_array().unwrap();
        assert!(cases.len() >= 30);
        for case in cases {
            let url = case["url"].as_str().unwrap();
            let parsed = Url::parse(url).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
            let host = parsed.as_ref().and_then(|u| u.host_str());
            assert_eq!(host, case["host"].as_str(), "{url}: the host as a browser reads it");
            assert_eq!(p.allows(url), case["allowed"].as_bool().unwrap(), "{url}: {:?}", p.refusal(url));
        }
    }

    #[test]
    fn a_public_suffix_allows_nothing() {
        let p = UrlPolicy { hosts: vec!["co.id".into(), "com".into()] };
        assert!(!p.allows("https://evil.co.id/"));
        assert!(!p.allows("https://qontak.com/"));
        let p = UrlPolicy { hosts: vec!["Qontak.COM.".into()] };
        assert!(p.allows("https://APP.qontak.com./x"), "entries are normalised as hosts are");
    }

    #[test]
    fn a_self_hosted_server_may_link_to_its_own_pages_but_a_loopback_demo_adds_nothing() {
        let p = UrlPolicy::default().with_server("https://notify.example.co.id:8443/base");
        assert!(p.allows("https://notify.example.co.id/x"));
        assert_eq!(UrlPolicy::default().with_server("http://127.0.0.1:4000"), UrlPolicy::default());
        assert_eq!(UrlPolicy::default().with_server("http://localhost:4000"), UrlPolicy::default());
        let tricked = UrlPolicy::default().with_server("https://user:pw@notify.example.co.id/");
        assert!(!tricked.hosts.contains(&"user".to_owned()), "the user name is not a host: {tricked:?}");
    }

    #[derive(Default)]
    struct Recording(Mutex<Vec<String>>);
    impl Opener for Recording {
        fn open(&self, url: &str) -> Result<(), String> {
            self.0.lock().unwrap().push(url.to_owned());
            Ok(())
        }
    }

    #[test]
    fn nc_r7_links_open_allowed_pages_and_refuse_the_rest_without_calling_the_browser() {
        let opener = Arc::new(Recording::default());
        let links = Links::new(UrlPolicy::default(), opener.clone());
        assert_eq!(links.open("https://app.qontak.com/crm/deals/1"), Ok(()));
        let evil = "https://qontak.com.evil.example/phish";
        assert_eq!(links.open(evil), Err(LinkError::NotAllowed(evil.into())));
        assert_eq!(*opener.0.lock().unwrap(), vec!["https://app.qontak.com/crm/deals/1".to_string()]);
    }
}
