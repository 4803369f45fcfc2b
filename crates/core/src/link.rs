//! Which pages a click may open (NC-R7): only http(s) pages on the allowed hosts, judged by the
//! host a browser would actually visit. Notification text and URLs come from the network; a link
//! that only looks like Qontak (`https://qontak.com.evil.example`, `https://app.qontak.com@evil`)
//! is refused and logged, never opened. Toast clicks and the window's items both open pages
//! through [`Links`], so there is one place that decides.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// Opens a page in the default browser (the platform's part).
pub trait Opener: Send + Sync + 'static {
    fn open(&self, url: &str) -> Result<(), String>;
}

/// Which pages a click may open: http(s) on these hosts or their subdomains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlPolicy {
    pub hosts: Vec<String>,
}

impl Default for UrlPolicy {
    fn default() -> Self {
        UrlPolicy { hosts: vec!["qontak.com".into(), "mekari.com".into(), "mekari.io".into()] }
    }
}

impl UrlPolicy {
    pub fn allows(&self, url: &str) -> bool {
        let Some(rest) = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")) else {
            return false;
        };
        if !crate::model::is_web_url(url) {
            return false;
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') {
            return false; // user:pass@host tricks
        }
        let host = authority.rsplit_once(':').map_or(authority, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                authority
            }
        });
        let host = host.trim_end_matches('.').to_lowercase();
        self.hosts.iter().any(|allowed| {
            let allowed = allowed.to_lowercase();
            host == allowed || host.ends_with(&format!(".{allowed}"))
        })
    }

    /// Also allows the host of a self-hosted Lonceng server (not a loopback demo): such deployments
    /// link to their own pages.
    pub fn with_server(mut self, server_url: &str) -> UrlPolicy {
        let host = server_url.split("://").nth(1).and_then(|rest| rest.split(['/', ':']).next());
        if let Some(host) = host.filter(|h| !h.is_empty() && *h != "127.0.0.1" && *h != "localhost") {
            self.hosts.push(host.to_owned());
        }
        self
    }
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
        if !self.policy.lock().unwrap_or_else(|p| p.into_inner()).allows(url) {
            tracing::warn!(url, "refused to open a URL outside the allowed hosts");
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

    #[test]
    fn nc_r7_only_web_urls_on_allowed_hosts_may_be_opened() {
        let p = UrlPolicy::default();
        for ok in [
            "https://app.qontak.com/crm/deals/1",
            "https://chat.qontak.com/inbox/room-1?x=1#y",
            "http://qontak.com/",
            "https://api.mekari.com:443/x",
        ] {
            assert!(p.allows(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "https://qontak.com.evil.example/",
            "https://evilqontak.com/",
            "https://app.qontak.com@evil.example/",
            "https://evil.example/?https://app.qontak.com",
            "ftp://app.qontak.com/",
            "https://app.qontak.com/\n",
        ] {
            assert!(!p.allows(bad), "{bad}");
        }
    }

    #[test]
    fn a_self_hosted_server_may_link_to_its_own_pages_but_a_loopback_demo_adds_nothing() {
        let p = UrlPolicy::default().with_server("https://notify.example.co.id:8443/base");
        assert!(p.allows("https://notify.example.co.id/x"));
        assert_eq!(UrlPolicy::default().with_server("http://127.0.0.1:4000"), UrlPolicy::default());
        assert_eq!(UrlPolicy::default().with_server("http://localhost:4000"), UrlPolicy::default());
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
