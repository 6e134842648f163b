//! Document center: policies staff send for signature and the three-step signing workflow
//! (read → acknowledge → confirm) that the server enforces per signature request. This file
//! holds the pure rules; `store` the SQL, `service` the one-transaction actions, `routes` the
//! portal side, `admin` the staff side.

pub mod admin;
pub mod demo;
pub mod legal;
pub mod legal_routes;
pub mod pdf;
pub mod reminders;
pub mod routes;
pub mod service;
pub mod shared;
pub mod shared_demo;
pub mod shared_routes;
pub mod store;
pub mod verify;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Where a signature request stands. Each step moves it exactly one place forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Waiting for the signer to read the document to its end.
    Pending,
    /// Read to the end; waiting for the acknowledgement.
    Read,
    /// Acknowledged; waiting for the typed name.
    Acknowledged,
    /// Signed (immutable from here on).
    Signed,
    /// Withdrawn by staff before it was signed.
    Cancelled,
    /// Replaced by a newer version of the policy before it was signed.
    Superseded,
}

impl Step {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Pending => "pending",
            Step::Read => "read",
            Step::Acknowledged => "acknowledged",
            Step::Signed => "signed",
            Step::Cancelled => "cancelled",
            Step::Superseded => "superseded",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Step> {
        Some(match s {
            "pending" => Step::Pending,
            "read" => Step::Read,
            "acknowledged" => Step::Acknowledged,
            "signed" => Step::Signed,
            "cancelled" => Step::Cancelled,
            "superseded" => Step::Superseded,
            _ => return None,
        })
    }

    /// Still waiting for the signer.
    pub fn is_open(self) -> bool {
        matches!(self, Step::Pending | Step::Read | Step::Acknowledged)
    }

    /// Catalog key of the label.
    pub fn label_key(self) -> &'static str {
        match self {
            Step::Pending | Step::Read | Step::Acknowledged => "documents-state-pending",
            Step::Signed => "documents-state-signed",
            Step::Cancelled => "documents-state-cancelled",
            Step::Superseded => "documents-state-superseded",
        }
    }
}

/// The SHA-256 (hex) of the exact text a signer is shown: title, version and body, each on
/// its own line, so a change to any of them is a different document.
pub fn content_hash(title: &str, version: &str, body: &str) -> String {
    hex::encode(Sha256::digest(canonical(title, version, body).as_bytes()))
}

/// The text the content hash covers.
pub fn canonical(title: &str, version: &str, body: &str) -> String {
    format!("{title}\n{version}\n{body}")
}

/// A name compared the way the Confirm step does: case folded, runs of spaces collapsed.
pub fn normalise_name(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether the typed name matches the account name (case and extra spaces ignored).
pub fn names_match(typed: &str, account: &str) -> bool {
    let t = normalise_name(typed);
    !t.is_empty() && t == normalise_name(account)
}

/// Parses a reminder schedule ("7, 3, 1": days before the due date) into sorted, distinct
/// day counts; `None` when it is not such a list.
pub fn parse_reminders(s: &str) -> Option<Vec<i64>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let d: i64 = part.parse().ok()?;
        if !(0..=365).contains(&d) {
            return None;
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    Some(out)
}

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// Catalog key of a policy status.
pub fn policy_status_key(status: &str) -> &'static str {
    match status {
        "active" => "documents-policy-active",
        "cancelled" => "documents-policy-cancelled",
        _ => "documents-policy-superseded",
    }
}

/// Catalog key naming the step an open request waits at.
pub fn step_key(s: &Step) -> &'static str {
    match *s {
        Step::Pending => "documents-waiting-read",
        Step::Read => "documents-waiting-acknowledge",
        Step::Acknowledged => "documents-waiting-confirm",
        other => other.label_key(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_ignoring_case_and_spaces() {
        assert!(names_match("  alice   ADMIN ", "Alice Admin"));
        assert!(!names_match("Alice", "Alice Admin"));
        assert!(!names_match("   ", ""));
    }

    #[test]
    fn reminder_schedules_parse() {
        assert_eq!(parse_reminders("1, 7,3,7"), Some(vec![7, 3, 1]));
        assert_eq!(parse_reminders(""), Some(vec![]));
        assert_eq!(parse_reminders("soon"), None);
        assert_eq!(parse_reminders("-1"), None);
    }

    #[test]
    fn the_hash_covers_title_version_and_body() {
        let a = content_hash("T", "1", "B");
        assert_ne!(a, content_hash("T", "2", "B"));
        assert_ne!(a, content_hash("T", "1", "B "));
        assert_eq!(a.len(), 64);
    }
}
