//! Two-step sign-in with TOTP authenticator apps: enrolment, one-time recovery codes, code
//! checks with replay protection, and the tenant policy that makes it mandatory.
//!
//! The TOTP secret is stored sealed with a key derived from `PORTICO_SECRET_KEY` (HMAC-SHA256
//! in counter mode plus an HMAC tag), so a database dump alone does not reveal it. It is never
//! logged.

pub mod routes;

use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::auth::{Principal, Role, UserId, UserKind};
use crate::db::{Db, DbResult, Row, TenantTx, flag, now_ms};
use crate::tenancy::TenantScope;

/// Number of recovery codes handed out at a time.
pub const RECOVERY_CODES: usize = 10;
const STEP: u64 = 30;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

fn cipher(server_key: &[u8]) -> XChaCha20Poly1305 {
    // A key of its own, derived from the server secret, so other uses of it stay separate.
    XChaCha20Poly1305::new(&mac(server_key, &[b"portico-mfa-seal-v2"]).into())
}

/// Seals `plain` (XChaCha20-Poly1305) with a key derived from the server secret.
pub fn seal(server_key: &[u8], plain: &[u8]) -> String {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut rand::rngs::OsRng);
    // Encryption of an in-memory buffer only fails for absurd lengths.
    let ct = cipher(server_key)
        .encrypt(&nonce, plain)
        .unwrap_or_default();
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    format!(
        "v2.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
    )
}

/// Opens a value sealed by [`seal`]; `None` when it was tampered with or the key changed.
pub fn open(server_key: &[u8], sealed: &str) -> Option<Vec<u8>> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sealed.strip_prefix("v2.")?)
        .ok()?;
    if raw.len() < 24 + 16 {
        return None;
    }
    let (nonce, ct) = raw.split_at(24);
    cipher(server_key)
        .decrypt(XNonce::from_slice(nonce), ct)
        .ok()
}

/// The TOTP generator for a raw secret (SHA-1, 6 digits, 30 s, one step of clock skew: what
/// every authenticator app supports).
pub fn totp(secret: Vec<u8>, issuer: &str, account: &str) -> Option<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        secret,
        Some(issuer.replace(':', " ")),
        account.replace(':', " "),
    )
    .ok()
}

/// A fresh random secret (160 bits).
pub fn new_secret() -> Vec<u8> {
    Secret::generate_secret().to_bytes().unwrap_or_else(|_| {
        let mut s = vec![0u8; 20];
        rand::thread_rng().fill_bytes(&mut s);
        s
    })
}

/// The time step a code matches (now, one before, one after), if any.
pub fn matching_step(t: &TOTP, code: &str, now_secs: u64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    [now_secs.saturating_sub(STEP), now_secs, now_secs + STEP]
        .into_iter()
        .find(|ts| bool::from(t.generate(*ts).as_bytes().ct_eq(code.as_bytes())))
        .map(|ts| (ts / STEP) as i64)
}

/// What the database holds about a user's two-step sign-in.
#[derive(Clone, Debug, Default)]
pub struct MfaState {
    /// Sealed active secret.
    pub secret: Option<String>,
    /// Sealed secret of an unfinished enrolment.
    pub pending: Option<String>,
    /// When it was turned on.
    pub enabled_at: Option<i64>,
    /// Unused recovery codes left.
    pub recovery_left: i64,
}

impl MfaState {
    /// Whether sign-in asks for a code.
    pub fn enabled(&self) -> bool {
        self.enabled_at.is_some() && self.secret.is_some()
    }
}

/// Loads the MFA state of a user.
pub async fn state(db: &Db, scope: &TenantScope, user: &UserId) -> DbResult<MfaState> {
    let row = sqlx::query(
        "SELECT mfa_secret, mfa_pending_secret, mfa_enabled_at, \
         (SELECT COUNT(*) FROM mfa_recovery_codes r WHERE r.tenant_id = u.tenant_id \
          AND r.user_id = u.id AND r.used_at IS NULL) AS recovery_left \
         FROM users u WHERE u.tenant_id = $1 AND u.id = $2",
    )
    .bind(scope.tenant_id().as_str())
    .bind(user.as_str())
    .fetch_optional(db.tenant(scope).reader())
    .await?;
    let Some(r) = row else {
        return Ok(MfaState::default());
    };
    Ok(MfaState {
        secret: r.try_get("mfa_secret")?,
        pending: r.try_get("mfa_pending_secret")?,
        enabled_at: r.try_get("mfa_enabled_at")?,
        recovery_left: r.try_get("recovery_left")?,
    })
}

/// Stores the sealed secret of an enrolment in progress.
pub async fn set_pending(
    db: &Db,
    scope: &TenantScope,
    user: &UserId,
    sealed: &str,
) -> DbResult<()> {
    sqlx::query("UPDATE users SET mfa_pending_secret = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(scope.tenant_id().as_str())
        .bind(user.as_str())
        .bind(sealed)
        .execute(db.tenant(scope).writer())
        .await?;
    Ok(())
}

/// Turns two-step sign-in on with the pending secret; `step` is the code's time step, so
/// the same code cannot be replayed at sign-in.
pub async fn enable(tx: &mut TenantTx, user: &UserId, step: i64) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE users SET mfa_secret = mfa_pending_secret, mfa_pending_secret = NULL, \
         mfa_enabled_at = $3, mfa_last_step = $4, updated_at = $3 \
         WHERE tenant_id = $1 AND id = $2 AND mfa_pending_secret IS NOT NULL",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(now_ms())
    .bind(step)
    .execute(tx.conn())
    .await?;
    crate::auth::cache::changed(tx, crate::auth::cache::Change::user(user)).await
}

/// Turns two-step sign-in off for `user`, inside the action's transaction.
pub async fn disable(tx: &mut TenantTx, user: &UserId) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE users SET mfa_secret = NULL, mfa_pending_secret = NULL, mfa_enabled_at = NULL, \
         mfa_last_step = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&tenant)
    .bind(user.as_str())
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    sqlx::query("DELETE FROM mfa_recovery_codes WHERE tenant_id = $1 AND user_id = $2")
        .bind(&tenant)
        .bind(user.as_str())
        .execute(tx.conn())
        .await?;
    crate::auth::cache::changed(tx, crate::auth::cache::Change::user(user)).await
}

fn normalize_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn recovery_hash(code: &str) -> String {
    hex::encode(Sha256::digest(normalize_recovery(code).as_bytes()))
}

/// Replaces the user's recovery codes with ten new ones and returns them (shown once).
/// Runs inside the action's transaction.
pub async fn new_recovery_codes(tx: &mut TenantTx, user: &UserId) -> DbResult<Vec<String>> {
    // 32 symbols (no 0/o, 1/l): a byte maps onto them without bias.
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    // The thread-local generator is not Send: use it up before the first await.
    let codes: Vec<String> = {
        let mut rng = rand::thread_rng();
        (0..RECOVERY_CODES)
            .map(|_| {
                let mut raw = [0u8; 10];
                rng.fill_bytes(&mut raw);
                let s: String = raw
                    .iter()
                    .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
                    .collect();
                format!("{}-{}", &s[..5], &s[5..])
            })
            .collect()
    };
    let now = now_ms();
    let tenant = tx.tenant_id().to_string();
    sqlx::query("DELETE FROM mfa_recovery_codes WHERE tenant_id = $1 AND user_id = $2")
        .bind(&tenant)
        .bind(user.as_str())
        .execute(tx.conn())
        .await?;
    for c in &codes {
        sqlx::query(
            "INSERT INTO mfa_recovery_codes (code_hash, tenant_id, user_id, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(recovery_hash(c))
        .bind(&tenant)
        .bind(user.as_str())
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    Ok(codes)
}

/// How a sign-in code was accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// A code from the authenticator app.
    Totp,
    /// A one-time recovery code (now used up).
    Recovery,
}

/// Checks a sign-in code (TOTP or recovery) for a user with MFA on; each code works once.
pub async fn check_code(
    db: &Db,
    server_key: &[u8],
    scope: &TenantScope,
    user: &UserId,
    code: &str,
) -> DbResult<Option<Accepted>> {
    let st = state(db, scope, user).await?;
    let Some(sealed) = st.secret.filter(|_| st.enabled_at.is_some()) else {
        return Ok(None);
    };
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) {
        let Some(t) = open(server_key, &sealed).and_then(|s| totp(s, "Portico", "user")) else {
            tracing::error!(
                "stored TOTP secret cannot be opened (was PORTICO_SECRET_KEY changed?)"
            );
            return Ok(None);
        };
        let now = u64::try_from(now_ms() / 1000).unwrap_or(0);
        let Some(step) = matching_step(&t, &compact, now) else {
            return Ok(None);
        };
        // Claim the step: a code already used (here or concurrently) is refused.
        let r = sqlx::query(
            "UPDATE users SET mfa_last_step = $3 WHERE tenant_id = $1 AND id = $2 \
             AND (mfa_last_step IS NULL OR mfa_last_step < $3)",
        )
        .bind(scope.tenant_id().as_str())
        .bind(user.as_str())
        .bind(step)
        .execute(db.tenant(scope).writer())
        .await?;
        return Ok((r.rows_affected() == 1).then_some(Accepted::Totp));
    }
    if normalize_recovery(code).len() != 10 {
        return Ok(None);
    }
    let r = sqlx::query(
        "UPDATE mfa_recovery_codes SET used_at = $4 WHERE code_hash = $1 AND tenant_id = $2 \
         AND user_id = $3 AND used_at IS NULL",
    )
    .bind(recovery_hash(code))
    .bind(scope.tenant_id().as_str())
    .bind(user.as_str())
    .bind(now_ms())
    .execute(db.tenant(scope).writer())
    .await?;
    Ok((r.rows_affected() == 1).then_some(Accepted::Recovery))
}

/// The tenant's policy: who must use two-step sign-in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Policy {
    /// Every staff user.
    pub staff: bool,
    /// Every client company admin.
    pub client_admins: bool,
}

impl Policy {
    /// Whether the policy covers a role.
    pub fn covers(self, role: Role) -> bool {
        (self.staff && role.kind() == UserKind::Staff)
            || (self.client_admins && role == Role::ClientAdmin)
    }
}

/// Loads the tenant's policy.
pub async fn policy(db: &Db, scope: &TenantScope) -> DbResult<Policy> {
    let r = sqlx::query(
        "SELECT require_mfa_staff, require_mfa_client_admins FROM tenants WHERE id = $1",
    )
    .bind(scope.tenant_id().as_str())
    .fetch_one(db.tenant(scope).reader())
    .await?;
    Ok(Policy {
        staff: flag(&r, "require_mfa_staff")?,
        client_admins: flag(&r, "require_mfa_client_admins")?,
    })
}

/// Stores the tenant's policy.
pub async fn set_policy(tx: &mut TenantTx, p: Policy) -> DbResult<()> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query(
        "UPDATE tenants SET require_mfa_staff = $2, require_mfa_client_admins = $3 WHERE id = $1",
    )
    .bind(&tenant)
    .bind(i64::from(p.staff))
    .bind(i64::from(p.client_admins))
    .execute(tx.conn())
    .await?;
    crate::auth::cache::changed(tx, crate::auth::cache::Change::Tenant).await
}

/// The enrolment page of the principal's area.
pub fn enrol_path(p: &Principal) -> &'static str {
    match p.audience {
        crate::auth::Audience::Admin => "/admin/profile/mfa",
        crate::auth::Audience::Portal => "/portal/profile/mfa",
    }
}

/// Paths a principal who still has to enrol may use.
pub fn allowed_before_enrolment(path: &str) -> bool {
    path == "/logout"
        || path == "/admin/logout"
        || path == "/api/v1/auth/logout"
        || path.starts_with("/portal/profile/mfa")
        || path.starts_with("/admin/profile/mfa")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_round_trips_and_detects_tampering() {
        let key = b"k".repeat(40);
        let s = seal(&key, b"secret bytes here");
        assert_eq!(open(&key, &s).as_deref(), Some(&b"secret bytes here"[..]));
        assert!(open(&b"x".repeat(40), &s).is_none());
        let mut t = s.clone().into_bytes();
        let i = t.len() - 40;
        t[i] = if t[i] == b'A' { b'B' } else { b'A' };
        assert!(open(&key, &String::from_utf8(t).unwrap()).is_none());
    }
}
