//! Sign-in, devices and the audit trail on SQLite (what `db::accounts` describes).

use chrono::{DateTime, Utc};
use lonceng_domain::time::to_ms;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::{decode_err, from_ms, writes};
use crate::db::{
    AuditEntry, AuditQuery, Authenticated, DbError, DbResult, Device, DeviceInfo, Forget, Identity, NewAudit,
    NewDevice, NewToken, NewTokens, Redeemed, Refreshed, SignIn, SignInRequest, SignedInUser, UserInfo,
    UserQuery,
};

fn opt_ms(v: Option<i64>) -> DbResult<Option<DateTime<Utc>>> {
    v.map(from_ms).transpose()
}

pub(super) fn device(
    c: &Connection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> DbResult<Option<Authenticated>> {
    let row: Option<(String, String, Option<i64>)> = c
        .prepare_cached(
            "SELECT t.user_id, t.device_id, t.expires_at FROM tokens t \
             JOIN devices d ON d.user_id = t.user_id AND d.id = t.device_id \
             JOIN users u ON u.id = t.user_id \
             WHERE t.hash = ?1 AND (t.expires_at IS NULL OR t.expires_at > ?2) \
             AND d.revoked_at IS NULL AND u.disabled_at IS NULL",
        )?
        .query_row(params![token_hash, to_ms(now)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((user_id, device_id, expires)) = row else { return Ok(None) };
    Ok(Some(Authenticated { device: Device { user_id, device_id }, expires_at: opt_ms(expires)? }))
}

pub(super) fn add_token(c: &mut Connection, t: &NewToken) -> DbResult<()> {
    let tx = c.transaction()?;
    writes::ensure_user(&tx, &t.user_id)?;
    tx.execute(
        "INSERT INTO devices (user_id, id, created_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (user_id, id) DO UPDATE SET revoked_at = NULL, revoked_why = NULL",
        params![t.user_id, t.device_id, to_ms(t.at)],
    )?;
    tx.execute(
        "INSERT OR REPLACE INTO tokens (hash, user_id, device_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![t.hash, t.user_id, t.device_id, to_ms(t.at)],
    )?;
    tx.commit()?;
    Ok(())
}

pub(super) fn start_sign_in(
    c: &Connection,
    state_hash: &str,
    request: &SignInRequest,
    at: DateTime<Utc>,
) -> DbResult<()> {
    let json = serde_json::to_string(request).map_err(decode_err)?;
    c.execute(
        "INSERT INTO sign_ins (state_hash, started_at, request) VALUES (?1, ?2, ?3)",
        params![state_hash, to_ms(at), json],
    )?;
    Ok(())
}

pub(super) fn take_sign_in(
    c: &mut Connection,
    state_hash: &str,
    since: DateTime<Utc>,
    at: DateTime<Utc>,
) -> DbResult<Option<SignInRequest>> {
    let tx = c.transaction()?;
    // Taken once: the row stays, for its code.
    let json: Option<String> = tx
        .query_row(
            "UPDATE sign_ins SET taken_at = ?3 WHERE state_hash = ?1 AND taken_at IS NULL AND started_at >= ?2 \
             RETURNING request",
            params![state_hash, to_ms(since), to_ms(at)],
            |r| r.get(0),
        )
        .optional()?;
    tx.commit()?;
    json.map(|j| serde_json::from_str(&j).map_err(decode_err)).transpose()
}

pub(super) fn code_sign_in(
    c: &Connection,
    state_hash: &str,
    code_hash: &str,
    user_id: &str,
    idp_refresh: Option<&str>,
    at: DateTime<Utc>,
) -> DbResult<()> {
    c.execute(
        "UPDATE sign_ins SET code_hash = ?2, user_id = ?3, coded_at = ?4, idp_refresh = ?5 WHERE state_hash = ?1",
        params![state_hash, code_hash, user_id, to_ms(at), idp_refresh],
    )?;
    Ok(())
}

pub(super) fn set_idp_refresh(c: &Connection, device: &Device, sealed: Option<&str>) -> DbResult<()> {
    c.execute(
        "UPDATE devices SET idp_refresh = ?3 WHERE user_id = ?1 AND id = ?2",
        params![device.user_id, device.device_id, sealed],
    )?;
    Ok(())
}

fn read_sign_in(c: &Connection, code_hash: &str) -> DbResult<Option<SignIn>> {
    type Row = (String, String, i64, Option<i64>, Option<String>, Option<String>);
    let row: Option<Row> = c
        .query_row(
            "SELECT request, user_id, coded_at, redeemed_at, device_id, idp_refresh FROM sign_ins \
             WHERE code_hash = ?1 AND user_id IS NOT NULL",
            [code_hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()?;
    let Some((request, user_id, coded_at, redeemed_at, device_id, idp_refresh)) = row else {
        return Ok(None);
    };
    Ok(Some(SignIn {
        request: serde_json::from_str(&request).map_err(decode_err)?,
        user_id,
        coded_at: from_ms(coded_at)?,
        redeemed_at: opt_ms(redeemed_at)?,
        device_id,
        idp_refresh,
    }))
}

pub(super) fn coded_sign_in(c: &Connection, code_hash: &str) -> DbResult<Option<SignIn>> {
    read_sign_in(c, code_hash)
}

fn keep_tokens(tx: &Transaction<'_>, device: &Device, t: &NewTokens) -> DbResult<()> {
    tx.execute(
        "INSERT INTO tokens (hash, user_id, device_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![t.access_hash, device.user_id, device.device_id, to_ms(t.at), to_ms(t.access_expires)],
    )?;
    tx.execute(
        "INSERT INTO refresh_tokens (hash, user_id, device_id, issued_at) VALUES (?1, ?2, ?3, ?4)",
        params![t.refresh_hash, device.user_id, device.device_id, to_ms(t.at)],
    )?;
    tx.execute(
        "UPDATE devices SET last_seen_at = ?3, last_address = coalesce(?4, last_address) WHERE user_id = ?1 AND id = ?2",
        params![device.user_id, device.device_id, to_ms(t.at), t.address],
    )?;
    Ok(())
}

fn revoke_tx(
    tx: &Transaction<'_>,
    user_id: &str,
    device_id: Option<&str>,
    why: &str,
    at: DateTime<Utc>,
) -> DbResult<Vec<String>> {
    let revoked: Vec<String> = tx
        .prepare(
            "UPDATE devices SET revoked_at = ?3, revoked_why = ?4 \
             WHERE user_id = ?1 AND (?2 IS NULL OR id = ?2) AND revoked_at IS NULL RETURNING id",
        )?
        .query_map(params![user_id, device_id, to_ms(at), why], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in &revoked {
        tx.execute("DELETE FROM tokens WHERE user_id = ?1 AND device_id = ?2", params![user_id, id])?;
        // Refresh tokens stay (spent) until forgotten, so that a copy's use is still recognised.
        tx.execute(
            "UPDATE refresh_tokens SET spent_at = coalesce(spent_at, ?3) WHERE user_id = ?1 AND device_id = ?2",
            params![user_id, id, to_ms(at)],
        )?;
    }
    Ok(revoked)
}

pub(super) fn redeem_code(
    c: &mut Connection,
    code_hash: &str,
    since: DateTime<Utc>,
    device: &NewDevice,
    tokens: &NewTokens,
) -> DbResult<Redeemed> {
    let tx = c.transaction()?;
    let Some(sign_in) = read_sign_in(&tx, code_hash)? else { return Ok(Redeemed::Refused { revoked: None }) };
    if sign_in.redeemed_at.is_some() || sign_in.coded_at < since {
        // RFC 6749 §4.1.2: a code used twice revokes what it gave.
        let revoked = sign_in.device_id.map(|d| Device { user_id: sign_in.user_id.clone(), device_id: d });
        if let Some(d) = &revoked {
            revoke_tx(&tx, &d.user_id, Some(&d.device_id), "sign-in code used twice", tokens.at)?;
        }
        tx.execute(
            "UPDATE sign_ins SET redeemed_at = ?2 WHERE code_hash = ?1",
            params![code_hash, to_ms(tokens.at)],
        )?;
        tx.commit()?;
        return Ok(Redeemed::Refused { revoked });
    }
    let disabled: Option<Option<i64>> = tx
        .query_row("SELECT disabled_at FROM users WHERE id = ?1", [&sign_in.user_id], |r| r.get(0))
        .optional()?;
    if !matches!(disabled, Some(None)) {
        return Ok(Redeemed::Refused { revoked: None });
    }
    let made = Device { user_id: sign_in.user_id.clone(), device_id: device.id.clone() };
    tx.execute(
        "INSERT INTO devices (user_id, id, name, os, app_version, signed_in, created_at, idp_refresh) \
         VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7)",
        params![
            made.user_id,
            made.device_id,
            device.meta.name,
            device.meta.os,
            device.meta.app_version,
            to_ms(tokens.at),
            sign_in.idp_refresh
        ],
    )?;
    keep_tokens(&tx, &made, tokens)?;
    tx.execute(
        "UPDATE sign_ins SET redeemed_at = ?2, device_id = ?3 WHERE code_hash = ?1",
        params![code_hash, to_ms(tokens.at), made.device_id],
    )?;
    tx.commit()?;
    Ok(Redeemed::Made(made))
}

pub(super) fn refresh(
    c: &mut Connection,
    refresh_hash: &str,
    since: DateTime<Utc>,
    retry_since: DateTime<Utc>,
    tokens: &NewTokens,
) -> DbResult<Refreshed> {
    let tx = c.transaction()?;
    let row: Option<(String, String, i64, Option<i64>)> = tx
        .query_row(
            "SELECT user_id, device_id, issued_at, spent_at FROM refresh_tokens WHERE hash = ?1",
            [refresh_hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((user_id, device_id, issued_at, spent_at)) = row else { return Ok(Refreshed::Refused) };
    let device = Device { user_id, device_id };
    // What this renewal spends: the token given, or, for a retry after a lost answer, the token
    // that answer carried (never used, issued when this one was spent).
    let mut spends = refresh_hash.to_owned();
    if let Some(spent) = spent_at {
        let successor: Option<String> = tx
            .query_row(
                "SELECT hash FROM refresh_tokens WHERE user_id = ?1 AND device_id = ?2 AND issued_at = ?3 \
                 AND spent_at IS NULL",
                params![device.user_id, device.device_id, spent],
                |r| r.get(0),
            )
            .optional()?;
        match successor {
            Some(next) if spent >= to_ms(retry_since) => spends = next,
            _ => {
                let revoked = revoke_tx(
                    &tx,
                    &device.user_id,
                    Some(&device.device_id),
                    "refresh token used twice",
                    tokens.at,
                )?;
                tx.commit()?;
                return Ok(if revoked.is_empty() { Refreshed::Refused } else { Refreshed::Reused(device) });
            }
        }
    }
    let usable: Option<Option<String>> = tx
        .query_row(
            "SELECT d.idp_refresh FROM devices d JOIN users u ON u.id = d.user_id \
             WHERE d.user_id = ?1 AND d.id = ?2 AND d.revoked_at IS NULL AND u.disabled_at IS NULL",
            params![device.user_id, device.device_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(idp_refresh) = usable.filter(|_| issued_at >= to_ms(since)) else {
        return Ok(Refreshed::Refused);
    };
    tx.execute("UPDATE refresh_tokens SET spent_at = ?2 WHERE hash = ?1", params![spends, to_ms(tokens.at)])?;
    // The access tokens it replaces go: a device holds one at a time.
    tx.execute(
        "DELETE FROM tokens WHERE user_id = ?1 AND device_id = ?2 AND expires_at IS NOT NULL",
        params![device.user_id, device.device_id],
    )?;
    keep_tokens(&tx, &device, tokens)?;
    tx.commit()?;
    Ok(Refreshed::Rotated { device, idp_refresh })
}

/// A user id for a new person: their email, or with a number when someone has that id already.
fn free_id(tx: &Transaction<'_>, email: &str) -> DbResult<String> {
    for n in 1..1000 {
        let id = if n == 1 { email.to_owned() } else { format!("{email}#{n}") };
        let taken: Option<i64> =
            tx.query_row("SELECT 1 FROM users WHERE id = ?1", [&id], |r| r.get(0)).optional()?;
        if taken.is_none() {
            return Ok(id);
        }
    }
    Err(DbError::Conflict(format!("no free user id for '{email}'")))
}

pub(super) fn sign_in_user(c: &mut Connection, who: &Identity) -> DbResult<SignedInUser> {
    let tx = c.transaction()?;
    let known: Option<String> = tx
        .query_row(
            "SELECT user_id FROM identities WHERE issuer = ?1 AND subject = ?2",
            params![who.issuer, who.subject],
            |r| r.get(0),
        )
        .optional()?;
    let (id, made) = match known {
        Some(id) => {
            tx.execute(
                "UPDATE identities SET email = ?3 WHERE issuer = ?1 AND subject = ?2",
                params![who.issuer, who.subject, who.email],
            )?;
            (id, false)
        }
        None => {
            let by_email: Option<String> = tx
                .query_row("SELECT id FROM users WHERE email = ?1", [&who.email], |r| r.get(0))
                .optional()?;
            let (id, made) = match by_email {
                Some(id) => {
                    let bound: Option<String> = tx
                        .query_row(
                            "SELECT subject FROM identities WHERE issuer = ?1 AND user_id = ?2",
                            params![who.issuer, id],
                            |r| r.get(0),
                        )
                        .optional()?;
                    if bound.is_some() {
                        return Err(DbError::Conflict(format!(
                            "the email '{}' belongs to another account at the identity provider",
                            who.email
                        )));
                    }
                    (id, false)
                }
                None => {
                    let id = free_id(&tx, &who.email)?;
                    let name = if who.name.trim().is_empty() { who.email.clone() } else { who.name.clone() };
                    tx.execute(
                        "INSERT INTO users (id, name, email) VALUES (?1, ?2, ?3)",
                        params![id, name, who.email],
                    )?;
                    (id, true)
                }
            };
            tx.execute(
                "INSERT INTO identities (issuer, subject, user_id, email) VALUES (?1, ?2, ?3, ?4)",
                params![who.issuer, who.subject, id, who.email],
            )?;
            (id, made)
        }
    };
    let disabled: Option<i64> =
        tx.query_row("SELECT disabled_at FROM users WHERE id = ?1", [&id], |r| r.get(0))?;
    tx.commit()?;
    Ok(if disabled.is_some() { SignedInUser::Disabled(id) } else { SignedInUser::User { id, made } })
}

pub(super) fn devices(c: &Connection, user_id: &str) -> DbResult<Option<Vec<DeviceInfo>>> {
    let exists: Option<i64> =
        c.query_row("SELECT 1 FROM users WHERE id = ?1", [user_id], |r| r.get(0)).optional()?;
    if exists.is_none() {
        return Ok(None);
    }
    type Row =
        (String, String, String, String, bool, i64, Option<i64>, Option<String>, Option<i64>, Option<String>);
    let rows: Vec<Row> = c
        .prepare_cached(
            "SELECT id, name, os, app_version, signed_in, created_at, last_seen_at, last_address, revoked_at, revoked_why \
             FROM devices WHERE user_id = ?1 ORDER BY created_at DESC, id",
        )?
        .query_map([user_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?))
        })?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(id, name, os, app_version, signed_in, created, seen, address, revoked, why)| {
            Ok(DeviceInfo {
                id,
                user_id: user_id.to_owned(),
                name,
                os,
                app_version,
                signed_in,
                created_at: from_ms(created)?,
                last_seen_at: opt_ms(seen)?,
                last_address: address,
                revoked_at: opt_ms(revoked)?,
                revoked_why: why,
            })
        })
        .collect::<DbResult<Vec<_>>>()
        .map(Some)
}

pub(super) fn revoke(
    c: &mut Connection,
    user_id: &str,
    device_id: Option<&str>,
    why: &str,
    at: DateTime<Utc>,
) -> DbResult<Vec<String>> {
    let tx = c.transaction()?;
    let revoked = revoke_tx(&tx, user_id, device_id, why, at)?;
    tx.commit()?;
    Ok(revoked)
}

pub(super) fn set_disabled(
    c: &mut Connection,
    user_id: &str,
    disabled: bool,
    at: DateTime<Utc>,
) -> DbResult<Option<Vec<String>>> {
    let tx = c.transaction()?;
    let n = tx.execute(
        "UPDATE users SET disabled_at = ?2 WHERE id = ?1",
        params![user_id, disabled.then(|| to_ms(at))],
    )?;
    if n == 0 {
        return Ok(None);
    }
    let revoked = if disabled { revoke_tx(&tx, user_id, None, "user disabled", at)? } else { Vec::new() };
    if disabled {
        // A disabled person's console sessions end with their devices.
        tx.execute(
            "DELETE FROM console_sessions WHERE person = (SELECT email FROM users WHERE id = ?1)",
            [user_id],
        )?;
    }
    tx.commit()?;
    Ok(Some(revoked))
}

pub(super) fn person(c: &mut Connection, email: &str, name: &str) -> DbResult<String> {
    let tx = c.transaction()?;
    let found: Option<String> =
        tx.query_row("SELECT id FROM users WHERE email = ?1", [email], |r| r.get(0)).optional()?;
    let id = match found {
        Some(id) => {
            tx.execute("UPDATE users SET name = ?2 WHERE id = ?1", params![id, name])?;
            id
        }
        None => {
            let id = free_id(&tx, email)?;
            tx.execute("INSERT INTO users (id, name, email) VALUES (?1, ?2, ?3)", params![id, name, email])?;
            id
        }
    };
    tx.commit()?;
    Ok(id)
}

pub(super) fn add_audit(c: &Connection, e: &NewAudit) -> DbResult<()> {
    c.execute(
        "INSERT INTO audit (at, actor, action, target, address, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![to_ms(e.at), e.actor, e.action, e.target, e.address, e.detail],
    )?;
    Ok(())
}

pub(super) fn audit(c: &Connection, q: &AuditQuery) -> DbResult<Vec<AuditEntry>> {
    let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
    type Row = (i64, i64, String, String, String, Option<String>, String);
    let rows: Vec<Row> = c
        .prepare_cached(
            "SELECT id, at, actor, action, target, address, detail FROM audit WHERE (?1 IS NULL OR id < ?1) \
             AND (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR action = ?3) ORDER BY id DESC LIMIT ?4",
        )?
        .query_map(params![q.before, q.actor, q.action, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(id, at, actor, action, target, address, detail)| {
            Ok(AuditEntry { id, at: from_ms(at)?, actor, action, target, address, detail })
        })
        .collect()
}

pub(super) fn users(c: &Connection, q: &UserQuery) -> DbResult<Vec<UserInfo>> {
    let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
    type Row = (String, String, Option<String>, Option<i64>, Option<String>, Option<String>, i64);
    // `instr`, not LIKE: the text is matched as it is (a `%` or `_` in it is no wildcard).
    let rows: Vec<Row> = c
        .prepare_cached(
            "SELECT u.id, u.name, u.email, u.disabled_at, q.agent_id, q.crm_sso_id, \
             (SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.revoked_at IS NULL) \
             FROM users u LEFT JOIN qontak_agents q ON q.user_id = u.id \
             WHERE (?1 IS NULL OR u.id > ?1) \
             AND (?2 IS NULL OR instr(lower(u.id || ' ' || u.name || ' ' || coalesce(u.email, '')), lower(?2)) > 0) \
             ORDER BY u.id LIMIT ?3",
        )?
        .query_map(params![q.after, q.text, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(id, name, email, disabled, agent_id, crm_sso_id, devices)| {
            Ok(UserInfo { id, name, email, disabled_at: opt_ms(disabled)?, agent_id, crm_sso_id, devices })
        })
        .collect()
}

pub(super) fn forget(c: &mut Connection, f: &Forget) -> DbResult<()> {
    let tx = c.transaction()?;
    tx.execute("DELETE FROM sign_ins WHERE started_at < ?1", [to_ms(f.sign_ins_before)])?;
    tx.execute(
        "DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at < ?1",
        [to_ms(f.access_before)],
    )?;
    tx.execute("DELETE FROM refresh_tokens WHERE issued_at < ?1", [to_ms(f.refresh_before)])?;
    tx.execute("DELETE FROM console_sessions WHERE expires_at < ?1", [to_ms(f.sessions_before)])?;
    tx.commit()?;
    Ok(())
}
