//! OpenID Connect sign-in against a real OpenID provider: node's `oidc-provider`, started on
//! loopback by `tests/oidc/provider.mjs`. Its interaction page signs in whoever the query names
//! (`email`, `verified`, `tamper`), so each test drives the browser's redirects by hand.
//!
//! The provider's `node_modules` come from `PORTICO_OIDC_MODULES` (`.ci/run` installs them into
//! `target/oidc`); without them these tests skip, unless `PORTICO_REQUIRE_OIDC=1` says they must run.

use std::path::PathBuf;
use std::process::Stdio;

use reqwest::{Client, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::{Session, TestApp, form_csrf};

/// The node_modules holding `oidc-provider`, or `None` (skip) when it is not installed.
fn modules() -> Option<PathBuf> {
    let dir = std::env::var_os("PORTICO_OIDC_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/oidc/node_modules")
        });
    if dir.join("oidc-provider/package.json").is_file() {
        return Some(dir);
    }
    if std::env::var("PORTICO_REQUIRE_OIDC").as_deref() == Ok("1") {
        panic!(
            "PORTICO_REQUIRE_OIDC=1 but oidc-provider is not installed at {} \
             (npm install --prefix target/oidc oidc-provider@8, then set PORTICO_OIDC_MODULES)",
            dir.display()
        );
    }
    eprintln!("skipping: oidc-provider not installed (set PORTICO_OIDC_MODULES)");
    None
}

/// A running OpenID provider; killed when dropped.
struct Idp {
    _child: tokio::process::Child,
    issuer: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

async fn start_idp(modules: &PathBuf, port: u16, redirect_uri: &str) -> Idp {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/provider.mjs");
    let mut child = tokio::process::Command::new("node")
        .arg(script)
        .env("OIDC_MODULES", modules)
        .env("PORT", port.to_string())
        .env("CLIENT_ID", "portico")
        .env("CLIENT_SECRET", SECRET)
        .env("REDIRECT_URIS", redirect_uri)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let ready = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Ok(Some(l)) = lines.next_line().await {
            if let Some(issuer) = l.strip_prefix("ready ") {
                return Some(issuer.to_string());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("oidc-provider did not start");
    Idp {
        _child: child,
        issuer: ready,
    }
}

const SECRET: &str = "portico-test-client-secret";

/// Adds a provider at acme through the staff form; its id and redirect URI.
async fn add_provider(
    app: &TestApp,
    staff: &Session,
    name: &str,
    issuer: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let mut fields = vec![
        ("preset", "custom"),
        ("name", name),
        ("issuer", issuer),
        ("client_id", "portico"),
        ("client_secret", SECRET),
        (
            "domains",
            "globex.example = Globex\ninitech.example = Initech",
        ),
        ("new_user_role", "client_viewer"),
        ("enabled", "1"),
    ];
    fields.extend_from_slice(extra);
    let r = staff
        .post_form("/admin/integrations/oidc/new", &fields)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let html = staff
        .get("/admin/integrations/oidc")
        .await
        .text()
        .await
        .unwrap();
    let row = &html[html.find(&format!(">{name}<")).expect("provider row")..];
    let uri = crate::support::link_in(row, &app.url("/auth/oidc/"));
    let id = uri
        .trim_start_matches(&app.url("/auth/oidc/"))
        .split('/')
        .next()
        .unwrap()
        .to_string();
    (id, uri)
}

/// Starts a sign-in at `tenant` and lets the provider sign in `who` (its interaction query);
/// the callback URL the provider sends the browser to (not yet followed).
async fn to_callback(
    app: &TestApp,
    c: &Client,
    idp: &Idp,
    tenant: &str,
    id: &str,
    who: &str,
) -> String {
    let r = c
        .get(app.url(&format!("/auth/oidc/{id}/start?tenant={tenant}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut url = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    assert!(url.as_str().starts_with(&idp.issuer));
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let has = |k: &str| q.iter().any(|(n, _)| n == k);
    assert!(has("state") && has("nonce") && has("code_challenge"));
    for _ in 0..10 {
        let r = c.get(url.clone()).send().await.unwrap();
        assert!(r.status().is_redirection(), "{} at {url}", r.status());
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        let mut next = url.join(&loc).unwrap();
        if next.as_str().starts_with(&app.url("/auth/oidc/")) {
            return next.to_string();
        }
        if next.path().starts_with("/interaction/") {
            next.set_query(Some(who));
        }
        url = next;
    }
    panic!("no callback after 10 redirects");
}

async fn me(app: &TestApp, c: &Client) -> Value {
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn setup(app: &TestApp) -> Option<(Session, Idp, String)> {
    let modules = modules()?;
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let (id, uri) =
        add_provider(app, &staff, "Contoso ID", &issuer, &[("create_users", "1")]).await;
    let idp = start_idp(&modules, port, &uri).await;
    Some((staff, idp, id))
}

async fn new_user_is_created_then_linked(app: TestApp) {
    let Some((_staff, idp, id)) = setup(&app).await else {
        return;
    };
    // The login page offers the enabled provider, not the demo's disabled Google.
    let html = app
        .client()
        .get(app.url("/login?tenant=acme"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Sign in with Contoso ID"));
    assert!(!html.contains("Sign in with Google"));

    let who = "email=nina@initech.example&verified=1";
    let c = app.client();
    let cb = to_callback(&app, &c, &idp, "acme", &id, who).await;
    let r = c.get(&cb).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/portal/dashboard");
    let m = me(&app, &c).await;
    assert_eq!(m["user"]["email"], "nina@initech.example");
    assert_eq!(m["role"], "client_viewer");
    let initech = app.company_id("acme", "Initech").await;
    assert_eq!(m["user"]["company_id"], initech.as_str());
    let first_id = m["user"]["id"].clone();

    // A second sign-in, in another browser, finds the same account.
    let c = app.client();
    let cb = to_callback(&app, &c, &idp, "acme", &id, who).await;
    let r = c.get(&cb).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app, &c).await["user"]["id"], first_id);

    // An existing account (demo Bob of Globex) is linked by its verified email.
    let c = app.client();
    let cb = to_callback(&app, &c, &idp, "acme", &id, "email=bob@globex.example").await;
    assert_eq!(
        c.get(&cb).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(me(&app, &c).await["user"]["email"], "bob@globex.example");

    let actions = app.audit_actions("acme").await;
    let n = |a: &str| actions.iter().filter(|x| *x == a).count();
    assert_eq!(n("identity.oidc_signed_in"), 3);
    assert_eq!(n("identity.oidc_provider_added"), 1);
}
crate::db_test!(oidc_creates_then_links, new_user_is_created_then_linked);

/// The provider's subject is remembered: a person whose address changed at the provider (same
/// domain, same subject) signs in to the same account, while the new address alone would have
/// created another one.
async fn subject_outlives_an_address_change(app: TestApp) {
    let Some((_staff, idp, id)) = setup(&app).await else {
        return;
    };
    let c = app.client();
    let cb = to_callback(
        &app,
        &c,
        &idp,
        "acme",
        &id,
        "email=nina@initech.example&subject=entra-7f3a",
    )
    .await;
    assert_eq!(
        c.get(&cb).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let first = me(&app, &c).await["user"]["id"].clone();

    // Nina's address is now nina.novak@…; same subject: same account.
    let c = app.client();
    let cb = to_callback(
        &app,
        &c,
        &idp,
        "acme",
        &id,
        "email=nina.novak@initech.example&subject=entra-7f3a",
    )
    .await;
    assert_eq!(
        c.get(&cb).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let m = me(&app, &c).await;
    assert_eq!(m["user"]["id"], first);
    assert_eq!(m["user"]["email"], "nina@initech.example");

    // Another subject with the new address is another person: a new account.
    let c = app.client();
    let cb = to_callback(
        &app,
        &c,
        &idp,
        "acme",
        &id,
        "email=nina.novak@initech.example&subject=entra-other",
    )
    .await;
    assert_eq!(
        c.get(&cb).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    assert_ne!(me(&app, &c).await["user"]["id"], first);

    let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM identity_oidc_subjects")
        .fetch_one(app.state.db.operator("test").reader())
        .await
        .unwrap();
    assert_eq!(links, 2);
}
crate::db_test!(oidc_subject_kept, subject_outlives_an_address_change);

async fn refusals(app: TestApp) {
    let Some((_staff, idp, id)) = setup(&app).await else {
        return;
    };
    let cases = [
        (
            "email=ann@globex.example&tamper=nonce",
            StatusCode::UNAUTHORIZED,
            "made for another sign-in",
        ),
        (
            "email=ann@globex.example&tamper=expired",
            StatusCode::UNAUTHORIZED,
            "too old",
        ),
        (
            "email=ann@globex.example&verified=0",
            StatusCode::FORBIDDEN,
            "does not confirm",
        ),
        (
            "email=eve@evil.example",
            StatusCode::FORBIDDEN,
            "not allowed to use this sign-in provider",
        ),
    ];
    for (who, status, text) in cases {
        let c = app.client();
        let cb = to_callback(&app, &c, &idp, "acme", &id, who).await;
        let r = c.get(&cb).send().await.unwrap();
        assert_eq!(r.status(), status, "{who}");
        assert!(r.text().await.unwrap().contains(text), "{who}");
        assert_eq!(
            c.get(app.url("/api/v1/me")).send().await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Nobody was signed in or created by the refused sign-ins.
    let actions = app.audit_actions("acme").await;
    assert!(!actions.iter().any(|a| a == "identity.oidc_signed_in"));

    // A tampered state, and the callback of another browser, are refused; a good callback
    // works once.
    let c = app.client();
    let cb = to_callback(&app, &c, &idp, "acme", &id, "email=ann@globex.example").await;
    let mut bad = url::Url::parse(&cb).unwrap();
    let pairs: Vec<(String, String)> = bad
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                format!("{v}x")
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    bad.query_pairs_mut().clear().extend_pairs(pairs);
    let r = c.get(bad.as_str()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let other = app.client();
    assert_eq!(
        other.get(&cb).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    // The other browser spent it: the rightful one gets the same answer now.
    let r = c.get(&cb).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("already used"));

    let c = app.client();
    let cb = to_callback(&app, &c, &idp, "acme", &id, "email=ann@globex.example").await;
    assert_eq!(
        c.get(&cb).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let replay = app.client();
    let r = replay.get(&cb).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // An answer naming another issuer (mix-up) is refused.
    let c = app.client();
    let cb = to_callback(&app, &c, &idp, "acme", &id, "email=ann@globex.example").await;
    assert!(cb.contains("iss="));
    let mixed = cb.replace("iss=http", "iss=https");
    assert_eq!(
        c.get(&mixed).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    let reasons: Vec<String> = app.audit_actions("acme").await;
    assert!(
        reasons
            .iter()
            .filter(|a| *a == "identity.oidc_refused")
            .count()
            >= 7
    );

    // Spanish pages for the same refusal.
    let c = app.client();
    let cb = to_callback(
        &app,
        &c,
        &idp,
        "acme",
        &id,
        "email=ann@globex.example&verified=0",
    )
    .await;
    let r = c
        .get(&cb)
        .header("accept-language", "es")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("no está verificado"));
}
crate::db_test!(oidc_refusals, refusals);

async fn two_step_sign_in_follows(app: TestApp) {
    let Some((_staff, idp, id)) = setup(&app).await else {
        return;
    };
    let (c, _) = app
        .form_login("acme", "bob@globex.example", "portico-demo", false)
        .await;
    let html = c
        .get(app.url("/portal/profile/mfa"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let tag = "<code id=\"mfa-secret\" class=\"mfa-secret\">";
    let start = html.find(tag).unwrap() + tag.len();
    let secret = html[start..].split("</code>").next().unwrap().to_string();
    let code = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        totp_rs::Secret::Encoded(secret).to_bytes().unwrap(),
        None,
        "x".into(),
    )
    .unwrap()
    .generate_current()
    .unwrap();
    let r = c
        .post(app.url("/portal/profile/mfa/enable"))
        .form(&[
            ("_csrf", form_csrf(&html).as_str()),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let c = app.client();
    let cb = to_callback(&app, &c, &idp, "acme", &id, "email=bob@globex.example").await;
    let r = c.get(&cb).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/mfa")
    );
    assert_eq!(
        c.get(app.url("/api/v1/me")).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}
crate::db_test!(oidc_then_totp, two_step_sign_in_follows);

async fn other_tenants_and_admin(app: TestApp) {
    let Some((staff, idp, id)) = setup(&app).await else {
        return;
    };
    // acme's provider does not exist on grace's host: neither start nor callback.
    let c = app.client();
    let r = c
        .get(app.url(&format!("/auth/oidc/{id}/start?tenant=grace")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let cb = to_callback(&app, &c, &idp, "acme", &id, "email=ann@globex.example").await;
    let moved = cb.replace("tenant=acme", "tenant=grace");
    let other = app.client();
    let r = other.get(&moved).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // grace's staff cannot see, change or delete it.
    let grace = app
        .api_login("grace", "pastor@grace.example", "admin")
        .await;
    let path = format!("/admin/integrations/oidc/{id}");
    assert_eq!(grace.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        grace
            .post_form(&format!("{path}/delete"), &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Technicians do not manage integrations.
    let tech = app.api_login("acme", "tech@acme.example", "admin").await;
    assert_eq!(tech.get(&path).await.status(), StatusCode::FORBIDDEN);

    // Bad input is refused field by field; the secret is never shown back.
    let r = staff
        .post_form(
            "/admin/integrations/oidc/new",
            &[
                ("preset", "entra"),
                ("name", "Microsoft"),
                ("issuer", "https://login.microsoftonline.com/{tenant}/v2.0"),
                ("client_id", "x"),
                ("client_secret", "y"),
                ("domains", "globex.example = Nobody Inc"),
                ("new_user_role", "staff_admin"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("without {placeholders}"));
    assert!(html.contains("needs a company"));
    assert!(html.contains("Choose a role"));
    let html = staff.get(&path).await.text().await.unwrap();
    assert!(!html.contains(SECRET));

    // A discovery document speaking for another issuer is refused (502, audited).
    let port = idp.issuer.rsplit(':').next().unwrap().to_string();
    let (other_id, _) = add_provider(
        &app,
        &staff,
        "Mismatch",
        &format!("http://localhost:{port}"),
        &[],
    )
    .await;
    let r = app
        .client()
        .get(app.url(&format!("/auth/oidc/{other_id}/start?tenant=acme")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);

    // Disabled: gone from the login page and unusable; then deleted.
    let r = staff
        .post_form(
            &path,
            &[
                ("preset", "custom"),
                ("name", "Contoso ID"),
                ("issuer", &idp.issuer),
                ("client_id", "portico"),
                ("client_secret", ""),
                ("domains", "globex.example = Globex"),
                ("new_user_role", "client_user"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .client()
        .get(app.url(&format!("/auth/oidc/{id}/start?tenant=acme")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = staff.post_form(&format!("{path}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(staff.get(&path).await.status(), StatusCode::NOT_FOUND);
    let actions = app.audit_actions("acme").await;
    assert!(
        actions
            .iter()
            .any(|a| a == "identity.oidc_provider_changed")
    );
    assert!(
        actions
            .iter()
            .any(|a| a == "identity.oidc_provider_deleted")
    );
}
crate::db_test!(oidc_isolation_and_admin, other_tenants_and_admin);
