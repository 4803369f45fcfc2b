//! The freedesktop Secret Service (gnome-keyring, KWallet, KeePassXC) over D-Bus: the keyring of
//! Linux desktops. [`crate::keyring`] decides when it is used.

use std::collections::HashMap;
use std::time::Duration;

use zbus::{OwnedObjectPath, Variant as Value};

use crate::secret_kind::SecretKind;

const SERVICE: &str = "org.freedesktop.secrets";
const PATH: &str = "/org/freedesktop/secrets";
const IFACE: &str = "org.freedesktop.Secret.Service";
const TIMEOUT: Duration = Duration::from_secs(3);

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
