//! The PSA sync benchmark (ignored; run with
//! `cargo test --release --test it -- --ignored psa_bench --nocapture`): one sync run over
//! 10,000 changed tickets in each direction against the fake PSA on loopback, with wall time
//! and the process's peak resident memory during the run. The fake runs in the same process, so
//! its own tickets (a few MB) are part of the resident figures.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::fake_psa::{API_KEY, FakePsa};
use crate::support::TestApp;
use portico::psa::sync::run_tenant;

const N: usize = 10_000;

/// VmRSS and VmHWM in MiB.
fn memory() -> (f64, f64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| {
        s.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

/// Resets the peak so VmHWM covers only what follows (Linux: `5` to clear_refs).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn timed_run(app: &TestApp, label: &str) {
    let scope = portico::tenancy::store::by_slug(&app.state.db, "acme")
        .await
        .unwrap()
        .unwrap()
        .scope();
    reset_peak();
    let (before, _) = memory();
    let t = Instant::now();
    let r = run_tenant(&app.state, &scope).await.expect("sync run");
    let took = t.elapsed();
    let (after, peak) = memory();
    println!(
        "PSA-BENCH {:?} {label}: {:.1} s, pulled {}, pushed {}, skipped {}, conflicts {}; \
         RSS {before:.0} -> {after:.0} MiB, peak {peak:.0} MiB",
        app.state.db.backend(),
        took.as_secs_f64(),
        r.pulled,
        r.pushed,
        r.skipped.len(),
        r.conflicts,
    );
    assert!(!r.busy);
}

async fn bench(app: TestApp) {
    let fake = FakePsa::start().await;
    fake.set_page_size(500);
    fake.add_company("C-GLOBEX", "Globex");
    let staff = app.api_login("acme", "staff@acme.example", "admin").await;
    let base = fake.base_url();
    let form = [
        ("connector", "generic"),
        ("base_url", base.as_str()),
        ("api_key", API_KEY),
        ("enabled", "on"),
        ("interval_minutes", "5"),
        ("status_new", "New"),
        ("status_open", "In Progress"),
        ("status_pending", "Waiting on Client"),
        ("status_on_hold", "On Hold"),
        ("status_resolved", "Resolved"),
        ("status_closed", "Closed"),
        ("priority_low", "Low"),
        ("priority_normal", "Medium"),
        ("priority_high", "High"),
        ("priority_urgent", "Critical"),
    ];
    let r = staff.post_form("/admin/integrations/psa", &form).await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    timed_run(&app, "first run (link Globex)").await;

    // PSA → Portico: 10,000 tickets raised in the PSA, each with a technician's reply.
    for i in 0..N {
        let id = fake.raise(
            "C-GLOBEX",
            "alice@globex.example",
            &format!("PSA ticket {i}"),
        );
        fake.reply(&id, "Looking into it.", false, "tech@acme.example");
    }
    timed_run(&app, "pull 10,000 new tickets with a reply each").await;

    // PSA → Portico: every one of them changes status and gets a second reply.
    for t in fake.tickets() {
        fake.edit(&t.id, |t| t.status = "In Progress".into());
        fake.reply(
            &t.id,
            "Fixed on our side; please check.",
            false,
            "tech@acme.example",
        );
    }
    timed_run(&app, "pull 10,000 changed tickets (status + reply)").await;

    // Portico → PSA: 10,000 tickets raised in the portal wait in the outbox.
    let bob = app.api_login("acme", "bob@globex.example", "portal").await;
    let bob = std::sync::Arc::new(bob);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..16 {
        let bob = bob.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..N).step_by(16) {
                let r = bob
                    .post_json(
                        "/api/v1/tickets",
                        &json!({"subject": format!("Portal ticket {i}"), "description": "Raised in the portal.", "priority": "normal"}),
                    )
                    .await;
                let status = r.status();
                assert_eq!(
                    status,
                    reqwest::StatusCode::CREATED,
                    "{}",
                    r.text().await.unwrap_or_default()
                );
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let raised = t.elapsed();
    println!(
        "PSA-BENCH {:?} (raised {N} portal tickets in {:.1} s)",
        app.state.db.backend(),
        raised.as_secs_f64()
    );
    // Each ticket raised wakes the tenant's sync, so the app's own job is already pushing them
    // (a run here would find the lease taken): time until the fake PSA holds all of them.
    reset_peak();
    let wait = Instant::now();
    while fake.creates() < N {
        assert!(
            wait.elapsed() < Duration::from_secs(900),
            "only {} of {N} pushed after 15 minutes",
            fake.creates()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (after, peak) = memory();
    println!(
        "PSA-BENCH {:?} push 10,000 portal tickets (background sync): all in the PSA {:.1} s after \
         the first was raised, {:.1} s after the last; RSS {after:.0} MiB, peak {peak:.0} MiB",
        app.state.db.backend(),
        t.elapsed().as_secs_f64(),
        wait.elapsed().as_secs_f64(),
    );
}

mod psa_sync_bench {
    #[ignore = "benchmark: run with --release --ignored"]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let app = crate::support::TestApp::spawn(crate::support::Db::Sqlite)
            .await
            .expect("sqlite app");
        super::bench(app).await;
    }
    #[ignore = "benchmark: run with --release --ignored"]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let Some(app) = crate::support::TestApp::spawn(crate::support::Db::Postgres).await {
            super::bench(app).await;
        }
    }
}
