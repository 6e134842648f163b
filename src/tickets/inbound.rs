//! Replies by email. Ticket emails carry `Reply-To: reply+{number}.{token}@{inbound domain}`,
//! where the token is an HMAC of tenant and ticket under the secret key, so an address cannot
//! be guessed or moved to another ticket or tenant. The mail gateway posts each incoming
//! message, raw, to `POST /inbound/email` with the shared secret in
//! `X-Portico-Inbound-Secret`; the reply becomes a comment by its sender through
//! `service::comment`, the same path (rules, audit row, events, notifications) as the portal.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::service::{self, CommentInput};
use super::store::{self, Ticket};
use crate::auth::{Audience, Permission, Principal, Role, UserId, UserKind};
use crate::companies::CompanyId;
use crate::config::Config;
use crate::error::AppError;
use crate::files::Pending;
use crate::i18n::{Locale, Translator, k};
use crate::state::AppState;
use crate::tenancy::TenantId;

/// Header carrying the gateway's shared secret.
pub const SECRET_HEADER: &str = "x-portico-inbound-secret";
/// Largest message accepted (replies are text; attachments are not taken in).
pub const MAX_MESSAGE_BYTES: usize = 512 * 1024;
/// Hex characters of the address token (96 bits).
const TOKEN_LEN: usize = 24;

/// The route, outside the session and CSRF machinery: the gateway has no session, it proves
/// itself with the shared secret.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/inbound/email",
        // Read in the handler, after the secret is checked, with its own limit and answer.
        post(receive).layer(DefaultBodyLimit::disable()),
    )
}

/// The address token of a ticket.
pub fn token(secret: &[u8], tenant_id: &str, ticket_id: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(b"inbound-reply:");
    mac.update(tenant_id.as_bytes());
    mac.update(b":");
    mac.update(ticket_id.as_bytes());
    let mut t = hex::encode(mac.finalize().into_bytes());
    t.truncate(TOKEN_LEN);
    t
}

/// The Reply-To address of a ticket's emails, when an inbound domain is configured.
pub fn reply_address(config: &Config, tenant_id: &str, t: &Ticket) -> Option<String> {
    let domain = config.inbound_domain.as_deref()?;
    let token = token(&config.secret_key, tenant_id, &t.id);
    Some(format!("reply+{}.{token}@{domain}", t.number))
}

/// `(number, token)` from a reply address at `domain`.
fn parse_address(address: &str, domain: &str) -> Option<(i64, String)> {
    let (local, host) = address.trim().rsplit_once('@')?;
    if !host.eq_ignore_ascii_case(domain) {
        return None;
    }
    let rest = local.strip_prefix("reply+")?;
    let (number, token) = rest.split_once('.')?;
    let number = number.parse().ok()?;
    let token = token.to_ascii_lowercase();
    (token.len() == TOKEN_LEN && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some((number, token))
}

/// The new text of a reply: everything above the quoted message ("On … wrote:", `>` lines,
/// an "Original Message" divider) and the signature delimiter.
pub fn strip_quoted(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let l = line.trim();
        let with_next = lines
            .get(i + 1)
            .map(|n| format!("{l} {}", n.trim()))
            .unwrap_or_default();
        let intro = |s: &str| {
            (s.starts_with("On ") && s.ends_with("wrote:"))
                || (s.starts_with("El ") && s.ends_with("escribió:"))
        };
        if l.starts_with('>')
            || intro(l)
            || intro(&with_next)
            || *line == "-- "
            || (l.starts_with("-----") && l.to_ascii_lowercase().contains("original message"))
        {
            end = i;
            break;
        }
    }
    lines[..end].join("\n").trim().to_string()
}

/// A refusal with a code the gateway can log and a sentence a person can read.
fn refuse(status: StatusCode, code: &str, key: &str) -> Response {
    let message = Translator::new(Locale::En).msg(key);
    (
        status,
        axum::Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

fn from_app_error(e: AppError) -> Response {
    let status = e.status();
    let code = e.code();
    let message = Translator::new(Locale::En).msg(&e.to_string());
    (
        status,
        axum::Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

async fn receive(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match receive_inner(&app, &peer.ip().to_string(), &headers, body).await {
        Ok(r) => r,
        Err(e) => from_app_error(e),
    }
}

async fn receive_inner(
    app: &AppState,
    ip: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let (Some(secret), Some(domain)) = (
        app.config.inbound_secret.as_deref(),
        app.config.inbound_domain.as_deref(),
    ) else {
        return Ok(refuse(
            StatusCode::FORBIDDEN,
            "inbound_disabled",
            k("ticket-inbound-disabled"),
        ));
    };
    let presented = headers
        .get(SECRET_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !bool::from(presented.as_bytes().ct_eq(secret.as_bytes())) {
        return Ok(refuse(
            StatusCode::UNAUTHORIZED,
            "bad_secret",
            k("ticket-inbound-bad-secret"),
        ));
    }
    let Ok(raw) = axum::body::to_bytes(body, MAX_MESSAGE_BYTES).await else {
        return Ok(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            k("ticket-inbound-too-large"),
        ));
    };
    let raw: &[u8] = &raw;
    let Some(msg) = mail_parser::MessageParser::default().parse(raw) else {
        return Ok(refuse(
            StatusCode::BAD_REQUEST,
            "not_a_message",
            k("ticket-inbound-not-a-message"),
        ));
    };
    // The reply address may be in To, Cc or a gateway's delivery header.
    let mut candidates: Vec<String> = Vec::new();
    for list in [msg.to(), msg.cc()].into_iter().flatten() {
        candidates.extend(list.iter().filter_map(|a| a.address()).map(str::to_string));
    }
    for name in ["Delivered-To", "X-Original-To"] {
        if let Some(v) = msg.header_raw(name) {
            candidates.push(v.trim().trim_matches(['<', '>']).to_string());
        }
    }
    let Some((number, token)) = candidates.iter().find_map(|a| parse_address(a, domain)) else {
        return Ok(refuse(
            StatusCode::BAD_REQUEST,
            "no_reply_address",
            k("ticket-inbound-no-address"),
        ));
    };
    // The token says which tenant's ticket #number it is; a token for any other ticket or
    // tenant matches none.
    let op = app
        .db
        .operator("inbound email: the ticket a signed reply address names");
    let found = store::tickets_numbered(&op, number)
        .await?
        .into_iter()
        .find(|(tenant, id)| {
            bool::from(
                token
                    .as_bytes()
                    .ct_eq(self::token(&app.config.secret_key, tenant, id).as_bytes()),
            )
        });
    let Some((tenant_id, _)) = found else {
        return Ok(refuse(
            StatusCode::FORBIDDEN,
            "bad_token",
            k("ticket-inbound-bad-token"),
        ));
    };
    let Some(tenant) = crate::tenancy::store::by_id(&app.db, &TenantId(tenant_id)).await? else {
        return Ok(refuse(
            StatusCode::FORBIDDEN,
            "bad_token",
            k("ticket-inbound-bad-token"),
        ));
    };
    let scope = tenant.scope();
    let from = msg
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .unwrap_or("")
        .to_string();
    let sender = match store::active_user_by_email(&app.db, &scope, &from).await? {
        Some(s) => s,
        None => {
            return Ok(refuse(
                StatusCode::FORBIDDEN,
                "unknown_sender",
                k("ticket-inbound-unknown-sender"),
            ));
        }
    };
    let Some(role) = Role::from_stored(&sender.kind, &sender.role) else {
        return Ok(refuse(
            StatusCode::FORBIDDEN,
            "unknown_sender",
            k("ticket-inbound-unknown-sender"),
        ));
    };
    let audience = if role.kind() == UserKind::Staff {
        Audience::Admin
    } else {
        Audience::Portal
    };
    // The sender as a principal of their own audience, as if they had signed in; no session
    // exists, so nothing can be done with it beyond this one comment.
    let principal = Principal {
        user_id: UserId(sender.id.clone()),
        email: sender.email.clone(),
        name: sender.name.clone(),
        role,
        company_id: sender.company_id.clone().map(CompanyId),
        company_name: sender.company_name.clone(),
        tenant,
        audience,
        session_hash: String::new(),
        mfa_enrolment_required: false,
        language: sender.language.clone(),
        time_zone: None,
        billing_viewer: false,
        membership_count: 0,
    };
    let Some(t) = store::by_number(&app.db, &scope, number).await? else {
        return Ok(refuse(
            StatusCode::FORBIDDEN,
            "bad_token",
            k("ticket-inbound-bad-token"),
        ));
    };
    let staff = audience == Audience::Admin;
    let participant = t.requester.id == sender.id || t.cc.iter().any(|p| p.id == sender.id);
    if !(staff || participant) {
        return Ok(refuse(
            StatusCode::FORBIDDEN,
            "unknown_sender",
            k("ticket-inbound-unknown-sender"),
        ));
    }
    let actor = principal.require(if staff {
        Permission::ManageTickets
    } else {
        Permission::CommentOnTickets
    })?;
    // The Message-ID names the message across redeliveries; without one, its bytes do.
    let message_id = match msg.message_id() {
        Some(id) if !id.trim().is_empty() => id.trim().chars().take(500).collect(),
        _ => format!("sha256:{}", hex::encode(Sha256::digest(raw))),
    };
    if store::inbound_seen(&app.db, &scope, &message_id).await? {
        return Ok((
            StatusCode::OK,
            axum::Json(json!({ "status": "duplicate", "ticket": number })),
        )
            .into_response());
    }
    let text = msg.body_text(0).map(|b| b.to_string()).unwrap_or_default();
    let body = strip_quoted(&text);
    if body.is_empty() {
        return Ok(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_reply",
            k("ticket-inbound-empty"),
        ));
    }
    let result = service::comment(
        app,
        &actor,
        ip,
        &t,
        CommentInput {
            body,
            internal: false,
            via_email: Some(message_id),
        },
        Pending::new(app.files.clone()),
    )
    .await;
    match result {
        Ok(_) => Ok((
            StatusCode::CREATED,
            axum::Json(json!({ "status": "added", "ticket": number })),
        )
            .into_response()),
        // A concurrent delivery of the same message won the race: it is in, once.
        Err(AppError::Conflict(m)) if m == k("ticket-error-email-duplicate") => Ok((
            StatusCode::OK,
            axum::Json(json!({ "status": "duplicate", "ticket": number })),
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_is_dropped() {
        let mail = "Thanks, that fixed it.\r\nCheers\r\n\r\nOn Mon, 1 Dec 2026 at 10:00, Acme Support <support@acme.example>\r\nwrote:\r\n> We replaced the roller.\r\n";
        assert_eq!(strip_quoted(mail), "Thanks, that fixed it.\nCheers");
        assert_eq!(strip_quoted("Yes\n> old"), "Yes");
        assert_eq!(
            strip_quoted("Hola\n\nEl lun, 1 dic 2026, Soporte escribió:\n> x"),
            "Hola"
        );
        assert_eq!(strip_quoted("Body\n-- \nSig"), "Body");
    }

    #[test]
    fn addresses_parse_only_at_the_inbound_domain() {
        let t = "0123456789abcdef01234567";
        assert_eq!(
            parse_address(&format!("reply+1001.{t}@in.example"), "in.example"),
            Some((1001, t.to_string()))
        );
        assert_eq!(
            parse_address(&format!("reply+1001.{t}@other.example"), "in.example"),
            None
        );
        assert_eq!(
            parse_address("reply+1001.zz@in.example", "in.example"),
            None
        );
        assert_eq!(parse_address("someone@in.example", "in.example"), None);
    }
}
