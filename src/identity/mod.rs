//! Identity beyond passwords: Hub single sign-on by signed token, OpenID Connect sign-in
//! (`oidc/`), passwordless sign-in codes and links, and the Hub bar (`bar.rs`: single sign-on out). `mod.rs` holds the pure rules (token checks, claim mapping);
//! `store.rs` the SQL, `hub.rs` and `passwordless.rs` the one-transaction actions, `routes.rs`
//! and `admin.rs` the pages.

pub mod admin;
pub mod bar;
pub mod demo;
pub mod hub;
pub mod oidc;
pub mod passwordless;
pub mod routes;
pub mod store;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::tenancy::OrgType;

/// Shortest accepted Hub secret, deployment-wide or per tenant.
pub const MIN_SECRET_LEN: usize = 32;
/// Longest accepted token (bytes); longer ones are refused before any parsing.
pub const MAX_TOKEN_LEN: usize = 4096;
/// How far ahead `exp` may lie: a Hub token is for an immediate redirect, not a credential.
pub const MAX_LIFETIME_SECS: i64 = 300;
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: u64 = 30;

/// The claims of a Hub sign-in token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HubClaims {
    /// The Hub's user id.
    pub sub: String,
    /// Email of the person (the account is found or created by it).
    pub email: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Tenant slug; must be the tenant the request reached.
    pub tenant: String,
    /// Company: Portico id or the company's exact name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Portal role key (`client_admin`, `client_user`, `client_viewer`, `member`, `leader`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// `msp` or `mission`; must match the tenant when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_type: Option<String>,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before (Unix seconds).
    pub nbf: i64,
    /// Unique token id; remembered until expiry so the token works once.
    pub jti: String,
    /// Audience, checked when the tenant configures one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Issuer, checked when the tenant configures one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Set only on tokens Portico mints for an app of the Hub bar: such a token is signed with
    /// the same secret, so `/auth/hub` must never take one back as a sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portico_app: Option<String>,
}

/// Why a Hub token was refused; each has its own page and audit reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Hub sign-in has no secret here.
    NotConfigured,
    /// Bad shape, signature, algorithm, claims, audience or issuer.
    Invalid,
    /// Past its expiry.
    Expired,
    /// Already used once.
    Replayed,
    /// Signed for another tenant.
    WrongTenant,
    /// The account cannot use the portal (deactivated, staff, another company, no company).
    AccountRefused,
}

impl Refusal {
    /// Audit reason and catalog suffix.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NotConfigured => "not_configured",
            Refusal::Invalid => "invalid",
            Refusal::Expired => "expired",
            Refusal::Replayed => "replayed",
            Refusal::WrongTenant => "wrong_tenant",
            Refusal::AccountRefused => "account_refused",
        }
    }

    /// The catalog key of the page heading (`identity-hub-<code>-title`); `-body` for the text.
    pub fn key(self) -> String {
        format!("identity-hub-{}", self.code().replace('_', "-"))
    }
}

/// Audience and issuer a tenant expects, when it configured them.
#[derive(Clone, Debug, Default)]
pub struct Expect<'a> {
    /// Required `aud`.
    pub audience: Option<&'a str>,
    /// Required `iss`.
    pub issuer: Option<&'a str>,
}

/// Checks a token's size, algorithm (HS256 only), signature, `exp` (at most five minutes
/// ahead), `nbf`, `iat`, audience and issuer. The tenant and single use are the caller's.
pub fn verify(
    token: &str,
    secret: &[u8],
    expect: &Expect<'_>,
    now: i64,
) -> Result<HubClaims, Refusal> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN || secret.len() < MIN_SECRET_LEN {
        return Err(Refusal::Invalid);
    }
    // One algorithm, fixed here and never read from the token: `none`, RS/ES keys and
    // HS384/512 are all refused by the same list.
    let mut v = Validation::new(Algorithm::HS256);
    v.leeway = LEEWAY_SECS;
    v.validate_exp = true;
    v.validate_nbf = true;
    let mut required = vec!["exp", "nbf", "sub"];
    match expect.audience {
        Some(a) => {
            v.set_audience(&[a]);
            required.push("aud");
        }
        None => v.validate_aud = false,
    }
    if let Some(i) = expect.issuer {
        v.set_issuer(&[i]);
        required.push("iss");
    }
    v.set_required_spec_claims(&required);
    let key = DecodingKey::from_secret(secret).map_err(|_| Refusal::Invalid)?;
    let data = jsonwebtoken::decode::<HubClaims>(token, &key, &v).map_err(|e| match e.kind() {
        ErrorKind::ExpiredSignature => Refusal::Expired,
        _ => Refusal::Invalid,
    })?;
    let c = data.claims;
    let leeway = LEEWAY_SECS as i64;
    if c.exp > now + MAX_LIFETIME_SECS + leeway
        || c.iat > now + leeway
        || c.exp <= c.iat
        || c.jti.trim().is_empty()
        || c.jti.len() > 128
        || c.sub.trim().is_empty()
        || c.portico_app.is_some()
    {
        return Err(Refusal::Invalid);
    }
    Ok(c)
}

/// Signs claims with HS256 (the CLI and tests mint tokens this way).
pub fn mint(claims: &HubClaims, secret: &[u8]) -> anyhow::Result<String> {
    let key = EncodingKey::from_secret(secret)?;
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &key,
    )?)
}

/// Claims for a fresh token valid for `lifetime_secs` from `now`.
pub fn new_claims(tenant: &str, email: &str, now: i64, lifetime_secs: i64) -> HubClaims {
    HubClaims {
        sub: format!("hub-{}", email.trim().to_ascii_lowercase()),
        email: email.trim().to_ascii_lowercase(),
        name: String::new(),
        tenant: tenant.to_string(),
        company: None,
        role: None,
        org_type: None,
        exp: now + lifetime_secs.min(MAX_LIFETIME_SECS),
        iat: now,
        nbf: now,
        jti: uuid::Uuid::new_v4().simple().to_string(),
        aud: None,
        iss: None,
        portico_app: None,
    }
}

/// The portal role a token asks for: its key, else the org type's plain user role. Staff
/// roles never come from a token (Hub sign-in is for the portal).
pub fn portal_role(claim: Option<&str>, org: OrgType) -> Option<Role> {
    let role = match claim.map(str::trim).filter(|r| !r.is_empty()) {
        None => match org {
            OrgType::Msp => Role::ClientUser,
            OrgType::Mission => Role::Member,
        },
        Some(key) => match (key, org) {
            ("admin", OrgType::Msp) => Role::ClientAdmin,
            ("user", OrgType::Msp) => Role::ClientUser,
            ("viewer", OrgType::Msp) => Role::ClientViewer,
            _ => Role::from_key(key)?,
        },
    };
    (role.fits(org) && role.kind().audience() == crate::auth::Audience::Portal).then_some(role)
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    crate::db::now_ms() / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_fresh_token_verifies_and_a_long_lived_one_does_not() {
        let now = now_secs();
        let c = new_claims("acme", "a@b.example", now, 120);
        let t = mint(&c, SECRET).expect("mint");
        let got = verify(&t, SECRET, &Expect::default(), now).expect("valid");
        assert_eq!(got.email, "a@b.example");
        let mut long = new_claims("acme", "a@b.example", now, 120);
        long.exp = now + 3600;
        let t = mint(&long, SECRET).expect("mint");
        assert_eq!(
            verify(&t, SECRET, &Expect::default(), now).err(),
            Some(Refusal::Invalid)
        );
    }

    #[test]
    fn roles_map_to_portal_roles_only() {
        assert_eq!(portal_role(None, OrgType::Msp), Some(Role::ClientUser));
        assert_eq!(
            portal_role(Some("admin"), OrgType::Msp),
            Some(Role::ClientAdmin)
        );
        assert_eq!(
            portal_role(Some("leader"), OrgType::Mission),
            Some(Role::Leader)
        );
        assert_eq!(portal_role(Some("staff_admin"), OrgType::Msp), None);
        assert_eq!(portal_role(Some("member"), OrgType::Msp), None);
    }
}
