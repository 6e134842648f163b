//! Every SQL statement in the code that reads or writes a tenant table says which tenant.
//!
//! A scan, not a proof: the string literals of src/**/*.rs that start like a statement
//! (SELECT, INSERT, UPDATE, DELETE, WITH) are checked, after a `{NAME}` placeholder is replaced
//! by the text of the file's `const NAME: &str` (so `format!("{SELECT} WHERE t.tenant_id = $1")`
//! is read whole). A statement that names a tenant table (one with a `tenant_id` column in the
//! migrations) must mention `tenant_id`. Operator paths that work across tenants on purpose are
//! listed in `ALLOWED` with their reason; a new statement without a tenant condition fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// `(file, text identifying the statement, why it needs no tenant condition)`.
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "src/auth/sessions.rs",
        "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1",
        "session lookup by token hash: the hash is the secret that names the session and its tenant",
    ),
    (
        "src/auth/sessions.rs",
        "DELETE FROM sessions WHERE token_hash = $1",
        "sign-out and expiry end a session by its token hash, which is unique across tenants",
    ),
    (
        "src/jobs/mod.rs",
        "UPDATE jobs SET status = $3, attempts = $4",
        "job worker: writes the outcome of a job it claimed, by job id and claim token, for any tenant",
    ),
    (
        "src/tickets/store.rs",
        "SELECT t.id, t.number, t.subject, t.priority,",
        "LIST_SELECT is the head of tickets::store::list, which pushes `WHERE t.tenant_id = …` next",
    ),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Tables with a `tenant_id` column in any migration of either backend.
fn tenant_tables() -> BTreeSet<String> {
    let mut tables = BTreeSet::new();
    for backend in ["sqlite", "postgres"] {
        let dir = root().join("migrations").join(backend);
        for entry in std::fs::read_dir(&dir).expect("migrations dir") {
            let sql = std::fs::read_to_string(entry.expect("entry").path()).expect("migration");
            let mut current: Option<String> = None;
            for line in sql.lines() {
                let words: Vec<&str> = line.split_whitespace().collect();
                match words.as_slice() {
                    ["CREATE", "TABLE", name, ..] => {
                        current = Some(name.trim_end_matches('(').to_string())
                    }
                    [");"] | [")"] => current = None,
                    ["tenant_id", ..] => {
                        if let Some(t) = &current {
                            tables.insert(t.clone());
                        }
                    }
                    ["ALTER", "TABLE", name, "ADD", "COLUMN", "tenant_id", ..] => {
                        tables.insert(name.to_string());
                    }
                    _ => {}
                }
            }
        }
    }
    tables
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literals of a Rust file as `(line, text)`, with `\` line continuations joined
/// the way the compiler joins them. Comments and char literals are skipped.
fn literals(src: &str) -> Vec<(usize, String)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < b.len() {
        match b[i] {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    line += usize::from(b[i] == b'\n');
                    i += 1;
                }
                i += 2;
            }
            // '"', '\'' and '\\' are chars, not the start of a string.
            b'\'' if b.get(i + 2) == Some(&b'\'') => i += 3,
            b'\'' if b.get(i + 1) == Some(&b'\\') && b.get(i + 3) == Some(&b'\'') => i += 4,
            b'"' => {
                let start_line = line;
                let mut text = Vec::new();
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' && b.get(i + 1) == Some(&b'\n') {
                        i += 1;
                        while i < b.len() && b[i].is_ascii_whitespace() {
                            line += usize::from(b[i] == b'\n');
                            i += 1;
                        }
                        continue;
                    }
                    if b[i] == b'\\' {
                        text.extend_from_slice(&b[i..i + 2]);
                        i += 2;
                        continue;
                    }
                    line += usize::from(b[i] == b'\n');
                    text.push(b[i]);
                    i += 1;
                }
                i += 1;
                out.push((start_line, String::from_utf8_lossy(&text).into_owned()));
            }
            _ => i += 1,
        }
    }
    out
}

/// `const NAME: &str = "…";` definitions of a file.
fn consts(src: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for part in src.split("const ").skip(1) {
        let Some((name, rest)) = part.split_once(": &str = ") else {
            continue;
        };
        if name.contains(char::is_whitespace) || !rest.starts_with('"') {
            continue;
        }
        if let Some((_, text)) = literals(rest).into_iter().next() {
            map.insert(name.to_string(), text);
        }
    }
    map
}

fn is_statement(text: &str) -> bool {
    let first = text.split_whitespace().next().unwrap_or("");
    matches!(first, "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "WITH")
}

/// Tables a statement reads or writes: the word after FROM, JOIN, INTO or UPDATE.
fn named_tables(sql: &str) -> BTreeSet<String> {
    let words: Vec<String> = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    words
        .windows(2)
        .filter(|w| {
            matches!(
                w[0].to_ascii_uppercase().as_str(),
                "FROM" | "JOIN" | "INTO" | "UPDATE"
            )
        })
        .map(|w| w[1].clone())
        .collect()
}

/// `(file, line, tables, statement)` for each statement on a tenant table without `tenant_id`.
fn unscoped_statements() -> Vec<(String, usize, BTreeSet<String>, String)> {
    let tables = tenant_tables();
    assert!(
        tables.contains("tickets") && tables.contains("users") && !tables.contains("tenants"),
        "tenant tables not found in the migrations: {tables:?}"
    );
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    files.sort();
    let mut found = Vec::new();
    for path in files {
        let src = std::fs::read_to_string(&path).expect("source file");
        let rel = path
            .strip_prefix(root())
            .expect("under the crate")
            .display()
            .to_string();
        let consts = consts(&src);
        let interpolated: BTreeSet<&String> = consts
            .keys()
            .filter(|name| src.contains(&format!("{{{name}}}")))
            .collect();
        for (line, mut text) in literals(&src) {
            // A const spliced into other literals is checked as part of them.
            if interpolated.iter().any(|name| consts[*name] == text) {
                continue;
            }
            for name in &interpolated {
                text = text.replace(&format!("{{{name}}}"), &consts[*name]);
            }
            if !is_statement(&text) || text.contains("tenant_id") {
                continue;
            }
            let hit: BTreeSet<String> = named_tables(&text)
                .into_iter()
                .filter(|t| tables.contains(t))
                .collect();
            if !hit.is_empty() {
                found.push((rel.clone(), line, hit, text));
            }
        }
    }
    found
}

#[test]
fn every_tenant_table_statement_names_the_tenant() {
    let found = unscoped_statements();
    let mut unexplained = Vec::new();
    let mut used = BTreeSet::new();
    for (file, line, tables, sql) in &found {
        match ALLOWED
            .iter()
            .position(|(f, text, _)| f == file && sql.contains(text))
        {
            Some(i) => {
                used.insert(i);
            }
            None => unexplained.push(format!("{file}:{line} ({tables:?}): {sql}")),
        }
    }
    assert!(
        unexplained.is_empty(),
        "statements on tenant tables without a tenant_id condition (add `AND tenant_id = $n` with \
         the scope's tenant, or an ALLOWED entry with its reason):\n{}",
        unexplained.join("\n")
    );
    let stale: Vec<_> = ALLOWED
        .iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .map(|(_, (f, text, _))| format!("{f}: {text}"))
        .collect();
    assert!(
        stale.is_empty(),
        "ALLOWED entries that match no statement any more: {stale:?}"
    );
}

#[test]
fn the_scan_sees_what_it_must() {
    // The scanner itself: joined continuation lines, spliced consts, comments skipped.
    let src = "const HEAD: &str = \"SELECT a FROM tickets t \\\n    JOIN users u ON u.id = t.x\";\n\
               // \"DELETE FROM tickets\"\n\
               fn f() { let c = '\"'; q(&format!(\"{HEAD} WHERE t.id = $1\")); }\n";
    let lits = literals(src);
    assert_eq!(
        lits[0].1,
        "SELECT a FROM tickets t JOIN users u ON u.id = t.x"
    );
    assert_eq!(lits.len(), 2, "{lits:?}");
    assert_eq!(consts(src)["HEAD"], lits[0].1);
    assert_eq!(
        named_tables(&lits[0].1),
        BTreeSet::from(["tickets".to_string(), "users".to_string()])
    );
    assert!(tenant_tables().contains("ticket_comments"));
}

/// The modules that may ask for the cross-tenant operator handle, each with its reasons (the
/// `why` it passes). Feature modules are not here: they reach data through `db.tenant(scope)`.
const OPERATOR_CALLERS: &[(&str, &[&str])] = &[
    (
        "src/audit/mod.rs",
        &["migration status", "re-keying audit chains at migration"],
    ),
    ("src/auth/cache.rs", &["principal cache invalidation"]),
    ("src/auth/sessions.rs", &["session lookup by token hash"]),
    ("src/auth/throttle.rs", &["sign-in throttle"]),
    ("src/auth/tokens.rs", &["one-time token lookup by its hash"]),
    ("src/demo.rs", &["demo seeding"]),
    (
        "src/documents/verify.rs",
        &["document verify from the command line"],
    ),
    (
        "src/documents/legal.rs",
        &["integration key lookup by its hash"],
    ),
    ("src/events/mod.rs", &["event fan-out"]),
    (
        "src/jobs/mod.rs",
        &[
            "job enqueued by tooling",
            "job worker claims due jobs of every tenant",
            "job worker records an outcome",
            "job worker waits",
        ],
    ),
    ("src/ops/mod.rs", &["readiness probe"]),
    (
        "src/tickets/legacy_files.rs",
        &["storage migrate: every tenant's legacy attachments"],
    ),
    ("src/seed.rs", &["benchmark seeding"]),
    (
        "src/psa/sync.rs",
        &[
            "PSA sync job works for its tenant",
            "PSA sync schedule looks at every tenant",
        ],
    ),
    (
        "src/tickets/inbound.rs",
        &["inbound email: the ticket a signed reply address names"],
    ),
    (
        "src/tickets/sla.rs",
        &["SLA watch: tickets of every tenant nearing a deadline"],
    ),
    (
        "src/tenancy/store.rs",
        &["tenant resolution and operator commands"],
    ),
];

/// Every `.operator("why")` in src/ (outside `db`, which defines it, and the CLI entry point)
/// is in `OPERATOR_CALLERS`: a feature that starts reaching across tenants fails here.
#[test]
fn operator_handle_only_where_allowed() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut unexpected = Vec::new();
    let mut seen = BTreeSet::new();
    for f in files {
        let rel = f
            .strip_prefix(root())
            .expect("under the crate")
            .to_string_lossy()
            .replace('\\', "/");
        if rel.starts_with("src/db/") || rel == "src/main.rs" {
            continue;
        }
        let src = std::fs::read_to_string(&f).expect("read source");
        for (i, part) in src.split(".operator(").enumerate().skip(1) {
            let why = part
                .trim_start()
                .strip_prefix('"')
                .and_then(|p| p.split('"').next())
                .unwrap_or("<not a literal>");
            let allowed = OPERATOR_CALLERS
                .iter()
                .any(|(file, whys)| *file == rel && whys.contains(&why));
            if allowed {
                seen.insert((rel.clone(), why.to_string()));
            } else {
                unexpected.push(format!("{rel} (call {i}): operator({why:?})"));
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "operator handle outside the allow-list (use db.tenant(scope), or add the path to \
         OPERATOR_CALLERS with its reason): {unexpected:#?}"
    );
    // The list stays honest: every entry is still used.
    for (file, whys) in OPERATOR_CALLERS {
        for why in *whys {
            assert!(
                seen.contains(&(file.to_string(), why.to_string())),
                "{file}: operator({why:?}) is listed but no longer used"
            );
        }
    }
}
