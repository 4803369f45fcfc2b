//! What the identity provider says of a person: at sign-in (the code exchanged, the ID token
//! checked by the library, the organisation's rules applied) and again at each renewal.

use super::seal::{seal, unseal};
use super::*;

impl<D: Database> Service<D> {
    /// Exchanges the provider's code and checks the person: the ID token by the library, then the
    /// organisation's rules (a verified email in an allowed domain, the required group).
    pub(super) async fn person(
        &self,
        code: &str,
        request: &SignInRequest,
        now: DateTime<Utc>,
    ) -> ServiceResult<Result<(Identity, Option<String>), Refusal>> {
        let oidc = self.oidc()?;
        let mut provider = self.provider(false).await?;
        let exchange = match provider.client.exchange_code(AuthorizationCode::new(code.to_owned())) {
            Ok(e) => e,
            Err(e) => return Ok(Err(Refusal(format!("the identity provider has no token endpoint: {e}")))),
        };
        let answer = exchange
            .set_pkce_verifier(PkceCodeVerifier::new(request.idp_verifier.clone()))
            .request_async(&self.signin.http)
            .await;
        let tokens = match answer {
            Ok(t) => t,
            Err(e) => {
                return Ok(Err(Refusal(format!("the identity provider did not accept the sign-in: {e}"))))
            }
        };
        let Some(id_token) = tokens.id_token() else {
            return Ok(Err(Refusal("the identity provider sent no ID token".into())));
        };
        let nonce = Nonce::new(request.nonce.clone());
        let skew = oidc.clock_skew;
        let check =
            |p: &Provider| -> Result<IdTokenClaims<OtherClaims, CoreGenderClaim>, ClaimsVerificationError> {
                let verifier =
                    p.client.id_token_verifier().set_time_fn(move || now - skew).set_issue_time_verifier_fn(
                        move |iat| {
                            if iat > now + skew {
                                Err(format!("issued in the future ({iat})"))
                            } else {
                                Ok(())
                            }
                        },
                    );
                id_token.claims(&verifier, &nonce).cloned()
            };
        let claims = match check(&provider) {
            // The provider may have rotated its keys since they were read: read them again, once.
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                provider = self.provider(true).await?;
                check(&provider)
            }
            other => other,
        };
        let claims = match claims {
            Ok(c) => c,
            Err(e) => return Ok(Err(Refusal(format!("the identity provider's ID token was refused: {e}")))),
        };
        // Kept (sealed) to ask the provider again, at each renewal, whether the person may still
        // sign in.
        let refresh = tokens.refresh_token().and_then(|r| seal(oidc, r.secret()));
        Ok(admit(oidc, &claims, is_console(request)).map(|identity| (identity, refresh)))
    }

    /// ORG-2: asks the identity provider again (with its refresh token) whether the person may
    /// still sign in: gone from it, or out of the required group, is the end of the device. When the
    /// provider cannot be asked now, the device goes on: an outage must not sign everyone out.
    pub(super) async fn still_admitted(&self, sealed: &str) -> ServiceResult<Recheck> {
        let oidc = self.oidc()?;
        let Some(refresh) = unseal(oidc, sealed) else {
            tracing::warn!(
                "an identity provider refresh token cannot be opened (the client secret changed?)"
            );
            return Ok(Recheck::Unknown);
        };
        let provider = self.provider(false).await?;
        let refresh = RefreshToken::new(refresh);
        let Ok(request) = provider.client.exchange_refresh_token(&refresh) else {
            return Ok(Recheck::Unknown);
        };
        let tokens = match request.request_async(&self.signin.http).await {
            Ok(t) => t,
            Err(RequestTokenError::ServerResponse(e))
                if *e.error() == CoreErrorResponseType::InvalidGrant =>
            {
                return Ok(Recheck::Gone("the identity provider no longer signs this person in".into()))
            }
            Err(e) => {
                tracing::warn!(error = %e, "the identity provider could not be asked about a device");
                return Ok(Recheck::Unknown);
            }
        };
        let kept = tokens.refresh_token().and_then(|r| seal(oidc, r.secret()));
        let Some(id_token) = tokens.id_token() else { return Ok(Recheck::Still(kept)) };
        let now = self.clock.now();
        let skew = oidc.clock_skew;
        let verifier = provider.client.id_token_verifier().set_time_fn(move || now - skew);
        // A renewed ID token carries no nonce (OpenID Connect Core §12.2).
        match id_token.claims(&verifier, |_: Option<&Nonce>| Ok(())) {
            Ok(claims) => Ok(match admit(oidc, claims, false) {
                Ok(_) => Recheck::Still(kept),
                Err(Refusal(why)) => Recheck::Gone(why),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "a renewed ID token was refused");
                Ok(Recheck::Unknown)
            }
        }
    }
}

/// The organisation's rules, on claims the library has verified: for the app, the group that may
/// use Lonceng; for the admin console, the admin group (ORG-4).
fn admit(
    oidc: &OidcConfig,
    claims: &IdTokenClaims<OtherClaims, CoreGenderClaim>,
    console: bool,
) -> Result<Identity, Refusal> {
    let email = match (claims.email(), claims.email_verified()) {
        (Some(e), Some(true)) => e.as_str().trim().to_lowercase(),
        (Some(_), _) => return Err(Refusal("your email is not verified at the identity provider".into())),
        (None, _) => return Err(Refusal("the identity provider did not give your email".into())),
    };
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if !oidc.allowed_domains.is_empty() && !oidc.allowed_domains.iter().any(|d| d == domain) {
        return Err(Refusal(format!("{email} is not in a domain this organisation admits")));
    }
    let group =
        if console {
            // No admin group configured: nobody signs in to the console through the provider.
            Some(oidc.admin_group.as_ref().ok_or_else(|| {
                Refusal("this server has no admin group set up (--oidc-admin-group)".into())
            })?)
        } else {
            oidc.required_group.as_ref()
        };
    if let Some(group) = group {
        let groups = claims.additional_claims().0.get(&oidc.groups_claim);
        let member = match groups {
            Some(serde_json::Value::Array(gs)) => gs.iter().any(|g| g.as_str() == Some(group)),
            Some(serde_json::Value::String(g)) => g == group,
            _ => false,
        };
        if !member {
            let what = if console { "may use the admin console" } else { "may use Lonceng" };
            return Err(Refusal(format!("{email} is not in the group '{group}' that {what}")));
        }
    }
    let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()).unwrap_or_default();
    Ok(Identity {
        issuer: claims.issuer().as_str().to_owned(),
        subject: claims.subject().as_str().to_owned(),
        email,
        name: name.chars().filter(|c| !c.is_control()).take(200).collect(),
    })
}

/// At most 200 characters of what the identity provider said, for a message.
pub(super) fn clip(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}
