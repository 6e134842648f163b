//! The `portico` command as an operator uses it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn portico(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portico"));
    cmd.args(args)
        .env_clear()
        .env("PORTICO_DATA_DIR", dir)
        .env("PORTICO_BASE_URL", "https://portal.example.com")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run portico");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("portico output")
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

#[test]
fn bad_configuration_is_one_line_per_problem() {
    let dir = tempfile::tempdir().unwrap();
    let out = portico(
        dir.path(),
        &["migrate"],
        &[
            ("PORTICO_SECRET_KEY", "short"),
            ("PORTICO_LISTEN", "everywhere"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("configuration error:"))
        .collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines.iter().any(|l| l.contains("PORTICO_SECRET_KEY"))
            && lines.iter().any(|l| l.contains("PORTICO_LISTEN"))
    );
}

#[test]
fn operator_creates_tenants_and_domains() {
    let dir = tempfile::tempdir().unwrap();
    let out = portico(dir.path(), &["migrate"], &[], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        dir.path().join("secret.key").exists(),
        "secret key generated on first start"
    );

    let out = portico(
        dir.path(),
        &[
            "tenant",
            "create",
            "--slug",
            "contoso",
            "--name",
            "Contoso IT",
            "--org-type",
            "msp",
            "--plan",
            "team",
            "--admin-email",
            "Owner@Contoso.example",
            "--password-stdin",
        ],
        &[],
        Some("a-long-enough-password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(
        "owner@contoso.example can sign in at https://portal.example.com/admin/login?tenant=contoso"
    ));

    let out = portico(
        dir.path(),
        &[
            "tenant",
            "create",
            "--slug",
            "hope",
            "--name",
            "Hope Chapel",
            "--org-type",
            "mission",
            "--admin-email",
            "pastor@hope.example",
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("https://portal.example.com/invite/accept?tenant=hope&token=")
    );

    let dup = portico(
        dir.path(),
        &[
            "tenant",
            "create",
            "--slug",
            "hope",
            "--name",
            "Again",
            "--org-type",
            "mission",
            "--admin-email",
            "x@hope.example",
        ],
        &[],
        None,
    );
    assert!(!dup.status.success());
    assert!(text(&dup.stderr).contains("already exists"));

    let out = portico(
        dir.path(),
        &["tenant", "add-domain", "contoso", "Portal.Contoso.example"],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The team plan allows one custom domain.
    let out = portico(
        dir.path(),
        &["tenant", "add-domain", "contoso", "second.contoso.example"],
        &[],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("team plan allows 1 custom domain"),
        "{}",
        text(&out.stderr)
    );
    let out = portico(
        dir.path(),
        &["tenant", "add-domain", "contoso", "not a domain"],
        &[],
        None,
    );
    assert!(!out.status.success());

    let out = portico(dir.path(), &["tenant", "list"], &[], None);
    let list = text(&out.stdout);
    assert!(
        list.contains("contoso")
            && list.contains("portal.contoso.example")
            && list.contains("hope"),
        "{list}"
    );
}

#[test]
fn storage_migrate_runs_on_a_fresh_install() {
    let dir = tempfile::tempdir().unwrap();
    let out = portico(dir.path(), &["storage", "migrate"], &[], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("storage: moved 0 file(s)"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        dir.path().join("files").is_dir(),
        "the local store is created"
    );
}
