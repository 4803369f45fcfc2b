//! The identity provider's refresh tokens at rest: sealed (ChaCha20-Poly1305, `ring`) with a key
//! derived from the client secret, which every node has and the database does not.

use super::OidcConfig;

/// The key that seals the identity provider's refresh tokens at rest: derived from the client
/// secret, which every node has and the database does not.
fn sealing_key(oidc: &OidcConfig) -> Option<ring::aead::LessSafeKey> {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("lonceng: identity provider refresh tokens\0{}", oidc.client_secret).as_bytes(),
    );
    let key = ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, digest.as_ref()).ok()?;
    Some(ring::aead::LessSafeKey::new(key))
}

/// A secret sealed (ChaCha20-Poly1305, a random nonce first), base64.
pub(super) fn seal(oidc: &OidcConfig, secret: &str) -> Option<String> {
    use ring::rand::SecureRandom;
    let key = sealing_key(oidc)?;
    let mut nonce = [0u8; ring::aead::NONCE_LEN];
    ring::rand::SystemRandom::new().fill(&mut nonce).ok()?;
    let mut sealed = secret.as_bytes().to_vec();
    key.seal_in_place_append_tag(
        ring::aead::Nonce::assume_unique_for_key(nonce),
        ring::aead::Aad::empty(),
        &mut sealed,
    )
    .ok()?;
    let mut out = nonce.to_vec();
    out.extend(sealed);
    Some(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, out))
}

/// A sealed secret opened; none when it was sealed with another key or tampered with.
pub(super) fn unseal(oidc: &OidcConfig, sealed: &str) -> Option<String> {
    let key = sealing_key(oidc)?;
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sealed).ok()?;
    if bytes.len() < ring::aead::NONCE_LEN {
        return None;
    }
    let (nonce, body) = bytes.split_at(ring::aead::NONCE_LEN);
    let nonce = ring::aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut body = body.to_vec();
    let plain = key.open_in_place(nonce, ring::aead::Aad::empty(), &mut body).ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_sealed_refresh_token_opens_only_with_the_same_client_secret() {
        let mut oidc = OidcConfig {
            issuer: "https://idp.example".into(),
            client_id: "lonceng".into(),
            client_secret: "one".into(),
            public_url: "https://nc.example".into(),
            allowed_domains: Vec::new(),
            required_group: None,
            admin_group: None,
            groups_claim: "groups".into(),
            extra_scopes: Vec::new(),
            clock_skew: Duration::seconds(60),
            access_lifetime: Duration::hours(1),
        };
        let sealed = seal(&oidc, "idp-refresh-token").unwrap();
        assert!(!sealed.contains("idp-refresh"));
        assert_ne!(seal(&oidc, "idp-refresh-token").unwrap(), sealed, "a fresh nonce each time");
        assert_eq!(unseal(&oidc, &sealed).as_deref(), Some("idp-refresh-token"));
        let mut tampered =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &sealed).unwrap();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            unseal(&oidc, &base64::Engine::encode(&base64::engine::general_purpose::STANDARD, tampered)),
            None
        );
        assert_eq!(unseal(&oidc, "not base64 at all"), None);
        oidc.client_secret = "two".into();
        assert_eq!(unseal(&oidc, &sealed), None);
    }
}
