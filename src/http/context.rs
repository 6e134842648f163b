//! The per-request context: tenant resolution, the session, and the CSRF check.
//!
//! Every application route runs behind `resolve`, so no handler can skip tenant resolution,
//! session validation or CSRF. Signed-in requests cost one indexed query (session, user,
//! company and tenant joined); anonymous ones one tenant lookup; custom domains come from an
//! in-memory map.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use ipnet::IpNet;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::auth::{Audience, Principal, sessions};
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::{Tenant, normalize_host, store, valid_slug};

/// Cookie remembering the tenant chosen with `?tenant=`.
pub const TENANT_COOKIE: &str = "portal_tenant";
/// Cookie carrying the pre-session CSRF secret for sign-in forms.
pub const PRE_COOKIE: &str = "portico_pre";
/// Form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";
/// Header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What the middleware learned about the request; handlers read it through [`Ctx`].
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The resolved tenant (the session's tenant when signed in).
    pub tenant: Option<Tenant>,
    /// The signed-in principal for this path's audience.
    pub principal: Option<Arc<Principal>>,
    /// Token to embed in forms and send as `X-CSRF-Token`.
    pub csrf_token: String,
    /// Client address (for throttling and audit).
    pub ip: String,
    /// The Host is one of the configured Mission domains.
    pub mission_host: bool,
    /// A `?tenant=` slug was given that matches no tenant.
    pub unknown_tenant: bool,
    /// Request path.
    pub path: String,
    /// Interface language negotiated for this request.
    pub locale: crate::i18n::Locale,
    /// Time zone times are shown in: the profile's, else the browser's, else the tenant's.
    pub tz: chrono_tz::Tz,
    /// The Hub bar's apps on portal pages (empty when the tenant has it off).
    pub hub_bar: Vec<crate::identity::store::HubApp>,
}

impl RequestContext {
    /// Whether the page should use the Mission style.
    pub fn is_mission(&self) -> bool {
        match &self.tenant {
            Some(t) => t.org_type == crate::tenancy::OrgType::Mission,
            None => self.mission_host,
        }
    }
}

/// Extractor for the request context.
#[derive(Clone, Debug)]
pub struct Ctx(pub RequestContext);

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .map(Ctx)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("request context missing")))
    }
}

impl std::ops::Deref for Ctx {
    type Target = RequestContext;
    fn deref(&self) -> &RequestContext {
        &self.0
    }
}

/// Reads one cookie.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Builds a `Set-Cookie` value with the project's flags.
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

fn hmac_token(secret: &[u8], purpose: &str, value: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(purpose.as_bytes());
    mac.update(b":");
    mac.update(value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The CSRF token of a session (derived, so nothing extra is stored).
pub fn session_csrf(secret: &[u8], session_hash: &str) -> String {
    hmac_token(secret, "csrf", session_hash)
}

/// The client's address: the peer, unless the peer is a trusted proxy, in which case the
/// forwarding headers are walked from the nearest hop outwards and the first address that is
/// not itself a trusted proxy wins. An untrusted peer's headers are ignored, so nobody can
/// pick their own throttling bucket; behind a trusted proxy every real client gets its own.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = forwarded_hops(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) => {
                client = ip.to_canonical();
                if !is_trusted(&client) {
                    return client;
                }
            }
            // An obfuscated or garbled hop: nothing beyond it can be believed.
            None => return client,
        }
    }
    client
}

/// The `for=` addresses of `Forwarded`, or else the entries of `X-Forwarded-For`, in order
/// (client first); `None` marks an entry that is not an IP address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let joined = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",")
    };
    let forwarded = joined("forwarded");
    if !forwarded.trim().is_empty() {
        return forwarded
            .split(',')
            .filter(|e| !e.trim().is_empty())
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| parse_hop(v))
            })
            .collect();
    }
    joined("x-forwarded-for")
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(parse_hop)
        .collect()
}

// "192.0.2.1", "192.0.2.1:4711", "[2001:db8::1]:4711", "\"[2001:db8::1]\"", "2001:db8::1".
fn parse_hop(v: &str) -> Option<IpAddr> {
    let v = v.trim().trim_matches('"');
    if let Some(rest) = v.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    if let Ok(ip) = v.parse() {
        return Some(ip);
    }
    v.parse::<SocketAddr>().ok().map(|s| s.ip())
}

/// Most bytes read looking for a multipart form's first field (the CSRF token).
const FIRST_FIELD_LIMIT: usize = 8 * 1024;

/// The value of a multipart body's first part when that part is the text field `name`, and the
/// body to pass on unchanged. Reads at most [`FIRST_FIELD_LIMIT`] bytes; anything else (another
/// first part, a file, a malformed head) gives `None` and the CSRF check refuses the request.
async fn first_multipart_field(
    body: Body,
    content_type: &str,
    name: &str,
) -> (Option<String>, Body) {
    use futures::StreamExt;
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"').to_string());
    let mut stream = body.into_data_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut failed = None;
    let value = match boundary {
        None => None,
        Some(boundary) => {
            let delimiter = format!("\r\n--{boundary}");
            loop {
                if let Some(v) = parse_first_field(&buf, &boundary, &delimiter, name) {
                    break v;
                }
                if buf.len() > FIRST_FIELD_LIMIT {
                    break None;
                }
                match stream.next().await {
                    Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
                    Some(Err(e)) => {
                        failed = Some(e);
                        break None;
                    }
                    None => break None,
                }
            }
        }
    };
    let head = futures::stream::iter(
        std::iter::once(Ok::<_, axum::Error>(bytes::Bytes::from(buf))).chain(failed.map(Err)),
    );
    (value, Body::from_stream(head.chain(stream)))
}

/// `Some(Some(value))` when `buf` holds the whole first part and it is the field `name`,
/// `Some(None)` when it holds enough to tell it is not, `None` when more bytes are needed.
fn parse_first_field(
    buf: &[u8],
    boundary: &str,
    delimiter: &str,
    name: &str,
) -> Option<Option<String>> {
    let opening = format!("--{boundary}\r\n");
    if buf.len() < opening.len() {
        return None;
    }
    if !buf.starts_with(opening.as_bytes()) {
        return Some(None);
    }
    let rest = &buf[opening.len()..];
    let head_end = find(rest, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&rest[..head_end]).to_ascii_lowercase();
    let wanted = format!("name=\"{name}\"");
    if !head.contains(&wanted) || head.contains("filename=") {
        return Some(None);
    }
    let value = &rest[head_end + 4..];
    let end = find(value, delimiter.as_bytes())?;
    Some(String::from_utf8(value[..end].to_vec()).ok())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    let q = query?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn path_is_hub(path: &str) -> bool {
    path == "/auth/hub"
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The middleware itself.
pub async fn resolve(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    match resolve_inner(&app, peer, req, next).await {
        Ok(r) => r,
        Err((e, ctx)) => crate::http::errors::render(ctx.as_ref(), e.into_response()),
    }
}

async fn resolve_inner(
    app: &AppState,
    peer: SocketAddr,
    req: Request,
    next: Next,
) -> Result<Response, (AppError, Option<RequestContext>)> {
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let audience = Audience::for_path(&path);
    let db = &app.db;
    let fail = |e: AppError| (e, None);

    // Session first: when signed in, its tenant is authoritative.
    let session_token = cookie(&parts.headers, audience.cookie()).map(str::to_string);
    let principal = match &session_token {
        Some(t) => crate::auth::cache::lookup(db, t, audience)
            .await
            .map_err(|e| fail(e.into()))?,
        None => None,
    };

    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(normalize_host)
        .unwrap_or_default();
    let host_tenant = app
        .domains
        .lookup(db, &host)
        .await
        .map_err(|e| fail(e.into()))?;
    let query_slug = query_param(parts.uri.query(), "tenant").filter(|s| !s.is_empty());
    let mission_host = app.config.mission_domains.contains(&host);
    let mut unknown_tenant = false;
    let mut remember_slug = None;

    let tenant = if let Some(p) = &principal {
        let conflict = host_tenant.as_ref().is_some_and(|id| *id != p.tenant.id)
            || query_slug.as_ref().is_some_and(|s| *s != p.tenant.slug);
        let is_logout =
            path == "/logout" || path == "/admin/logout" || path == "/api/v1/auth/logout";
        if conflict && !is_logout {
            return Err(fail(AppError::Forbidden(format!(
                "You are signed in to {}. Sign out first to use another organisation's portal.",
                p.tenant.branding.portal_name
            ))));
        }
        Some(p.tenant.clone())
    } else if let Some(id) = &host_tenant {
        store::by_id(db, id).await.map_err(|e| fail(e.into()))?
    } else if let Some(slug) = &query_slug {
        let found = if valid_slug(slug) {
            store::by_slug(db, slug).await.map_err(|e| fail(e.into()))?
        } else {
            None
        };
        unknown_tenant = found.is_none();
        if found.is_some() {
            remember_slug = Some(slug.clone());
        }
        found
    } else if let Some(slug) = cookie(&parts.headers, TENANT_COOKIE).filter(|s| valid_slug(s)) {
        store::by_slug(db, slug).await.map_err(|e| fail(e.into()))?
    } else if let Some(slug) = &app.config.default_tenant {
        store::by_slug(db, slug).await.map_err(|e| fail(e.into()))?
    } else {
        None
    };

    // CSRF: a signed-in session's derived token, or the pre-session cookie's for sign-in forms.
    let pre_cookie = cookie(&parts.headers, PRE_COOKIE).map(str::to_string);
    let new_pre = if principal.is_none() && pre_cookie.is_none() {
        Some(sessions::random_token())
    } else {
        None
    };
    let csrf_token = match (&principal, pre_cookie.as_ref().or(new_pre.as_ref())) {
        (Some(p), _) => session_csrf(&app.config.secret_key, &p.session_hash),
        (None, Some(pre)) => hmac_token(&app.config.secret_key, "pre", pre),
        (None, None) => String::new(),
    };

    let locale = crate::i18n::negotiate(
        principal.as_deref().and_then(|p| p.language.as_deref()),
        parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
        tenant.as_ref().map(|t| t.default_locale.as_str()),
    );
    let tz = crate::i18n::viewer_zone(
        principal.as_deref().and_then(|p| p.time_zone.as_deref()),
        cookie(&parts.headers, crate::i18n::TZ_COOKIE),
        tenant.as_ref().map(|t| t.time_zone.as_str()),
    );
    // The Hub bar: only portal pages draw it, so only they pay for the lookup.
    let hub_bar = match &principal {
        Some(p)
            if p.audience == Audience::Portal
                && parts.method == Method::GET
                && path.starts_with("/portal") =>
        {
            crate::identity::store::hub_bar(db, &p.scope())
                .await
                .map_err(|e| fail(e.into()))?
        }
        _ => Vec::new(),
    };
    let ctx = RequestContext {
        hub_bar,
        tenant,
        principal: principal.clone(),
        csrf_token: csrf_token.clone(),
        ip: client_ip(peer.ip(), &parts.headers, &app.config.trusted_proxies).to_string(),
        mission_host,
        unknown_tenant,
        path,
        locale,
        tz,
    };

    // A Mission tenant has no ticket queue, an MSP no prayer wall: not even by URL.
    if let Some(t) = &ctx.tenant
        && crate::web::nav::foreign_to(&ctx.path, t.org_type)
    {
        return Err((AppError::NotFound, Some(ctx)));
    }

    let mut body = body;
    if is_unsafe(&parts.method) {
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let is_form = content_type.starts_with("application/x-www-form-urlencoded");
        // Upload forms post `multipart/form-data`, whose body is streamed to the handler and not
        // read here; their token rides in the query string (`action="…?_csrf=…"`).
        let is_multipart = content_type.starts_with("multipart/form-data");
        // JSON without a session carries nothing ambient to abuse (and cross-site JSON needs a
        // CORS preflight we never grant), so only sessions and forms are checked.
        // The Hub's POST comes from another site by design; its signed, single-use token is
        // the proof of intent that the CSRF token gives other forms.
        let hub_redirect = path_is_hub(&ctx.path);
        let needs_check = (principal.is_some() || is_form || is_multipart) && !hub_redirect;
        if needs_check {
            let mut presented = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            if presented.is_none() && is_multipart {
                presented = query_param(parts.uri.query(), CSRF_FIELD);
            }
            if presented.is_none() && is_multipart {
                // Upload forms carry the token as their first field: read just that part and
                // hand the handler the whole body, the bytes read so far first.
                let (token, rest) = first_multipart_field(body, content_type, CSRF_FIELD).await;
                presented = token;
                body = rest;
            }
            if presented.is_none() && is_form {
                let bytes = axum::body::to_bytes(body, crate::http::FORM_LIMIT)
                    .await
                    .map_err(|_| (AppError::TooLarge, Some(ctx.clone())))?;
                presented = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                    .ok()
                    .and_then(|v| v.into_iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v));
                body = Body::from(bytes);
            }
            let expected = if principal.is_some() || pre_cookie.is_some() {
                csrf_token.as_str()
            } else {
                "" // a form post with no cookie at all can never match
            };
            let ok = presented.is_some_and(|p| {
                !expected.is_empty() && bool::from(p.as_bytes().ct_eq(expected.as_bytes()))
            });
            if !ok {
                return Err((
                    AppError::Forbidden(
                        "This form has expired or did not come from this site. Reload the page and try again."
                            .into(),
                    ),
                    Some(ctx),
                ));
            }
        }
    }

    parts.extensions.insert(ctx.clone());
    // A required second factor not yet set up: only enrolment and sign-out are reachable.
    let gated = principal
        .as_deref()
        .and_then(|p| crate::mfa::routes::enrolment_gate(p, &ctx.path));
    let resp = match gated {
        Some(r) => r,
        None => next.run(Request::from_parts(parts, body)).await,
    };
    let mut resp = crate::http::errors::render(Some(&ctx), resp);
    let secure = app.config.secure_cookies;
    if let Some(slug) = remember_slug {
        resp.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(TENANT_COOKIE, &slug, Some(365 * 24 * 3600), secure),
        );
    }
    if let Some(pre) = new_pre {
        resp.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(PRE_COOKIE, &pre, None, secure),
        );
    }
    // A stale session cookie is cleared so the browser stops sending it.
    if session_token.is_some()
        && principal.is_none()
        && !resp.headers().contains_key(header::SET_COOKIE)
    {
        resp.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(audience.cookie(), "", Some(0), secure),
        );
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let proxy: IpAddr = "10.0.0.5".parse().expect("ip");
        let outsider: IpAddr = "203.0.113.9".parse().expect("ip");
        let xff = headers(&[("x-forwarded-for", "198.51.100.7, 10.0.0.6")]);
        assert_eq!(client_ip(proxy, &xff, &trusted).to_string(), "198.51.100.7");
        assert_eq!(client_ip(outsider, &xff, &trusted), outsider);
        assert_eq!(client_ip(proxy, &xff, &[]), proxy);
        // A client-forged left entry does not win over the address the proxy appended.
        let forged = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7")]);
        assert_eq!(
            client_ip(proxy, &forged, &trusted).to_string(),
            "198.51.100.7"
        );
        let fwd = headers(&[(
            "forwarded",
            "for=\"[2001:db8::1]:4711\";proto=https, for=10.0.0.6",
        )]);
        assert_eq!(client_ip(proxy, &fwd, &trusted).to_string(), "2001:db8::1");
        let garbled = headers(&[("x-forwarded-for", "198.51.100.7, unknown")]);
        assert_eq!(client_ip(proxy, &garbled, &trusted), proxy);
    }
}
