//! A fake SMTP server on loopback, and the email outbox delivering through it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::support::{Db, TestApp, form_csrf, link_in};

/// One message as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

/// Speaks just enough SMTP (no TLS, no auth) to accept messages and keep them.
pub struct FakeSmtp {
    pub addr: SocketAddr,
    pub messages: Arc<Mutex<Vec<Received>>>,
}

impl FakeSmtp {
    pub async fn start() -> FakeSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let addr = listener.local_addr().expect("smtp addr");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let store = messages.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(session(sock, store.clone()));
            }
        });
        FakeSmtp { addr, messages }
    }

    /// `PORTICO_SMTP_URL` for this server.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Waits for a message to `to`, decoded enough to find links.
    pub async fn wait_for(&self, to: &str, within: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let found = self
                .messages
                .lock()
                .expect("lock")
                .iter()
                .rev()
                .find(|m| m.to.iter().any(|t| t.contains(to)))
                .cloned();
            if let Some(mut m) = found {
                m.data = m.data.replace("=\r\n", "").replace("=3D", "=");
                return Some(m);
            }
            if tokio::time::Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn session(sock: tokio::net::TcpStream, store: Arc<Mutex<Vec<Received>>>) {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    let mut line = String::new();
    let mut from = String::new();
    let mut to = Vec::new();
    if w.write_all(b"220 fake.smtp ESMTP ready\r\n").await.is_err() {
        return;
    }
    loop {
        line.clear();
        match r.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-fake.smtp greets you\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = cmd[10..].trim().to_string();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(cmd[8..].trim().to_string());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            if w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await
                .is_err()
            {
                return;
            }
            let mut data = String::new();
            loop {
                line.clear();
                match r.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                // Transparency: a leading dot was doubled by the client.
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            store.lock().expect("lock").push(Received {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            b"250 OK: queued\r\n"
        } else if upper.starts_with("QUIT") {
            let _ = w.write_all(b"221 Bye\r\n").await;
            return;
        } else {
            b"502 Command not implemented\r\n"
        };
        if w.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// Runs a test body on SQLite and, when configured, PostgreSQL; the body spawns its own app.
#[macro_export]
macro_rules! db_test_with {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body($crate::support::Db::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body($crate::support::Db::Postgres).await;
            }
        }
    };
}

async fn request_reset(app: &TestApp, email: &str) {
    let c = app.client();
    let page = c
        .get(app.url("/forgot-password?tenant=acme"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_csrf(&page);
    let r = c
        .post(app.url("/forgot-password"))
        .form(&[("_csrf", csrf.as_str()), ("email", email)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn reset_is_delivered_over_smtp(db: Db) {
    let smtp = FakeSmtp::start().await;
    let url = smtp.url();
    let Some(app) = TestApp::spawn_with(db, |c| c.smtp_url = Some(url)).await else {
        return;
    };
    request_reset(&app, "bob@globex.example").await;
    // The app's own worker sends it: nobody calls run_due here.
    let m = smtp
        .wait_for("bob@globex.example", Duration::from_secs(10))
        .await
        .expect("a message reached the SMTP server");
    assert!(m.from.contains("no-reply@portico.localhost"), "{}", m.from);
    assert!(m.data.contains("Acme IT"), "branded");
    let link = link_in(&m.data, &app.url("/reset-password"));
    assert!(link.contains("token="), "{link}");
    let page = app.client().get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    // The sent job no longer holds the link with its token.
    let payload = job_column(&app, "payload").await;
    assert!(!payload.contains("token="), "{payload}");
    assert_eq!(job_column(&app, "status").await, "done");
}
crate::db_test_with!(
    reset_mail_is_delivered_over_smtp,
    reset_is_delivered_over_smtp
);

async fn job_column(app: &TestApp, col: &str) -> String {
    use sqlx::Row;
    sqlx::query(&format!(
        "SELECT {col} FROM jobs WHERE kind = 'email' ORDER BY id DESC LIMIT 1"
    ))
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .expect("job row")
    .get::<String, _>(0)
}

/// Attempts, status, run_at and last_error of the newest email job.
pub async fn newest_job(app: &TestApp) -> (i64, String, i64, Option<String>) {
    use sqlx::Row;
    let r = sqlx::query(
        "SELECT attempts, status, run_at, last_error FROM jobs WHERE kind = 'email' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(app.state.db.operator("test").reader())
    .await
    .expect("job row");
    (
        r.get("attempts"),
        r.get("status"),
        r.get("run_at"),
        r.get("last_error"),
    )
}

/// A loopback port with nothing listening.
pub async fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

async fn smtp_down_is_retried_later(db: Db) {
    let port = dead_port().await;
    let Some(app) = TestApp::spawn_with(db, |c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))
    })
    .await
    else {
        return;
    };
    let before = portico::db::now_ms();
    request_reset(&app, "bob@globex.example").await;
    app.drain_jobs().await;
    let (attempts, status, run_at, error) = newest_job(&app).await;
    assert_eq!(attempts, 1);
    assert_eq!(status, "queued");
    assert!(
        run_at >= before + 25_000,
        "next try about 30 s later, got {}",
        run_at - before
    );
    let error = error.expect("last_error recorded");
    assert!(error.contains("bob@globex.example"), "{error}");

    let s = app.api_login("acme", "staff@acme.example", "admin").await;
    let page: Value = s
        .client
        .get(app.url("/api/v1/admin/jobs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job = &page["items"][0];
    assert_eq!(job["kind"], "email");
    assert_eq!(job["status"], "queued");
    assert_eq!(job["attempts"], 1);
    assert!(job["last_error"].as_str().is_some_and(|e| !e.is_empty()));
    assert!(
        job["summary"]
            .as_str()
            .unwrap()
            .contains("bob@globex.example")
    );
    assert!(job["run_at"].as_i64().unwrap() >= before + 25_000);
    assert!(
        !page.to_string().contains("token="),
        "the list never shows links"
    );
}
crate::db_test_with!(smtp_down_job_is_retried_later, smtp_down_is_retried_later);

async fn request_never_waits_for_smtp(db: Db) {
    // A server that accepts connections and never answers.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = l.accept().await {
            held.push(sock);
        }
    });
    let Some(app) = TestApp::spawn_with(db, |c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))
    })
    .await
    else {
        return;
    };
    let started = std::time::Instant::now();
    request_reset(&app, "bob@globex.example").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the reset request took {:?}",
        started.elapsed()
    );
    let (_, status, _, _) = newest_job(&app).await;
    assert!(status == "queued" || status == "running", "{status}");
}
crate::db_test_with!(
    reset_request_never_waits_for_smtp,
    request_never_waits_for_smtp
);
