//! Hub single sign-on under attack: algorithm confusion, `none`, expiry, future `nbf`, replay
//! (also on a second node sharing PostgreSQL), wrong tenant, wrong signature, oversized tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use portico::identity::{self, HubClaims, demo::DEMO_HUB_SECRET};
use reqwest::StatusCode;
use sha2::Sha256;

use crate::support::{Db, TestApp};

fn claims() -> HubClaims {
    let mut c = identity::new_claims("acme", "bob@globex.example", identity::now_secs(), 120);
    c.company = Some("Globex".into());
    c
}

fn sign(c: &HubClaims) -> String {
    identity::mint(c, DEMO_HUB_SECRET.as_bytes()).expect("mint")
}

/// A token with any header, signed with HMAC-SHA256 under `secret` (or unsigned when `None`).
fn forge(header: &str, c: &HubClaims, secret: Option<&[u8]>) -> String {
    let body = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).expect("claims json"))
    );
    let sig = match secret {
        Some(s) => {
            let mut m = Hmac::<Sha256>::new_from_slice(s).expect("hmac");
            m.update(body.as_bytes());
            URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
        }
        None => String::new(),
    };
    format!("{body}.{sig}")
}

async fn status_of(app: &TestApp, tenant: &str, token: &str) -> (StatusCode, String) {
    let r = app
        .client()
        .post(app.url(&format!("/auth/hub?tenant={tenant}")))
        .form(&[("token", token)])
        .send()
        .await
        .expect("hub request");
    let s = r.status();
    (s, r.text().await.unwrap_or_default())
}

async fn assert_refused(app: &TestApp, token: &str, status: StatusCode, words: &str) {
    let (s, body) = status_of(app, "acme", token).await;
    assert_eq!(s, status, "{body}");
    assert!(body.contains(words), "expected '{words}' in {body}");
    assert!(!body.contains("portico_portal"));
}

async fn hostile_tokens_are_refused(app: TestApp) {
    let secret = DEMO_HUB_SECRET.as_bytes();
    // `none`, in any spelling, unsigned.
    for alg in ["none", "None", "NONE"] {
        let t = forge(
            &format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
            &claims(),
            None,
        );
        assert_refused(&app, &t, StatusCode::UNAUTHORIZED, "not valid").await;
    }
    // Algorithm confusion: an RS256/ES256 header over an HMAC made with the shared secret (a
    // verifier that trusts the header would treat the secret as a public key), and the other
    // HMAC sizes.
    for alg in ["RS256", "ES256", "PS256", "HS384", "HS512"] {
        let t = forge(
            &format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
            &claims(),
            Some(secret),
        );
        assert_refused(&app, &t, StatusCode::UNAUTHORIZED, "not valid").await;
    }
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(secret).expect("key"),
    )
    .expect("hs512");
    assert_refused(&app, &hs512, StatusCode::UNAUTHORIZED, "not valid").await;
    // Wrong signature: another secret, and a flipped byte.
    let other = identity::mint(&claims(), b"another-secret-of-32-bytes-or-more!!").expect("mint");
    assert_refused(&app, &other, StatusCode::UNAUTHORIZED, "not valid").await;
    // (A byte in the middle of the signature: the last character carries padding bits.)
    let mut t = sign(&claims()).into_bytes();
    let i = t.len() - 10;
    t[i] = if t[i] == b'A' { b'B' } else { b'A' };
    let t = String::from_utf8(t).expect("ascii");
    assert_refused(&app, &t, StatusCode::UNAUTHORIZED, "not valid").await;
    // Expired beyond the leeway.
    let mut c = claims();
    c.iat -= 600;
    c.nbf -= 600;
    c.exp = identity::now_secs() - 120;
    assert_refused(&app, &sign(&c), StatusCode::UNAUTHORIZED, "expired").await;
    // Not valid yet, issued in the future, or valid for too long.
    let mut c = claims();
    c.nbf += 600;
    c.exp = c.nbf + 60;
    assert_refused(&app, &sign(&c), StatusCode::UNAUTHORIZED, "not valid").await;
    let mut c = claims();
    c.iat += 600;
    assert_refused(&app, &sign(&c), StatusCode::UNAUTHORIZED, "not valid").await;
    let mut c = claims();
    c.exp += 3600;
    assert_refused(&app, &sign(&c), StatusCode::UNAUTHORIZED, "not valid").await;
    // A missing claim (no jti).
    let mut v = serde_json::to_value(claims()).expect("json");
    v.as_object_mut().expect("object").remove("jti");
    let t = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &v,
        &jsonwebtoken::EncodingKey::from_secret(secret).expect("key"),
    )
    .expect("encode");
    assert_refused(&app, &t, StatusCode::UNAUTHORIZED, "not valid").await;
    // Oversized: refused before parsing, even when correctly signed.
    let mut c = claims();
    c.name = "x".repeat(5000);
    assert_refused(&app, &sign(&c), StatusCode::UNAUTHORIZED, "not valid").await;
    // Wrong tenant: grace's token (same demo secret) at acme, and an org type that is not
    // acme's.
    let mut c = claims();
    c.tenant = "grace".into();
    assert_refused(&app, &sign(&c), StatusCode::FORBIDDEN, "another portal").await;
    let mut c = claims();
    c.org_type = Some("mission".into());
    assert_refused(&app, &sign(&c), StatusCode::FORBIDDEN, "another portal").await;
    // No session came out of any of it, and every refusal is in the audit log.
    let refused: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log a JOIN tenants t ON t.id = a.tenant_id \
         WHERE t.slug = 'acme' AND a.action = 'identity.hub_refused'",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .expect("count");
    assert_eq!(refused, 19);
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .expect("count");
    assert_eq!(sessions, 0);
}
crate::db_test!(hostile_hub_tokens, hostile_tokens_are_refused);

async fn a_token_works_once(app: TestApp) {
    let t = sign(&claims());
    let (s, _) = status_of(&app, "acme", &t).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, body) = status_of(&app, "acme", &t).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(body.contains("already used"));
    // Many copies at once: exactly one gets in.
    let t = sign(&claims());
    let tries = (0..8).map(|_| status_of(&app, "acme", &t));
    let results = futures::future::join_all(tries).await;
    let ok = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert!(
        results
            .iter()
            .all(|(s, _)| *s == StatusCode::SEE_OTHER || *s == StatusCode::CONFLICT)
    );
}
crate::db_test!(hub_replay, a_token_works_once);

/// Two nodes on one PostgreSQL database: a token used on one is refused on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_on_a_second_node_is_refused() {
    let Some(a) = TestApp::spawn(Db::Postgres).await else {
        return;
    };
    let b = a.spawn_peer().await;
    let t = sign(&claims());
    let (s, _) = status_of(&a, "acme", &t).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, body) = status_of(&b, "acme", &t).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(body.contains("already used"));
    // And at the same moment on both nodes: one sign-in in total.
    let t = sign(&claims());
    let (x, y) = tokio::join!(status_of(&a, "acme", &t), status_of(&b, "acme", &t));
    let ok = [x.0, y.0]
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(ok, 1, "{:?} {:?}", x.0, y.0);
}
