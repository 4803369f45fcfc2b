//! Sign-in, devices and the audit trail on PostgreSQL (what `db::accounts` describes). Rows two
//! nodes may race for (a one-time code, a refresh token) are locked `FOR UPDATE` before they are
//! judged, so a code or a refresh token is redeemed once across the cluster.

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Transaction};

use super::{col, decode_err, ms, writes};
use crate::db::{
    AuditEntry, AuditQuery, Authenticated, DbError, DbResult, Device, DeviceInfo, Forget, Identity, NewAudit,
    NewDevice, NewToken, NewTokens, Redeemed, Refreshed, SignIn, SignInRequest, SignedInUser, UserInfo,
    UserQuery,
};

type Conn = deadpool_postgres::Object;

pub(super) async fn device(
    c: &Conn,
    token_hash: &str,
    now: DateTime<Utc>,
) -> DbResult<Option<Authenticated>> {
    let stmt = c
        .prepare_cached(
            "SELECT t.user_id, t.device_id, t.expires_at FROM tokens t \
             JOIN devices d ON d.user_id = t.user_id AND d.id = t.device_id \
             JOIN users u ON u.id = t.user_id \
             WHERE t.hash = $1 AND (t.expires_at IS NULL OR t.expires_at > $2) \
             AND d.revoked_at IS NULL AND u.disabled_at IS NULL",
        )
        .await?;
    Ok(match c.query_opt(&stmt, &[&token_hash, &now]).await? {
        Some(r) => Some(Authenticated {
            device: Device { user_id: col!(r, 0), device_id: col!(r, 1) },
            expires_at: col!(r, 2),
        }),
        None => None,
    })
}

pub(super) async fn add_token(c: &mut Conn, t: &NewToken) -> DbResult<()> {
    let tx = c.transaction().await?;
    writes::ensure_user(&tx, &t.user_id).await?;
    tx.execute(
        "INSERT INTO devices (user_id, id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, id) DO UPDATE SET revoked_at = NULL, revoked_why = NULL",
        &[&t.user_id, &t.device_id, &ms(t.at)],
    )
    .await?;
    tx.execute(
        "INSERT INTO tokens (hash, user_id, device_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (hash) DO UPDATE SET user_id = excluded.user_id, device_id = excluded.device_id, \
         created_at = excluded.created_at, expires_at = NULL",
        &[&t.hash, &t.user_id, &t.device_id, &ms(t.at)],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn start_sign_in(
    c: &Conn,
    state_hash: &str,
    request: &SignInRequest,
    at: DateTime<Utc>,
) -> DbResult<()> {
    let json = serde_json::to_string(request).map_err(decode_err)?;
    c.execute(
        "INSERT INTO sign_ins (state_hash, started_at, request) VALUES ($1, $2, $3)",
        &[&state_hash, &ms(at), &json],
    )
    .await?;
    Ok(())
}

pub(super) async fn take_sign_in(
    c: &Conn,
    state_hash: &str,
    since: DateTime<Utc>,
    at: DateTime<Utc>,
) -> DbResult<Option<SignInRequest>> {
    let row = c
        .query_opt(
            "UPDATE sign_ins SET taken_at = $3 WHERE state_hash = $1 AND taken_at IS NULL AND started_at >= $2 \
             RETURNING request",
            &[&state_hash, &ms(since), &ms(at)],
        )
        .await?;
    match row {
        Some(r) => {
            let json: String = col!(r, 0);
            Ok(Some(serde_json::from_str(&json).map_err(decode_err)?))
        }
        None => Ok(None),
    }
}

pub(super) async fn code_sign_in(
    c: &Conn,
    state_hash: &str,
    code_hash: &str,
    user_id: &str,
    idp_refresh: Option<&str>,
    at: DateTime<Utc>,
) -> DbResult<()> {
    c.execute(
        "UPDATE sign_ins SET code_hash = $2, user_id = $3, coded_at = $4, idp_refresh = $5 WHERE state_hash = $1",
        &[&state_hash, &code_hash, &user_id, &ms(at), &idp_refresh],
    )
    .await?;
    Ok(())
}

pub(super) async fn set_idp_refresh(c: &Conn, device: &Device, sealed: Option<&str>) -> DbResult<()> {
    c.execute(
        "UPDATE devices SET idp_refresh = $3 WHERE user_id = $1 AND id = $2",
        &[&device.user_id, &device.device_id, &sealed],
    )
    .await?;
    Ok(())
}

async fn read_sign_in(c: &impl GenericClient, code_hash: &str, lock: bool) -> DbResult<Option<SignIn>> {
    let sql = format!(
        "SELECT request, user_id, coded_at, redeemed_at, device_id, idp_refresh FROM sign_ins \
         WHERE code_hash = $1 AND user_id IS NOT NULL{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let Some(r) = c.query_opt(&sql, &[&code_hash]).await? else { return Ok(None) };
    let request: String = col!(r, 0);
    Ok(Some(SignIn {
        request: serde_json::from_str(&request).map_err(decode_err)?,
        user_id: col!(r, 1),
        coded_at: col!(r, 2),
        redeemed_at: col!(r, 3),
        device_id: col!(r, 4),
        idp_refresh: col!(r, 5),
    }))
}

pub(super) async fn coded_sign_in(c: &Conn, code_hash: &str) -> DbResult<Option<SignIn>> {
    read_sign_in(c, code_hash, false).await
}

async fn keep_tokens(tx: &Transaction<'_>, device: &Device, t: &NewTokens) -> DbResult<()> {
    tx.execute(
        "INSERT INTO tokens (hash, user_id, device_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        &[&t.access_hash, &device.user_id, &device.device_id, &ms(t.at), &ms(t.access_expires)],
    )
    .await?;
    tx.execute(
        "INSERT INTO refresh_tokens (hash, user_id, device_id, issued_at) VALUES ($1, $2, $3, $4)",
        &[&t.refresh_hash, &device.user_id, &device.device_id, &ms(t.at)],
    )
    .await?;
    tx.execute(
        "UPDATE devices SET last_seen_at = $3, last_address = coalesce($4, last_address) WHERE user_id = $1 AND id = $2",
        &[&device.user_id, &device.device_id, &ms(t.at), &t.address],
    )
    .await?;
    Ok(())
}

async fn revoke_tx(
    tx: &Transaction<'_>,
    user_id: &str,
    device_id: Option<&str>,
    why: &str,
    at: DateTime<Utc>,
) -> DbResult<Vec<String>> {
    let rows = tx
        .query(
            "UPDATE devices SET revoked_at = $3, revoked_why = $4 \
             WHERE user_id = $1 AND ($2::text IS NULL OR id = $2) AND revoked_at IS NULL RETURNING id",
            &[&user_id, &device_id, &ms(at), &why],
        )
        .await?;
    let mut revoked = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: String = col!(r, 0);
        tx.execute("DELETE FROM tokens WHERE user_id = $1 AND device_id = $2", &[&user_id, &id]).await?;
        // Refresh tokens stay (spent) until forgotten, so that a copy's use is still recognised.
        tx.execute(
            "UPDATE refresh_tokens SET spent_at = coalesce(spent_at, $3) WHERE user_id = $1 AND device_id = $2",
            &[&user_id, &id, &ms(at)],
        )
        .await?;
        revoked.push(id);
    }
    Ok(revoked)
}

pub(super) async fn redeem_code(
    c: &mut Conn,
    code_hash: &str,
    since: DateTime<Utc>,
    device: &NewDevice,
    tokens: &NewTokens,
) -> DbResult<Redeemed> {
    let tx = c.transaction().await?;
    let Some(sign_in) = read_sign_in(&tx, code_hash, true).await? else {
        return Ok(Redeemed::Refused { revoked: None });
    };
    if sign_in.redeemed_at.is_some() || sign_in.coded_at < since {
        // RFC 6749 §4.1.2: a code used twice revokes what it gave.
        let revoked = sign_in.device_id.map(|d| Device { user_id: sign_in.user_id.clone(), device_id: d });
        if let Some(d) = &revoked {
            revoke_tx(&tx, &d.user_id, Some(&d.device_id), "sign-in code used twice", tokens.at).await?;
        }
        tx.execute(
            "UPDATE sign_ins SET redeemed_at = $2 WHERE code_hash = $1",
            &[&code_hash, &ms(tokens.at)],
        )
        .await?;
        tx.commit().await?;
        return Ok(Redeemed::Refused { revoked });
    }
    let usable = tx
        .query_opt("SELECT 1 FROM users WHERE id = $1 AND disabled_at IS NULL", &[&sign_in.user_id])
        .await?;
    if usable.is_none() {
        return Ok(Redeemed::Refused { revoked: None });
    }
    let made = Device { user_id: sign_in.user_id.clone(), device_id: device.id.clone() };
    tx.execute(
        "INSERT INTO devices (user_id, id, name, os, app_version, signed_in, created_at, idp_refresh) \
         VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7)",
        &[
            &made.user_id,
            &made.device_id,
            &device.meta.name,
            &device.meta.os,
            &device.meta.app_version,
            &ms(tokens.at),
            &sign_in.idp_refresh,
        ],
    )
    .await?;
    keep_tokens(&tx, &made, tokens).await?;
    tx.execute(
        "UPDATE sign_ins SET redeemed_at = $2, device_id = $3 WHERE code_hash = $1",
        &[&code_hash, &ms(tokens.at), &made.device_id],
    )
    .await?;
    tx.commit().await?;
    Ok(Redeemed::Made(made))
}

pub(super) async fn refresh(
    c: &mut Conn,
    refresh_hash: &str,
    since: DateTime<Utc>,
    retry_since: DateTime<Utc>,
    tokens: &NewTokens,
) -> DbResult<Refreshed> {
    let tx = c.transaction().await?;
    let Some(r) = tx
        .query_opt(
            "SELECT user_id, device_id, issued_at, spent_at FROM refresh_tokens WHERE hash = $1 FOR UPDATE",
            &[&refresh_hash],
        )
        .await?
    else {
        return Ok(Refreshed::Refused);
    };
    let device = Device { user_id: col!(r, 0), device_id: col!(r, 1) };
    let issued_at: DateTime<Utc> = col!(r, 2);
    let spent_at: Option<DateTime<Utc>> = col!(r, 3);
    // What this renewal spends: the token given, or, for a retry after a lost answer, the token
    // that answer carried (never used, issued when this one was spent).
    let mut spends = refresh_hash.to_owned();
    if let Some(spent) = spent_at {
        let successor = tx
            .query_opt(
                "SELECT hash FROM refresh_tokens WHERE user_id = $1 AND device_id = $2 AND issued_at = $3 \
                 AND spent_at IS NULL FOR UPDATE",
                &[&device.user_id, &device.device_id, &spent],
            )
            .await?;
        match successor {
            Some(next) if spent >= ms(retry_since) => spends = col!(next, 0),
            _ => {
                let revoked = revoke_tx(
                    &tx,
                    &device.user_id,
                    Some(&device.device_id),
                    "refresh token used twice",
                    tokens.at,
                )
                .await?;
                tx.commit().await?;
                return Ok(if revoked.is_empty() { Refreshed::Refused } else { Refreshed::Reused(device) });
            }
        }
    }
    let usable = tx
        .query_opt(
            "SELECT d.idp_refresh FROM devices d JOIN users u ON u.id = d.user_id \
             WHERE d.user_id = $1 AND d.id = $2 AND d.revoked_at IS NULL AND u.disabled_at IS NULL",
            &[&device.user_id, &device.device_id],
        )
        .await?;
    let Some(row) = usable.filter(|_| issued_at >= since) else { return Ok(Refreshed::Refused) };
    let idp_refresh: Option<String> = col!(row, 0);
    tx.execute("UPDATE refresh_tokens SET spent_at = $2 WHERE hash = $1", &[&spends, &ms(tokens.at)]).await?;
    // The access tokens it replaces go: a device holds one at a time.
    tx.execute(
        "DELETE FROM tokens WHERE user_id = $1 AND device_id = $2 AND expires_at IS NOT NULL",
        &[&device.user_id, &device.device_id],
    )
    .await?;
    keep_tokens(&tx, &device, tokens).await?;
    tx.commit().await?;
    Ok(Refreshed::Rotated { device, idp_refresh })
}

/// A user id for a new person: their email, or with a number when someone has that id already.
async fn free_id(tx: &Transaction<'_>, email: &str) -> DbResult<String> {
    for n in 1..1000 {
        let id = if n == 1 { email.to_owned() } else { format!("{email}#{n}") };
        if tx.query_opt("SELECT 1 FROM users WHERE id = $1", &[&id]).await?.is_none() {
            return Ok(id);
        }
    }
    Err(DbError::Conflict(format!("no free user id for '{email}'")))
}

pub(super) async fn sign_in_user(c: &mut Conn, who: &Identity) -> DbResult<SignedInUser> {
    let tx = c.transaction().await?;
    let known = tx
        .query_opt(
            "UPDATE identities SET email = $3 WHERE issuer = $1 AND subject = $2 RETURNING user_id",
            &[&who.issuer, &who.subject, &who.email],
        )
        .await?;
    let (id, made) = match known {
        Some(r) => (col!(r, 0), false),
        None => {
            let by_email =
                tx.query_opt("SELECT id FROM users WHERE email = $1 FOR UPDATE", &[&who.email]).await?;
            let (id, made): (String, bool) = match by_email {
                Some(r) => {
                    let id: String = col!(r, 0);
                    let bound = tx
                        .query_opt(
                            "SELECT 1 FROM identities WHERE issuer = $1 AND user_id = $2",
                            &[&who.issuer, &id],
                        )
                        .await?;
                    if bound.is_some() {
                        return Err(DbError::Conflict(format!(
                            "the email '{}' belongs to another account at the identity provider",
                            who.email
                        )));
                    }
                    (id, false)
                }
                None => {
                    let id = free_id(&tx, &who.email).await?;
                    let name = if who.name.trim().is_empty() { who.email.clone() } else { who.name.clone() };
                    tx.execute(
                        "INSERT INTO users (id, name, email) VALUES ($1, $2, $3)",
                        &[&id, &name, &who.email],
                    )
                    .await?;
                    (id, true)
                }
            };
            tx.execute(
                "INSERT INTO identities (issuer, subject, user_id, email) VALUES ($1, $2, $3, $4)",
                &[&who.issuer, &who.subject, &id, &who.email],
            )
            .await?;
            (id, made)
        }
    };
    let r = tx.query_one("SELECT disabled_at FROM users WHERE id = $1", &[&id]).await?;
    let disabled: Option<DateTime<Utc>> = col!(r, 0);
    tx.commit().await?;
    Ok(if disabled.is_some() { SignedInUser::Disabled(id) } else { SignedInUser::User { id, made } })
}

pub(super) async fn devices(c: &Conn, user_id: &str) -> DbResult<Option<Vec<DeviceInfo>>> {
    if c.query_opt("SELECT 1 FROM users WHERE id = $1", &[&user_id]).await?.is_none() {
        return Ok(None);
    }
    let rows = c
        .query(
            "SELECT id, name, os, app_version, signed_in, created_at, last_seen_at, last_address, revoked_at, revoked_why \
             FROM devices WHERE user_id = $1 ORDER BY created_at DESC, id",
            &[&user_id],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(DeviceInfo {
            id: col!(r, 0),
            user_id: user_id.to_owned(),
            name: col!(r, 1),
            os: col!(r, 2),
            app_version: col!(r, 3),
            signed_in: col!(r, 4),
            created_at: col!(r, 5),
            last_seen_at: col!(r, 6),
            last_address: col!(r, 7),
            revoked_at: col!(r, 8),
            revoked_why: col!(r, 9),
        });
    }
    Ok(Some(out))
}

pub(super) async fn revoke(
    c: &mut Conn,
    user_id: &str,
    device_id: Option<&str>,
    why: &str,
    at: DateTime<Utc>,
) -> DbResult<Vec<String>> {
    let tx = c.transaction().await?;
    let revoked = revoke_tx(&tx, user_id, device_id, why, at).await?;
    tx.commit().await?;
    Ok(revoked)
}

pub(super) async fn set_disabled(
    c: &mut Conn,
    user_id: &str,
    disabled: bool,
    at: DateTime<Utc>,
) -> DbResult<Option<Vec<String>>> {
    let tx = c.transaction().await?;
    let when = disabled.then(|| ms(at));
    if tx.execute("UPDATE users SET disabled_at = $2 WHERE id = $1", &[&user_id, &when]).await? == 0 {
        return Ok(None);
    }
    let revoked =
        if disabled { revoke_tx(&tx, user_id, None, "user disabled", at).await? } else { Vec::new() };
    if disabled {
        // A disabled person's console sessions end with their devices.
        tx.execute(
            "DELETE FROM console_sessions WHERE person = (SELECT email FROM users WHERE id = $1)",
            &[&user_id],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(revoked))
}

pub(super) async fn person(c: &mut Conn, email: &str, name: &str) -> DbResult<String> {
    let tx = c.transaction().await?;
    let found =
        tx.query_opt("UPDATE users SET name = $2 WHERE email = $1 RETURNING id", &[&email, &name]).await?;
    let id = match found {
        Some(r) => col!(r, 0),
        None => {
            let id = free_id(&tx, email).await?;
            tx.execute("INSERT INTO users (id, name, email) VALUES ($1, $2, $3)", &[&id, &name, &email])
                .await?;
            id
        }
    };
    tx.commit().await?;
    Ok(id)
}

pub(super) async fn add_audit(c: &Conn, e: &NewAudit) -> DbResult<()> {
    c.execute(
        "INSERT INTO audit (at, actor, action, target, address, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&ms(e.at), &e.actor, &e.action, &e.target, &e.address, &e.detail],
    )
    .await?;
    Ok(())
}

pub(super) async fn audit(c: &Conn, q: &AuditQuery) -> DbResult<Vec<AuditEntry>> {
    let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
    let rows = c
        .query(
            "SELECT id, at, actor, action, target, address, detail FROM audit WHERE id < $1 \
             AND ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR action = $3) ORDER BY id DESC LIMIT $4",
            &[&q.before.unwrap_or(i64::MAX), &q.actor, &q.action, &limit],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(AuditEntry {
            id: col!(r, 0),
            at: col!(r, 1),
            actor: col!(r, 2),
            action: col!(r, 3),
            target: col!(r, 4),
            address: col!(r, 5),
            detail: col!(r, 6),
        });
    }
    Ok(out)
}

pub(super) async fn users(c: &Conn, q: &UserQuery) -> DbResult<Vec<UserInfo>> {
    let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
    // `strpos`, not LIKE: the text is matched as it is (a `%` or `_` in it is no wildcard).
    let rows = c
        .query(
            "SELECT u.id, u.name, u.email, u.disabled_at, q.agent_id, q.crm_sso_id, \
             (SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.revoked_at IS NULL) \
             FROM users u LEFT JOIN qontak_agents q ON q.user_id = u.id \
             WHERE ($1::text IS NULL OR u.id > $1) \
             AND ($2::text IS NULL OR strpos(lower(u.id || ' ' || u.name || ' ' || coalesce(u.email, '')), lower($2)) > 0) \
             ORDER BY u.id LIMIT $3",
            &[&q.after, &q.text, &limit],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(UserInfo {
            id: col!(r, 0),
            name: col!(r, 1),
            email: col!(r, 2),
            disabled_at: col!(r, 3),
            agent_id: col!(r, 4),
            crm_sso_id: col!(r, 5),
            devices: col!(r, 6),
        });
    }
    Ok(out)
}

pub(super) async fn forget(c: &mut Conn, f: &Forget) -> DbResult<()> {
    let tx = c.transaction().await?;
    tx.execute("DELETE FROM sign_ins WHERE started_at < $1", &[&f.sign_ins_before]).await?;
    tx.execute("DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at < $1", &[&f.access_before])
        .await?;
    tx.execute("DELETE FROM refresh_tokens WHERE issued_at < $1", &[&f.refresh_before]).await?;
    tx.execute("DELETE FROM console_sessions WHERE expires_at < $1", &[&f.sessions_before]).await?;
    tx.commit().await?;
    Ok(())
}
