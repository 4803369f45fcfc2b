//! The sign-in token and the OS keyring: a real gnome-keyring on a private D-Bus, and the safe
//! fallback (a private file) where no keyring service runs.
// Linux desktop services (D-Bus, X11); the Windows backends have tests/windows.rs.
#![cfg(unix)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;
use lonceng_desktop::keyring::{SecretKind, Secrets, TokenStore, TokenVault};
use lonceng_desktop::platform::secret_service::Keyring;

const TOKEN: SecretKind = SecretKind::SignInToken;
const CRM: SecretKind = SecretKind::CrmClientSecret;

bus_test! {
    fn the_token_goes_to_the_keyring_when_one_runs_and_nowhere_else() {
    let home = tempfile::tempdir().unwrap();
    let runtime = home.path().join("run");
    std::fs::create_dir_all(&runtime).unwrap();
    // A fresh login keyring, unlocked with the password given on stdin, serving this bus.
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--foreground", "--components=secrets", "--unlock"])
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gnome-keyring-daemon runs (package gnome-keyring; scripts/test.sh installs it)");
    daemon.stdin.take().unwrap().write_all(b"test-password\n").unwrap();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    rt().block_on(async {
        // Asking the bus who owns the name starts nothing; only then talk to the keyring.
        let bus = zbus::Connection::session().await.unwrap();
        let mut up = false;
        for _ in 0..100 {
            let owned: bool = bus
                .call_method(
                    Some("org.freedesktop.DBus"),
                    "/org/freedesktop/DBus",
                    Some("org.freedesktop.DBus"),
                    "NameHasOwner",
                    &("org.freedesktop.secrets",),
                )
                .await
                .ok()
                .and_then(|r| r.body().deserialize().ok())
                .unwrap_or(false);
            // Ready when its default collection exists (the daemon creates it just after starting).
            if owned {
                if let Some(k) = Keyring::connect().await {
                    if let Some(c) = k.default_collection().await {
                        let exists = bus
                            .call_method(
                                Some("org.freedesktop.secrets"),
                                c.as_str(),
                                Some("org.freedesktop.DBus.Properties"),
                                "Get",
                                &("org.freedesktop.Secret.Collection", "Locked"),
                            )
                            .await
                            .is_ok();
                        if exists {
                            up = true;
                            break;
                        }
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(up, "the keyring answers on the bus");
        let vault = TokenVault::new(file.parent().unwrap().to_path_buf());
        assert_eq!(vault.write(TOKEN, "s3cret").await, Ok(TokenStore::Keyring));
        assert!(!file.exists(), "no copy on disk");
        assert_eq!(vault.read(TOKEN).await, (Some("s3cret".into()), TokenStore::Keyring));
        assert_eq!(vault.write(TOKEN, "n3w-token").await, Ok(TokenStore::Keyring));
        assert_eq!(
            vault.read(TOKEN).await,
            (Some("n3w-token".into()), TokenStore::Keyring),
            "replaced, not added"
        );
        // The CRM client secret is a second item: neither replaces the other.
        assert_eq!(vault.read(CRM).await, (None, TokenStore::None));
        assert_eq!(vault.write(CRM, "company-hmac").await, Ok(TokenStore::Keyring));
        assert_eq!(vault.read(CRM).await.0.as_deref(), Some("company-hmac"));
        assert_eq!(vault.read(TOKEN).await.0.as_deref(), Some("n3w-token"));
    });
    let _ = daemon.kill();
    let _ = daemon.wait();
    }
}

bus_test! {
    fn without_a_keyring_the_token_goes_to_a_file_only_the_agent_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    rt().block_on(async {
        let vault = TokenVault::new(dir.path().to_path_buf());
        assert_eq!(vault.read(TOKEN).await, (None, TokenStore::None));
        assert_eq!(vault.write(TOKEN, "s3cret").await, Ok(TokenStore::File));
        assert_eq!(vault.read(TOKEN).await, (Some("s3cret".into()), TokenStore::File));
        assert_eq!(vault.write(CRM, "company-hmac").await, Ok(TokenStore::File));
        assert_eq!(vault.read(TOKEN).await.0.as_deref(), Some("s3cret"), "one file per secret");
    });
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o077, 0);
    }
    }
}
