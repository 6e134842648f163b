//! Test harness: the real router on a loopback port, a fresh database per test (SQLite
//! always, PostgreSQL when `PORTICO_TEST_DATABASE_URL` is set), typed request helpers.

use std::net::SocketAddr;
use std::path::PathBuf;

use portico::app::AppState;
use portico::config::Config;
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A running Portico with the demo data.
pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    pub data_dir: PathBuf,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Database URL for a fresh PostgreSQL schema, or `None` when PostgreSQL is not configured.
pub async fn postgres_url() -> Option<String> {
    let Ok(base) = std::env::var("PORTICO_TEST_DATABASE_URL") else {
        if std::env::var("PORTICO_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!("PORTICO_REQUIRE_POSTGRES=1 but PORTICO_TEST_DATABASE_URL is not set");
        }
        eprintln!("POSTGRES TESTS SKIPPED: set PORTICO_TEST_DATABASE_URL to run them");
        return None;
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
        .await
        .expect("connect to PORTICO_TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .expect("create test schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options[search_path]={schema}"))
}

impl TestApp {
    /// Starts an app on `db` with the demo data; `None` when that database is not available.
    pub async fn spawn(db: Db) -> Option<TestApp> {
        Self::spawn_with(db, |_| {}).await
    }

    /// Like `spawn`, adjusting the configuration first.
    pub async fn spawn_with(db: Db, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = match db {
            Db::Sqlite => format!("sqlite://{}", dir.path().join("portico.db").display()),
            Db::Postgres => postgres_url().await?,
        };
        Some(Self::start(dir, url, tweak).await)
    }

    /// A second node on this app's database (its own port and data dir), as in a cluster.
    pub async fn spawn_peer(&self) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start(dir, self.state.config.database_url.clone(), |_| {}).await
    }

    async fn start(
        dir: tempfile::TempDir,
        url: String,
        tweak: impl FnOnce(&mut Config),
    ) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let data_dir = dir.path().to_path_buf();
        let mut config = Config::from_lookup(|k| match k {
            "PORTICO_DATA_DIR" => Some(data_dir.display().to_string()),
            "PORTICO_DATABASE_URL" => Some(url.clone()),
            "PORTICO_BASE_URL" => Some(format!("http://{addr}")),
            "PORTICO_SECRET_KEY" => Some("test-secret-key-that-is-long-enough-0123456789".into()),
            "PORTICO_MISSION_DOMAINS" => Some("portal.mission.test".into()),
            _ => None,
        })
        .expect("config");
        tweak(&mut config);
        config.prepare_data_dir().expect("data dir");
        let state = AppState::build(config).await.expect("build app");
        portico::demo::seed(&state.db).await.expect("seed demo");
        let (tx, rx) = tokio::sync::oneshot::channel();
        let s = state.clone();
        tokio::spawn(async move {
            let _ = portico::app::serve(s, listener, async {
                let _ = rx.await;
            })
            .await;
        });
        TestApp {
            addr,
            state,
            data_dir,
            _dir: dir,
            shutdown: Some(tx),
        }
    }

    /// Absolute URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A browser-like client: cookie jar, no automatic redirects.
    pub fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            // A refused oversized body makes the server close the connection; never reuse one.
            .pool_max_idle_per_host(0)
            .build()
            .expect("client")
    }

    /// Signs in through the JSON API; returns the client and its CSRF token.
    pub async fn api_login(&self, tenant: &str, email: &str, audience: &str) -> Session {
        let client = self.client();
        let resp = client
            .post(self.url(&format!("/api/v1/auth/login?tenant={tenant}")))
            .json(&serde_json::json!({ "email": email, "password": "portico-demo", "audience": audience }))
            .send()
            .await
            .expect("login request");
        assert_eq!(resp.status(), StatusCode::OK, "login of {email} failed");
        let me: Value = resp.json().await.expect("me json");
        let csrf = me["csrf_token"].as_str().expect("csrf_token").to_string();
        Session {
            client,
            csrf,
            me,
            base: self.url(""),
        }
    }

    /// Signs in through the HTML form, as a browser does.
    pub async fn form_login(
        &self,
        tenant: &str,
        email: &str,
        password: &str,
        admin: bool,
    ) -> (Client, Response) {
        let client = self.client();
        let path = if admin { "/admin/login" } else { "/login" };
        let page = client
            .get(self.url(&format!("{path}?tenant={tenant}")))
            .send()
            .await
            .expect("login page");
        let html = page.text().await.expect("html");
        let csrf = form_csrf(&html);
        let resp = client
            .post(self.url(path))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("email", email),
                ("password", password),
                ("next", ""),
            ])
            .send()
            .await
            .expect("login post");
        (client, resp)
    }

    /// The `.eml` files written so far, oldest first.
    pub fn sent_mail(&self) -> Vec<String> {
        let dir = self.data_dir.join("mail");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }

    /// Runs the job queue until nothing is due or running (the app's own worker may hold a
    /// job for a moment), so queued mail has been handed to the transport.
    pub async fn drain_jobs(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            while portico::jobs::run_due(&self.state).await > 0 {}
            let busy = self
                .count(
                    "SELECT COUNT(*) FROM jobs WHERE (status = 'queued' AND run_at <= $1) OR status = 'running'",
                    portico::db::now_ms(),
                )
                .await;
            if busy == 0 || std::time::Instant::now() > deadline {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    async fn count(&self, sql: &str, bind: i64) -> i64 {
        use sqlx::Row;
        sqlx::query(sql)
            .bind(bind)
            .fetch_one(self.state.db.operator("test").reader())
            .await
            .expect(sql)
            .get::<i64, _>(0)
    }

    /// The newest mail to `to` (after running the job queue), decoded enough to find links.
    pub async fn last_mail_to(&self, to: &str) -> String {
        self.drain_jobs().await;
        self.sent_mail()
            .into_iter()
            .rev()
            .map(|m| m.replace("=\r\n", "").replace("=3D", "="))
            .find(|m| m.contains(to))
            .unwrap_or_else(|| panic!("no mail to {to}"))
    }

    /// The audit actions of a tenant, oldest first.
    pub async fn audit_actions(&self, tenant: &str) -> Vec<String> {
        use sqlx::Row;
        let rows = sqlx::query(
            "SELECT a.action FROM audit_log a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = $1 ORDER BY a.seq",
        )
        .bind(tenant)
        .fetch_all(self.state.db.operator("test").reader())
        .await
        .expect("audit rows");
        rows.iter().map(|r| r.get::<String, _>("action")).collect()
    }

    /// Id of a demo user.
    pub async fn user_id(&self, tenant: &str, email: &str) -> String {
        self.scalar(
            "SELECT u.id FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE t.slug = $1 AND u.email = $2",
            &[tenant, email],
        )
        .await
    }

    /// Id of a demo company.
    pub async fn company_id(&self, tenant: &str, name: &str) -> String {
        self.scalar(
            "SELECT c.id FROM companies c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = $1 AND c.name = $2",
            &[tenant, name],
        )
        .await
    }

    async fn scalar(&self, sql: &str, binds: &[&str]) -> String {
        use sqlx::Row;
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_one(self.state.db.operator("test").reader())
            .await
            .expect(sql)
            .get::<String, _>(0)
    }
}

/// A signed-in API client.
pub struct Session {
    pub client: Client,
    pub csrf: String,
    pub me: Value,
    /// `http://addr` of the app the session belongs to.
    pub base: String,
}

/// Requests as the signed-in user, each carrying the session's CSRF token the way its kind of
/// client does (header for JSON, `_csrf` field for forms, query string for uploads), so a route
/// test is a few lines. They return the response whatever its status; redirects are not followed.
impl Session {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
    }

    fn bare(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response {
        self.request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("GET request")
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("POST request")
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch_json(&self, path: &str, body: &Value) -> Response {
        self.request(reqwest::Method::PATCH, path)
            .json(body)
            .send()
            .await
            .expect("PATCH request")
    }

    /// `PUT path` with a JSON body.
    pub async fn put_json(&self, path: &str, body: &Value) -> Response {
        self.request(reqwest::Method::PUT, path)
            .json(body)
            .send()
            .await
            .expect("PUT request")
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Response {
        self.request(reqwest::Method::DELETE, path)
            .send()
            .await
            .expect("DELETE request")
    }

    /// `POST path` with an urlencoded form, the `_csrf` field added as a page form does.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut form = vec![("_csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.bare(reqwest::Method::POST, path)
            .form(&form)
            .send()
            .await
            .expect("form POST request")
    }

    /// `POST path` with a multipart body (file uploads).
    pub async fn upload(&self, path: &str, form: reqwest::multipart::Form) -> Response {
        let sep = if path.contains('?') { '&' } else { '?' };
        self.bare(
            reqwest::Method::POST,
            &format!("{path}{sep}_csrf={}", self.csrf),
        )
        .multipart(form)
        .send()
        .await
        .expect("multipart POST request")
    }
}

/// The `_csrf` hidden field of the first form on a page.
pub fn form_csrf(html: &str) -> String {
    let start = html
        .find("name=\"_csrf\" value=\"")
        .expect("csrf field in page")
        + 20;
    html[start..]
        .split('"')
        .next()
        .expect("csrf value")
        .to_string()
}

/// The first link in `text` that starts with `prefix`.
pub fn link_in(text: &str, prefix: &str) -> String {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no link {prefix} in:\n{text}"));
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .next()
        .expect("link")
        .to_string()
}

/// Runs an async test body on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! db_test {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::support::TestApp::spawn($crate::support::Db::Sqlite)
                    .await
                    .expect("sqlite app");
                super::$body(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) =
                    $crate::support::TestApp::spawn($crate::support::Db::Postgres).await
                {
                    super::$body(app).await;
                }
            }
        }
    };
}
