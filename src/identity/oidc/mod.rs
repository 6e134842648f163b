//! OpenID Connect sign-in: a tenant's providers (Microsoft Entra ID, Google or any issuer), the
//! authorization code flow with PKCE, `state` and `nonce`, discovery and JWKS caches, and the
//! `id_token` checks. `store.rs` holds the SQL, `flow.rs` the sign-in routes, `admin.rs` the
//! staff pages. Tokens are checked with `jsonwebtoken` (already the Hub's JWT crate): the only
//! OIDC-specific parts here are the fetches and the claim rules the specification adds.

pub mod admin;
pub mod flow;
pub mod store;

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::auth::Role;

/// How long a started sign-in may take at the provider.
pub const FLOW_TTL_MS: i64 = 10 * 60 * 1000;
/// Clock skew tolerated on `exp`, `iat` and `nbf`.
pub const LEEWAY_SECS: u64 = 60;
/// How long discovery documents and key sets are trusted before a refetch.
const CACHE_TTL: Duration = Duration::from_secs(3600);
/// An unknown `kid` refetches the key set, but not more often than this per set.
const REFETCH_FLOOR: Duration = Duration::from_secs(5);
/// Longest accepted `id_token` (bytes).
const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Name of the cookie binding a started sign-in to the browser that started it.
pub const FLOW_COOKIE: &str = "portico_oidc";

/// A provider preset: fills the issuer and name on the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Microsoft Entra ID (one directory: its tenant id goes into the issuer).
    Entra,
    /// Google accounts.
    Google,
    /// Any other OpenID provider.
    Custom,
}

impl Preset {
    /// Parses the stored / query key.
    pub fn parse(s: &str) -> Preset {
        match s {
            "entra" => Preset::Entra,
            "google" => Preset::Google,
            _ => Preset::Custom,
        }
    }

    /// Stored key.
    pub fn key(self) -> &'static str {
        match self {
            Preset::Entra => "entra",
            Preset::Google => "google",
            Preset::Custom => "custom",
        }
    }

    /// The issuer the form starts with (Entra's `{tenant}` must be replaced by the directory id).
    pub fn issuer(self) -> &'static str {
        match self {
            Preset::Entra => "https://login.microsoftonline.com/{tenant}/v2.0",
            Preset::Google => "https://accounts.google.com",
            Preset::Custom => "",
        }
    }

    /// The button label the form starts with.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Entra => "Microsoft",
            Preset::Google => "Google",
            Preset::Custom => "",
        }
    }
}

/// An allowed email domain and the company its people belong to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainRule {
    /// Lower-case domain (`globex.example`).
    pub domain: String,
    /// Company of new and linked accounts (none for Mission tenants).
    pub company_id: Option<String>,
}

/// A configured provider.
#[derive(Clone, Debug)]
pub struct Provider {
    /// Id (in the callback path).
    pub id: String,
    /// Button label.
    pub name: String,
    /// Preset it was made from.
    pub preset: Preset,
    /// Issuer URL (discovery is `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    /// OAuth client id.
    pub client_id: String,
    /// Client secret sealed with the server key.
    pub client_secret_sealed: String,
    /// Allowed email domains.
    pub domains: Vec<DomainRule>,
    /// Whether unknown people get an account at first sign-in.
    pub create_users: bool,
    /// Role of accounts created at first sign-in.
    pub new_user_role: Role,
    /// Shown on the login page and usable.
    pub enabled: bool,
}

impl Provider {
    /// The rule for an email's domain, when it is allowed.
    pub fn rule_for(&self, email: &str) -> Option<&DomainRule> {
        let domain = email.rsplit_once('@')?.1;
        self.domains.iter().find(|r| r.domain == domain)
    }
}

/// Why an OIDC sign-in failed; each has its own page and audit reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Unknown or disabled provider (or another tenant's).
    NotFound,
    /// The provider could not be reached or its discovery document is wrong.
    Unavailable,
    /// `state` unknown, used, expired or started in another browser.
    State,
    /// The provider answered with an error (the person cancelled, …).
    Denied,
    /// The code exchange failed.
    Exchange,
    /// Bad signature, issuer, audience or token shape.
    Invalid,
    /// The `id_token` is past its expiry.
    Expired,
    /// The `id_token` was not minted for this sign-in.
    Nonce,
    /// The provider does not vouch for the email.
    Unverified,
    /// The email's domain is not allowed for this provider.
    Domain,
    /// No account and the provider does not create them.
    NoAccount,
    /// The account cannot use the portal (deactivated, staff, another company).
    AccountRefused,
}

impl Failure {
    /// Audit reason and catalog suffix.
    pub fn code(self) -> &'static str {
        match self {
            Failure::NotFound => "not_found",
            Failure::Unavailable => "unavailable",
            Failure::State => "state",
            Failure::Denied => "denied",
            Failure::Exchange => "exchange",
            Failure::Invalid => "invalid",
            Failure::Expired => "expired",
            Failure::Nonce => "nonce",
            Failure::Unverified => "unverified",
            Failure::Domain => "domain",
            Failure::NoAccount => "no_account",
            Failure::AccountRefused => "account_refused",
        }
    }

    /// Catalog key of the page heading (`…-title`) and text (`…-body`).
    pub fn key(self) -> String {
        format!("identity-oidc-{}", self.code().replace('_', "-"))
    }

    /// HTTP status of the page.
    pub fn status(self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            Failure::NotFound => S::NOT_FOUND,
            Failure::Unavailable | Failure::Exchange => S::BAD_GATEWAY,
            Failure::State | Failure::Denied => S::BAD_REQUEST,
            Failure::Invalid | Failure::Expired | Failure::Nonce => S::UNAUTHORIZED,
            Failure::Unverified
            | Failure::Domain
            | Failure::NoAccount
            | Failure::AccountRefused => S::FORBIDDEN,
        }
    }
}

/// Issuers are fetched over https; plain http only on loopback (tests, local providers).
pub fn issuer_ok(s: &str) -> bool {
    match url::Url::parse(s) {
        Ok(u) => {
            (u.scheme() == "https"
                || (u.scheme() == "http"
                    && matches!(u.host_str(), Some("localhost" | "127.0.0.1"))))
                && u.query().is_none()
                && u.fragment().is_none()
                && !s.contains(['{', '}'])
        }
        Err(_) => false,
    }
}

/// The PKCE `S256` challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The endpoints of a provider, from its discovery document.
#[derive(Clone, Debug, Deserialize)]
pub struct Metadata {
    /// Must equal the configured issuer.
    pub issuer: String,
    /// Where the browser goes.
    pub authorization_endpoint: String,
    /// Where the code is exchanged.
    pub token_endpoint: String,
    /// The signing keys.
    pub jwks_uri: String,
}

struct CachedKeys {
    fetched: Instant,
    set: JwkSet,
}

static DISCOVERY: LazyLock<Mutex<HashMap<String, (Instant, Metadata)>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
static KEYS: LazyLock<Mutex<HashMap<String, CachedKeys>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn http() -> Result<reqwest::Client, Failure> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        // Endpoints come from the issuer's own document; redirects would leave it.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|_| Failure::Unavailable)
}

/// The provider's endpoints (cached for an hour per issuer).
pub async fn discover(issuer: &str) -> Result<Metadata, Failure> {
    if let Ok(cache) = DISCOVERY.lock()
        && let Some((at, m)) = cache.get(issuer)
        && at.elapsed() < CACHE_TTL
    {
        return Ok(m.clone());
    }
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let r = http()?
        .get(&url)
        .send()
        .await
        .map_err(|_| Failure::Unavailable)?;
    if !r.status().is_success() {
        return Err(Failure::Unavailable);
    }
    let m: Metadata = r.json().await.map_err(|_| Failure::Unavailable)?;
    // The document must speak for the issuer that was configured (OIDC Discovery §4.3).
    if m.issuer != issuer
        || !issuer_ok(&m.authorization_endpoint.replace(['{', '}'], ""))
        || !issuer_ok(&m.token_endpoint)
        || !issuer_ok(&m.jwks_uri)
    {
        return Err(Failure::Unavailable);
    }
    if let Ok(mut cache) = DISCOVERY.lock() {
        cache.insert(issuer.to_string(), (Instant::now(), m.clone()));
    }
    Ok(m)
}

async fn fetch_keys(jwks_uri: &str) -> Result<JwkSet, Failure> {
    let r = http()?
        .get(jwks_uri)
        .send()
        .await
        .map_err(|_| Failure::Unavailable)?;
    if !r.status().is_success() {
        return Err(Failure::Unavailable);
    }
    r.json::<JwkSet>().await.map_err(|_| Failure::Unavailable)
}

/// The key a token names. An unknown `kid` refetches the set once: providers rotate keys and
/// publish the new one before they sign with it.
async fn key_for(jwks_uri: &str, kid: Option<&str>) -> Result<DecodingKey, Failure> {
    let pick = |set: &JwkSet| -> Option<DecodingKey> {
        let jwk = match kid {
            Some(k) => set.find(k)?,
            None if set.keys.len() == 1 => set.keys.first()?,
            None => return None,
        };
        DecodingKey::from_jwk(jwk).ok()
    };
    let cached = KEYS.lock().ok().and_then(|c| {
        c.get(jwks_uri).map(|k| {
            (
                pick(&k.set),
                k.fetched.elapsed() < CACHE_TTL,
                k.fetched.elapsed() < REFETCH_FLOOR,
            )
        })
    });
    match cached {
        Some((Some(key), true, _)) => return Ok(key),
        // Fetched a moment ago and still unknown: the token names a key that does not exist.
        Some((None, _, true)) => return Err(Failure::Invalid),
        _ => {}
    }
    let set = fetch_keys(jwks_uri).await?;
    let key = pick(&set);
    if let Ok(mut c) = KEYS.lock() {
        c.insert(
            jwks_uri.to_string(),
            CachedKeys {
                fetched: Instant::now(),
                set,
            },
        );
    }
    key.ok_or(Failure::Invalid)
}

/// The claims Portico reads from an `id_token`.
#[derive(Clone, Debug, Deserialize)]
pub struct IdClaims {
    /// The provider's id for the person.
    pub sub: String,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the provider verified the email (a boolean, or `"true"` from some providers).
    #[serde(default)]
    pub email_verified: Option<serde_json::Value>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Must equal the nonce of the sign-in.
    #[serde(default)]
    pub nonce: Option<String>,
    /// Authorized party, checked when present.
    #[serde(default)]
    pub azp: Option<String>,
    /// Issued at.
    pub iat: i64,
}

impl IdClaims {
    /// Whether the provider vouches for the email.
    pub fn email_is_verified(&self) -> bool {
        match &self.email_verified {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        }
    }
}

/// Asymmetric algorithms only: the key comes from the provider's published set, so `none`
/// and HMAC (which would make the public key a shared secret) are never accepted.
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Checks an `id_token`: signature by a key of the provider, issuer, audience, expiry and the
/// sign-in's nonce (OIDC Core §3.1.3.7).
pub async fn validate(
    token: &str,
    meta: &Metadata,
    client_id: &str,
    nonce: &str,
    now: i64,
) -> Result<IdClaims, Failure> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(Failure::Invalid);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| Failure::Invalid)?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(Failure::Invalid);
    }
    let key = key_for(&meta.jwks_uri, header.kid.as_deref()).await?;
    let mut v = Validation::new(header.alg);
    v.leeway = LEEWAY_SECS;
    v.validate_exp = true;
    v.validate_nbf = true;
    v.set_audience(&[client_id]);
    v.set_issuer(&[meta.issuer.as_str()]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let data = jsonwebtoken::decode::<IdClaims>(token, &key, &v).map_err(|e| match e.kind() {
        ErrorKind::ExpiredSignature => Failure::Expired,
        _ => Failure::Invalid,
    })?;
    let c = data.claims;
    if c.azp.as_deref().is_some_and(|a| a != client_id)
        || c.iat > now + LEEWAY_SECS as i64
        || c.sub.trim().is_empty()
        || c.sub.len() > 255
    {
        return Err(Failure::Invalid);
    }
    let same_nonce = c
        .nonce
        .as_deref()
        .is_some_and(|n| bool::from(n.as_bytes().ct_eq(nonce.as_bytes())));
    if !same_nonce {
        return Err(Failure::Nonce);
    }
    Ok(c)
}

/// The token endpoint's answer (only the `id_token` is used: Portico calls no API).
#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
}

/// Exchanges the code (with the PKCE verifier) for the `id_token`; the client authenticates
/// with HTTP Basic (`client_secret_basic`, every provider's default).
pub async fn exchange(
    meta: &Metadata,
    client_id: &str,
    client_secret: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<String, Failure> {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let r = http()?
        .post(&meta.token_endpoint)
        .basic_auth(enc(client_id), Some(enc(client_secret)))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .map_err(|_| Failure::Exchange)?;
    if !r.status().is_success() {
        return Err(Failure::Exchange);
    }
    let t: TokenResponse = r.json().await.map_err(|_| Failure::Exchange)?;
    t.id_token.ok_or(Failure::Exchange)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_are_https_or_loopback() {
        assert!(issuer_ok("https://accounts.google.com"));
        assert!(issuer_ok("http://127.0.0.1:4000"));
        assert!(!issuer_ok("http://idp.example"));
        assert!(!issuer_ok(Preset::Entra.issuer()));
        assert!(!issuer_ok("javascript:alert(1)"));
    }

    #[test]
    fn pkce_challenge_is_unpadded_base64url_of_sha256() {
        // Expected value from Python: urlsafe_b64encode(sha256(verifier)).rstrip("=").
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gXFg9qFdY"),
            "iJ4aCii4m3LbjzkyKFhEZuVlF3ot6Utycj8TT81K_1k"
        );
    }
}
