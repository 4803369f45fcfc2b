//! The app's secrets in the OS keyring: the freedesktop Secret Service (gnome-keyring, KWallet,
//! KeePassXC) over D-Bus. There are two, one per source: the sign-in token of a Lonceng server, and
//! the company's CRM client secret of the direct CRM mode. Where no such service runs, or the
//! keyring is locked and would need a prompt, a secret goes to a file only the agent can read, and
//! the window says so. Neither ever goes back to the window.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use lonceng_core::sync::BoxFut;
use zbus::{OwnedObjectPath, Variant as Value};

const SERVICE: &str = "org.freedesktop.secrets";
const PATH: &str = "/org/freedesktop/secrets";
const IFACE: &str = "org.freedesktop.Secret.Service";
const TIMEOUT: Duration = Duration::from_secs(3);

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

/// Which secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// The Lonceng server's sign-in token.
    SignInToken,
    /// The company's Mekari HMAC secret, for the direct CRM mode.
    CrmClientSecret,
}

impl SecretKind {
    fn attribute(self) -> &'static str {
        match self {
            SecretKind::SignInToken => "sign-in-token",
            SecretKind::CrmClientSecret => "crm-client-secret",
        }
    }

    fn label(self) -> &'static str {
        match self {
            SecretKind::SignInToken => "Lonceng sign-in token",
            SecretKind::CrmClientSecret => "Lonceng: Qontak CRM client secret",
        }
    }

    /// The private file used where no keyring runs.
    fn file(self) -> &'static str {
        match self {
            SecretKind::SignInToken => "token",
            SecretKind::CrmClientSecret => "crm-secret",
        }
    }
}

/// `(session, parameters, value, content type)` of the Secret Service.
type Secret = (OwnedObjectPath, Vec<u8>, Vec<u8>, String);

fn attributes(kind: SecretKind) -> HashMap<&'static str, &'static str> {
    HashMap::from([("application", "lonceng"), ("kind", kind.attribute())])
}

async fn call<R>(
    bus: &zbus::Connection,
    path: &str,
    iface: &str,
    method: &str,
    body: &(impl serde::Serialize + zbus::zvariant::DynamicType),
) -> Option<R>
where
    R: for<'d> zbus::zvariant::DynamicDeserialize<'d>,
{
    let reply =
        tokio::time::timeout(TIMEOUT, bus.call_method(Some(SERVICE), path, Some(iface), method, body))
            .await
            .ok()?
            .ok()?;
    reply.body().deserialize().ok()
}

async fn open_session(bus: &zbus::Connection) -> Option<OwnedObjectPath> {
    // "plain": the secret travels over the session bus, which only this user can reach.
    let (_, session): (zbus::OwnedVariant, OwnedObjectPath) =
        call(bus, PATH, IFACE, "OpenSession", &("plain", Value::from(""))).await?;
    Some(session)
}

/// The keyring, reached over the session bus.
pub struct Keyring {
    bus: zbus::Connection,
}

impl Keyring {
    /// `None` when no Secret Service answers.
    pub async fn connect() -> Option<Keyring> {
        let bus = tokio::time::timeout(TIMEOUT, zbus::Connection::session()).await.ok()?.ok()?;
        open_session(&bus).await?;
        Some(Keyring { bus })
    }

    pub async fn read(&self, kind: SecretKind) -> Option<String> {
        let (unlocked, _locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) =
            call(&self.bus, PATH, IFACE, "SearchItems", &(attributes(kind),)).await?;
        let item = unlocked.into_iter().next()?;
        let session = open_session(&self.bus).await?;
        let secrets: HashMap<OwnedObjectPath, Secret> =
            call(&self.bus, PATH, IFACE, "GetSecrets", &(vec![item.clone()], session)).await?;
        let (_, _, value, _) = secrets.get(&item)?;
        String::from_utf8(value.clone()).ok().filter(|t| !t.is_empty())
    }

    /// The default collection ("login" on GNOME), if the keyring has one.
    pub async fn default_collection(&self) -> Option<OwnedObjectPath> {
        let (path,): (OwnedObjectPath,) = call(&self.bus, PATH, IFACE, "ReadAlias", &("default",)).await?;
        Some(path).filter(|p| p.as_str() != "/")
    }

    /// Stores a secret; false when the keyring refused or would need to ask the agent first.
    pub async fn write(&self, kind: SecretKind, token: &str) -> bool {
        let Some(collection) = self.default_collection().await else { return false };
        let Some(session) = open_session(&self.bus).await else { return false };
        let mut props: HashMap<&str, Value> = HashMap::new();
        props.insert("org.freedesktop.Secret.Item.Label", Value::from(kind.label()));
        props.insert("org.freedesktop.Secret.Item.Attributes", Value::from(attributes(kind)));
        let secret: Secret = (session, Vec::new(), token.as_bytes().to_vec(), "text/plain".into());
        let created: Option<(OwnedObjectPath, OwnedObjectPath)> = call(
            &self.bus,
            collection.as_str(),
            "org.freedesktop.Secret.Collection",
            "CreateItem",
            &(props, secret, true),
        )
        .await;
        // A prompt path other than "/" means the collection is locked: no silent store possible.
        matches!(created, Some((item, prompt)) if item.as_str() != "/" && prompt.as_str() == "/")
    }
}

/// Where the app's secrets are kept (a port: the Secret Service here, the Credential Manager on
/// Windows, a fake in tests).
pub trait Secrets: Send + Sync + 'static {
    /// A secret and where it was found.
    fn read(&self, kind: SecretKind) -> BoxFut<'_, (Option<String>, TokenStore)>;
    /// Saves a secret where it is safest; says where it went.
    fn write<'a>(&'a self, kind: SecretKind, value: &'a str) -> BoxFut<'a, Result<TokenStore, String>>;
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
        if let Some(k) = Keyring::connect().await {
            if let Some(t) = k.read(kind).await {
                return (Some(t), TokenStore::Keyring);
            }
        }
        let file = self.dir.join(kind.file());
        match std::fs::read_to_string(file).ok().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
            Some(t) => (Some(t), TokenStore::File),
            None => (None, TokenStore::None),
        }
    }

    async fn write_secret(&self, kind: SecretKind, value: &str) -> Result<TokenStore, String> {
        let file = self.dir.join(kind.file());
        if let Some(k) = Keyring::connect().await {
            if k.write(kind, value).await {
                // Never keep a second copy around.
                let _ = std::fs::remove_file(&file);
                return Ok(TokenStore::Keyring);
            }
        }
        tracing::warn!("no unlocked keyring (Secret Service) is running: the secret goes to a private file");
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
}

fn write_private(path: &std::path::Path, token: &str) -> Result<(), String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(|e| format!("saving the secret in {}: {e}", path.display()))?;
    f.write_all(token.as_bytes()).map_err(|e| format!("saving the secret in {}: {e}", path.display()))
}
