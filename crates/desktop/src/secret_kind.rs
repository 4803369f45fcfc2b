//! Which secret the app keeps: a leaf that the keyring and each platform's secret store name alike
//! (they would otherwise import each other).

/// Which secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// The Lonceng server's sign-in token.
    SignInToken,
    /// The company's Mekari HMAC secret, for the direct CRM mode.
    CrmClientSecret,
    /// The device credentials signing in gave (ORG-1), as JSON.
    DeviceCredentials,
}

impl SecretKind {
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            SecretKind::SignInToken => "sign-in-token",
            SecretKind::CrmClientSecret => "crm-client-secret",
            SecretKind::DeviceCredentials => "device-credentials",
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            SecretKind::SignInToken => "Lonceng sign-in token",
            SecretKind::CrmClientSecret => "Lonceng: Qontak CRM client secret",
            SecretKind::DeviceCredentials => "Lonceng sign-in",
        }
    }

    /// The private file used where no keyring runs.
    pub(crate) fn file(self) -> &'static str {
        match self {
            SecretKind::SignInToken => "token",
            SecretKind::CrmClientSecret => "crm-secret",
            SecretKind::DeviceCredentials => "credentials",
        }
    }
}
