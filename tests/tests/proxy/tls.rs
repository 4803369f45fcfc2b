//! A proxy that inspects TLS, as companies run them: squid's ssl-bump re-signs every site with the
//! company's root. The app trusts what the operating system trusts (`rustls-platform-verifier`),
//! so it is refused — and says why — until that root is in the trust store, here `SSL_CERT_FILE`
//! as Linux's store reads it. The Lonceng server sits behind a TLS front with a certificate squid
//! does not check (as an inspecting proxy re-signs whatever it meets).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use chrono::Utc;
use lonceng_client::sync::ConnState;
use lonceng_domain::net::{proxy_for, trust_store, use_proxy, ProxyChoice};
use lonceng_e2e::{mention, poll_until, AGENT};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::{client, serial, serve, WAIT};

fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl").current_dir(dir).args(args).stderr(Stdio::null()).status();
    assert!(ok.expect("openssl").success(), "openssl {args:?}");
}

/// The company's root (PEM and key, for squid) and the site's own certificate (DER, for the
/// front), made with openssl.
fn certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Lonceng test inspection root",
            "-addext",
            "basicConstraints=critical,CA:true",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "site.key",
            "-out",
            "site.pem",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            // Not a CA (openssl's -x509 default): squid copies it into the certificate it makes.
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ],
    );
    openssl(dir, &["x509", "-in", "site.pem", "-outform", "der", "-out", "site.der"]);
    openssl(
        dir,
        &["pkcs8", "-topk8", "-nocrypt", "-in", "site.key", "-outform", "der", "-out", "site.key.der"],
    );
}

/// HTTPS on a free loopback port, passed on to `upstream` (the Lonceng server, plain HTTP).
async fn tls_front(dir: &Path, upstream: std::net::SocketAddr) -> (u16, tokio::task::JoinHandle<()>) {
    let cert = CertificateDer::from(std::fs::read(dir.join("site.der")).unwrap());
    let key =
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(std::fs::read(dir.join("site.key.der")).unwrap()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
            });
        }
    });
    (port, task)
}

/// squid with ssl-bump on a free loopback port, re-signing with the root in `dir`; killed when
/// dropped.
struct Squid {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Squid {
    async fn start(dir: &Path) -> Squid {
        // squid drops to its own user when started as root: it must read and write here.
        let mut perms = std::fs::metadata(dir).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o777);
        std::fs::set_permissions(dir, perms).unwrap();
        let certgen = "/usr/lib/squid/security_file_certgen";
        let db = dir.join("ssl_db");
        let made = Command::new(certgen)
            .arg("-c")
            .arg("-s")
            .arg(&db)
            .args(["-M", "4MB"])
            .stdout(Stdio::null())
            .status();
        assert!(made.expect("squid's certificate generator (squid-openssl)").success());
        Command::new("chmod").args(["-R", "a+rwX"]).arg(dir).status().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let d = dir.display();
        let conf = format!(
            "http_port 127.0.0.1:{port} ssl-bump generate-host-certificates=on dynamic_cert_mem_cache_size=4MB \
             tls-cert={d}/ca.pem tls-key={d}/ca.key\n\
             sslcrtd_program {certgen} -s {d}/ssl_db -M 4MB\n\
             sslcrtd_children 2 startup=1 idle=1\n\
             acl step1 at_step SslBump1\nssl_bump peek step1\nssl_bump bump all\n\
             # The site's certificate is the front's own: an inspecting proxy re-signs what it meets.\n\
             tls_outgoing_options flags=DONT_VERIFY_PEER\nsslproxy_cert_error allow all\n\
             http_access allow localhost\nhttp_access deny all\ncache deny all\npinger_enable off\n\
             pid_filename {d}/squid.pid\ncache_log {d}/cache.log\naccess_log {d}/access.log\n\
             coredump_dir {d}\nshutdown_lifetime 0 seconds\n"
        );
        std::fs::write(dir.join("squid.conf"), conf).unwrap();
        let child = Command::new("squid")
            .arg("-N")
            .arg("-f")
            .arg(dir.join("squid.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("squid (Debian's squid-openssl; scripts/test.sh installs it)");
        let up = poll_until(WAIT, || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()).await;
        assert!(up, "squid listens: {}", std::fs::read_to_string(dir.join("cache.log")).unwrap_or_default());
        Squid { child, port, dir: dir.to_owned() }
    }

    /// What it saw inside the TLS it opened: the requests' URLs.
    fn seen(&self) -> String {
        std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default()
    }
}

impl Drop for Squid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_inspecting_proxy_works_once_its_root_is_in_the_trust_store() {
    let _serial = serial().await;
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let squid = Squid::start(dir.path()).await;
    let (server, token) = serve("t1").await;
    let (front, front_task) = tls_front(dir.path(), server.addr).await;
    let url = format!("https://127.0.0.1:{front}");
    // The computer's own proxy setting, from the environment, as `doctor` names it.
    std::env::set_var("HTTPS_PROXY", format!("http://127.0.0.1:{}", squid.port));
    use_proxy(ProxyChoice::System);
    assert_eq!(proxy_for(&url), Ok(format!("http://127.0.0.1:{}/ (HTTPS_PROXY)", squid.port)));
    // The environment's: other HTTP libraries (the updater's) read it themselves.
    assert_eq!(lonceng_domain::net::route(&url), lonceng_domain::net::Route::System);
    let start = || client(&url, &token);

    // The system's store does not hold the company's root: refused, and said why.
    let mut c = start();
    c.until(WAIT, "the untrusted certificate said", |c| {
        c.states.lock().unwrap().iter().any(|s| {
            matches!(s, ConnState::Offline { reason, .. } if reason.contains("certificate is not trusted by this computer"))
        })
    })
    .await;
    assert_eq!(c.len(), 0, "nothing through a connection it could not trust");
    c.stop().await;

    // With the root in the trust store: synced and streamed through the proxy, which saw inside.
    let bundle = dir.path().join("ca.pem");
    std::env::set_var("SSL_CERT_FILE", &bundle);
    assert_eq!(trust_store(), Ok(format!("{} (SSL_CERT_FILE)", bundle.display())));
    let mut c = start();
    c.until(WAIT, "synced through the inspecting proxy", |c| c.len() == 1).await;
    server.service.submit(mention("t2", AGENT, Utc::now())).await.unwrap();
    c.until(WAIT, "the stream through the inspecting proxy", |c| c.len() == 2).await;
    let seen = squid.seen();
    assert!(seen.contains(&format!("https://127.0.0.1:{front}/v1/changes")), "squid opened the TLS: {seen}");
    c.stop().await;
    front_task.abort();
    server.stop().await;
}
