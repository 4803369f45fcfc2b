//! The token endpoint's two grants: a one-time code redeemed for a device's first credentials, and
//! a refresh token rotated for new ones (RFC 6749 §4.1.3, §6).

use super::*;

impl<D: Database> Service<D> {
    /// Redeems the one-time code for device credentials (`grant_type=authorization_code`).
    pub async fn redeem_sign_in(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
        address: Option<String>,
    ) -> Result<Credentials, GrantError> {
        let oidc = self.oidc()?.clone();
        if !is_pkce_text(verifier) {
            return Err(GrantError::InvalidRequest(
                "code_verifier must be 43 to 128 unreserved characters".into(),
            ));
        }
        let code_hash = token_hash(code);
        let Some(sign_in) = self.db.coded_sign_in(code_hash.clone()).await.map_err(ServiceError::from)?
        else {
            return Err(GrantError::InvalidGrant("the sign-in code is not valid".into()));
        };
        if redirect_uri != sign_in.request.redirect_uri {
            return Err(GrantError::InvalidGrant(
                "redirect_uri is not the one the sign-in started with".into(),
            ));
        }
        let computed =
            PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.to_owned()));
        if !same_secret(computed.as_str(), &sign_in.request.code_challenge) {
            return Err(GrantError::InvalidGrant("the PKCE verifier does not match the challenge".into()));
        }
        let now = self.clock.now();
        let (fresh, access, refresh) = self.new_tokens(&oidc, address.clone());
        let device =
            NewDevice { id: format!("d-{}", &new_secret()[..16]), meta: sign_in.request.device.clone() };
        match self
            .db
            .redeem_code(code_hash, now - CODE_LIFETIME, device, fresh)
            .await
            .map_err(ServiceError::from)?
        {
            Redeemed::Made(d) => Ok(Credentials {
                access_token: access,
                token_type: "Bearer".into(),
                expires_in: oidc.access_lifetime.num_seconds(),
                refresh_token: refresh,
                user_id: d.user_id,
                device_id: d.device_id,
            }),
            Redeemed::Refused { revoked } => {
                if let Some(d) = revoked {
                    self.devices_revoked(&d.user_id, std::slice::from_ref(&d.device_id)).await;
                    let actor = Actor::user(&d.user_id, address);
                    self.record(&actor, "device_revoked", &d.device_id, "its sign-in code was used twice")
                        .await;
                }
                Err(GrantError::InvalidGrant("the sign-in code was used already or has expired".into()))
            }
        }
    }

    /// Rotates a device's credentials (`grant_type=refresh_token`).
    pub async fn refresh_credentials(
        &self,
        refresh: &str,
        address: Option<String>,
    ) -> Result<Credentials, GrantError> {
        let oidc = self.oidc()?.clone();
        let now = self.clock.now();
        let (fresh, access, new_refresh) = self.new_tokens(&oidc, address.clone());
        match self
            .db
            .refresh(token_hash(refresh), now - REFRESH_IDLE, now - RETRY_GRACE, fresh)
            .await
            .map_err(ServiceError::from)?
        {
            Refreshed::Rotated { device: d, idp_refresh } => {
                if let Some(sealed) = idp_refresh {
                    match self.still_admitted(&sealed).await? {
                        Recheck::Still(None) | Recheck::Unknown => {}
                        Recheck::Still(kept) => {
                            self.db.set_idp_refresh(d.clone(), kept).await.map_err(ServiceError::from)?;
                        }
                        Recheck::Gone(why) => {
                            let revoked = self
                                .db
                                .revoke(d.user_id.clone(), Some(d.device_id.clone()), why.clone(), now)
                                .await
                                .map_err(ServiceError::from)?;
                            self.devices_revoked(&d.user_id, &revoked).await;
                            let actor = Actor::user(&d.user_id, address);
                            self.record(&actor, "device_revoked", &d.device_id, &why).await;
                            return Err(GrantError::InvalidGrant(format!(
                                "this device was signed out: {why}"
                            )));
                        }
                    }
                }
                Ok(Credentials {
                    access_token: access,
                    token_type: "Bearer".into(),
                    expires_in: oidc.access_lifetime.num_seconds(),
                    refresh_token: new_refresh,
                    user_id: d.user_id,
                    device_id: d.device_id,
                })
            }
            Refreshed::Reused(d) => {
                self.devices_revoked(&d.user_id, std::slice::from_ref(&d.device_id)).await;
                let actor = Actor::user(&d.user_id, address);
                self.record(
                    &actor,
                    "device_revoked",
                    &d.device_id,
                    "its refresh token was used twice (copied)",
                )
                .await;
                Err(GrantError::InvalidGrant(
                    "this device was signed out: its sign-in was used elsewhere".into(),
                ))
            }
            Refreshed::Refused => Err(GrantError::InvalidGrant("this device is signed out".into())),
        }
    }

    /// New credentials: what the database keeps (hashes), the access token and the refresh token.
    fn new_tokens(&self, oidc: &OidcConfig, address: Option<String>) -> (NewTokens, String, String) {
        let now = self.clock.now();
        let (access, refresh) = (new_secret(), new_secret());
        let kept = NewTokens {
            access_hash: token_hash(&access),
            access_expires: now + oidc.access_lifetime,
            refresh_hash: token_hash(&refresh),
            at: now,
            address,
        };
        (kept, access, refresh)
    }
}
