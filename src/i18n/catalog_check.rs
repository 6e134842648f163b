//! The catalog test: both catalogs have the same keys, every message formats, and every key
//! the code or a template uses exists in both. A string added without a translation fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{LOCALES, Locale, Translator, key_for};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, exts, out);
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| exts.contains(&x))
        {
            out.push(p);
        }
    }
}

/// Message ids defined in one locale's `.ftl` files.
fn catalog_keys(locale: Locale) -> BTreeSet<String> {
    let mut ftl = Vec::new();
    files(
        &root().join("src/i18n/locales").join(locale.code()),
        &["ftl"],
        &mut ftl,
    );
    assert!(!ftl.is_empty(), "no catalog for {}", locale.code());
    let mut keys = BTreeSet::new();
    for f in ftl {
        let text = std::fs::read_to_string(&f).expect("read catalog");
        for line in text.lines() {
            let Some((k, _)) = line.split_once('=') else {
                continue;
            };
            let k = k.trim_end();
            if !k.is_empty()
                && !line.starts_with([' ', '#', '*', '['])
                && k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                assert!(
                    keys.insert(k.to_string()),
                    "{k} defined twice in {}",
                    locale.code()
                );
            }
        }
    }
    keys
}

/// Keys written as literals in calls the code uses to translate.
fn used_keys() -> BTreeSet<(String, String)> {
    const CALLS: &[&str] = &["t.get(\"", "t.arg(\"", "t.args(\"", "t.count(\"", "k(\""];
    let mut src = Vec::new();
    files(&root().join("src"), &["rs", "html"], &mut src);
    let mut used = BTreeSet::new();
    for f in src {
        if f.ends_with("i18n/mod.rs") || f.ends_with("i18n/catalog_check.rs") {
            continue; // examples in docs and tests
        }
        let text = std::fs::read_to_string(&f).expect("read source");
        for call in CALLS {
            for (at, _) in text.match_indices(call) {
                // `errors.get("…")` or `list.get("…")` are not translations.
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &text[at + call.len()..];
                if let Some(end) = rest.find('"') {
                    used.insert((rest[..end].to_string(), f.display().to_string()));
                }
            }
        }
    }
    used
}

#[test]
fn both_catalogs_have_the_same_keys_and_every_message_formats() {
    let en = catalog_keys(Locale::En);
    for &l in LOCALES {
        let keys = catalog_keys(l);
        let missing: Vec<_> = en.difference(&keys).collect();
        let extra: Vec<_> = keys.difference(&en).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{}: missing {missing:?}, not in en {extra:?}",
            l.code()
        );
        let t = Translator::new(l);
        for k in &keys {
            assert!(t.has(k), "{k} does not format in {}", l.code());
        }
    }
}

#[test]
fn every_key_the_code_uses_is_in_every_catalog() {
    let used = used_keys();
    assert!(
        used.len() > 50,
        "the scan found too few keys: {}",
        used.len()
    );
    for &l in LOCALES {
        let keys = catalog_keys(l);
        let missing: Vec<_> = used.iter().filter(|(k, _)| !keys.contains(k)).collect();
        assert!(missing.is_empty(), "{}: missing {missing:?}", l.code());
    }
}

#[test]
fn keys_derived_from_rust_tables_exist() {
    let mut derived = Vec::new();
    for d in crate::web::REGISTRY {
        derived.push(key_for("nav", d.label));
        derived.extend(d.blurb.map(str::to_string));
    }
    for r in crate::auth::ALL_ROLES {
        derived.push(key_for("role", r.label()));
        derived.push(key_for(
            "role",
            r.label_in(crate::tenancy::OrgType::Mission),
        ));
    }
    for c in crate::tickets::CATEGORIES {
        derived.push(key_for("ticket-category", c));
    }
    for &l in LOCALES {
        let t = Translator::new(l);
        for k in &derived {
            assert!(t.has(k), "{k} missing in {}", l.code());
        }
    }
}

#[test]
fn english_message_ids_are_plain_single_lines() {
    // `Translator::msg` finds these by their English text, which needs one line each.
    for line in super::ENGLISH_MESSAGES.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        assert!(
            line.contains(" = ") && !line.contains('{'),
            "messages.ftl: {line}"
        );
    }
    let es = Translator::new(Locale::Es);
    assert_eq!(
        es.msg("We could not find that page or record."),
        "No encontramos esa página o registro."
    );
}
