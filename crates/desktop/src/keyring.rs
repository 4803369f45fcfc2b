//! The app's secrets in the OS keyring (`crate::platform`: the freedesktop Secret Service on
//! Linux, the Credential Manager on Windows).
//! There are three: the device credentials signing in to a Lonceng server gave, the token an admin
//! issued (pasted under Advanced), and the company's CRM client secret of the direct CRM mode. Where no keyring runs, or it is locked and would need a
//! prompt, a secret goes to a file only the agent can read, and the window says so. Neither ever
//! goes back to the window.

use std::path::PathBuf;

use lonceng_client::sync::BoxFut;

pub use crate::secret_kind::SecretKind;

/// Where the token is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStore {
    Keyring,
    File,
    None,
}

impl TokenStore {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStore::Keyring => "keyring",
            TokenStore::File => "file",
            TokenStore::None => "none",
        }
    }
}

/// Where the app's secrets are kept (a port: the Secret Service here, the Credential Manager on
/// Windows, a fake in tests).
pub trait Secrets: Send + Sync + 'static {
    /// A secret and where it was found.
    fn read(&self, kind: SecretKind) -> BoxFut<'_, (Option<String>, TokenStore)>;
    /// Saves a secret where it is safest; says where it went.
    fn write<'a>(&'a self, kind: SecretKind, value: &'a str) -> BoxFut<'a, Result<TokenStore, String>>;
    /// Removes a secret from wherever it was kept (signing out).
    fn forget(&self, kind: SecretKind) -> BoxFut<'_, ()>;
}

/// The secrets: in the keyring when one runs, else in private files of the data directory.
pub struct TokenVault {
    dir: PathBuf,
}

impl TokenVault {
    pub fn new(dir: PathBuf) -> TokenVault {
        TokenVault { dir }
    }

    async fn read_secret(&self, kind: SecretKind) -> (Option<String>, TokenStore) {
        if let Some(t) = crate::platform::read_secret(kind).await {
            return (Some(t), TokenStore::Keyring);
        }
        let file = self.dir.join(kind.file());
        match std::fs::read_to_string(file).ok().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
            Some(t) => (Some(t), TokenStore::File),
            None => (None, TokenStore::None),
        }
    }

    async fn write_secret(&self, kind: SecretKind, value: &str) -> Result<TokenStore, String> {
        let file = self.dir.join(kind.file());
        if crate::platform::write_secret(kind, value).await {
            // Never keep a second copy around.
            let _ = std::fs::remove_file(&file);
            return Ok(TokenStore::Keyring);
        }
        // A copy the keyring kept from before would be read instead of the new one.
        crate::platform::write_secret(kind, "").await;
        tracing::warn!("no unlocked keyring took the secret: it goes to a private file");
        write_private(&file, value).map(|()| TokenStore::File)
    }
}

impl Secrets for TokenVault {
    fn read(&self, kind: SecretKind) -> BoxFut<'_, (Option<String>, TokenStore)> {
        Box::pin(self.read_secret(kind))
    }

    fn write<'a>(&'a self, kind: SecretKind, value: &'a str) -> BoxFut<'a, Result<TokenStore, String>> {
        Box::pin(self.write_secret(kind, value))
    }

    fn forget(&self, kind: SecretKind) -> BoxFut<'_, ()> {
        Box::pin(async move {
            // An empty secret removes the keyring's entry.
            crate::platform::write_secret(kind, "").await;
            let _ = std::fs::remove_file(self.dir.join(kind.file()));
        })
    }
}

fn write_private(path: &std::path::Path, token: &str) -> Result<(), String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    crate::platform::owner_only(&mut opts);
    let mut f = opts.open(path).map_err(|e| format!("saving the secret in {}: {e}", path.display()))?;
    f.write_all(token.as_bytes()).map_err(|e| format!("saving the secret in {}: {e}", path.display()))
}
