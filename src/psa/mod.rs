//! PSA two-way sync: a tenant's tickets, comments, statuses, priorities and assignees flow
//! between Portico and the MSP's PSA; companies and contacts are provisioned from it.
//!
//! - `connector` is the small interface (changes since a cursor, create/update ticket, add
//!   comment, list companies/contacts); `generic` speaks the contract in docs/psa-sync.md,
//!   `alga` speaks Alga PSA's REST API.
//! - Local changes are recorded in `psa_outbox` in the ticket change's own transaction
//!   ([`store::record_change`], called from the ticket service), so none is lost.
//! - `sync` runs one tenant's sync under a per-tenant lease: pull, apply with the conflict
//!   rule, push the outbox, provision. The `psa.sync` job runs it; a watch enqueues it every
//!   interval; a local change and the signed webhook enqueue it at once.
//! - This file holds the pure rules: mappings and the field conflict rule.

pub mod alga;
pub mod connector;
pub mod demo;
pub mod generic;
pub mod provision;
pub mod routes;
pub mod store;
pub mod sync;

use std::collections::BTreeMap;

use crate::tickets::{ALL_PRIORITIES, ALL_STATUSES, Priority, Status};

/// Connector kinds staff can choose.
pub const CONNECTORS: [&str; 2] = ["generic", "alga"];

/// Default minutes between scheduled runs.
pub const DEFAULT_INTERVAL_MINUTES: i64 = 5;

/// Default PSA status name for each Portico status (Alga's default board statuses read the
/// same way).
pub fn default_status_name(s: Status) -> &'static str {
    match s {
        Status::New => "New",
        Status::Open => "In Progress",
        Status::Pending => "Waiting on Client",
        Status::OnHold => "On Hold",
        Status::Resolved => "Resolved",
        Status::Closed => "Closed",
    }
}

/// Default PSA priority name for each Portico priority.
pub fn default_priority_name(p: Priority) -> &'static str {
    match p {
        Priority::Low => "Low",
        Priority::Normal => "Medium",
        Priority::High => "High",
        Priority::Urgent => "Critical",
    }
}

/// The status and priority mappings of a tenant (Portico name → PSA name).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mapping {
    /// Portico status → PSA status name.
    pub status: BTreeMap<String, String>,
    /// Portico priority → PSA priority name.
    pub priority: BTreeMap<String, String>,
}

impl Mapping {
    /// The stored maps with defaults filled in for anything missing.
    pub fn with_defaults(
        status: BTreeMap<String, String>,
        priority: BTreeMap<String, String>,
    ) -> Mapping {
        let mut m = Mapping { status, priority };
        for s in ALL_STATUSES {
            m.status
                .entry(s.as_str().into())
                .or_insert_with(|| default_status_name(s).into());
        }
        for p in ALL_PRIORITIES {
            m.priority
                .entry(p.as_str().into())
                .or_insert_with(|| default_priority_name(p).into());
        }
        m
    }

    /// The PSA's name for a status.
    pub fn status_out(&self, s: Status) -> String {
        self.status
            .get(s.as_str())
            .cloned()
            .unwrap_or_else(|| default_status_name(s).into())
    }

    /// The Portico status for a PSA status name (case-insensitive; Portico's own names are
    /// understood too).
    pub fn status_in(&self, name: &str) -> Option<Status> {
        let n = name.trim();
        ALL_STATUSES
            .into_iter()
            .find(|s| self.status_out(*s).eq_ignore_ascii_case(n))
            .or_else(|| Status::parse(&n.to_ascii_lowercase().replace(' ', "_")))
    }

    /// The PSA's name for a priority.
    pub fn priority_out(&self, p: Priority) -> String {
        self.priority
            .get(p.as_str())
            .cloned()
            .unwrap_or_else(|| default_priority_name(p).into())
    }

    /// The Portico priority for a PSA priority name.
    pub fn priority_in(&self, name: &str) -> Option<Priority> {
        let n = name.trim();
        ALL_PRIORITIES
            .into_iter()
            .find(|p| self.priority_out(*p).eq_ignore_ascii_case(n))
            .or_else(|| Priority::parse(&n.to_ascii_lowercase()))
    }
}

/// A field both sides may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Ticket status.
    Status,
    /// Ticket priority.
    Priority,
    /// Assigned technician.
    Assignee,
}

impl Field {
    /// Stored name (also the outbox's field name).
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Status => "status",
            Field::Priority => "priority",
            Field::Assignee => "assignee",
        }
    }
}

/// Which side's value stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Winner {
    /// The PSA's value is applied here and the local change is not pushed.
    Psa,
    /// The local value stays and is pushed to the PSA.
    Portico,
}

impl Winner {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Winner::Psa => "psa",
            Winner::Portico => "portico",
        }
    }
}

/// The conflict rule when both sides changed `field` since the last sync: the PSA wins status
/// and assignee (technicians work there); the later change wins priority (a tie goes to the
/// PSA, so both sides settle on one value).
pub fn resolve(field: Field, local_changed_at: i64, psa_changed_at: i64) -> Winner {
    match field {
        Field::Status | Field::Assignee => Winner::Psa,
        Field::Priority if local_changed_at > psa_changed_at => Winner::Portico,
        Field::Priority => Winner::Psa,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_psa_wins_status_and_assignee_and_the_later_change_wins_priority() {
        assert_eq!(resolve(Field::Status, 20, 10), Winner::Psa);
        assert_eq!(resolve(Field::Assignee, 20, 10), Winner::Psa);
        assert_eq!(resolve(Field::Priority, 20, 10), Winner::Portico);
        assert_eq!(resolve(Field::Priority, 10, 20), Winner::Psa);
        assert_eq!(resolve(Field::Priority, 10, 10), Winner::Psa);
    }

    #[test]
    fn mappings_round_trip_and_read_portico_names() {
        let m = Mapping::with_defaults(BTreeMap::new(), BTreeMap::new());
        for s in ALL_STATUSES {
            assert_eq!(m.status_in(&m.status_out(s)), Some(s));
        }
        for p in ALL_PRIORITIES {
            assert_eq!(m.priority_in(&m.priority_out(p)), Some(p));
        }
        assert_eq!(m.status_in("on_hold"), Some(Status::OnHold));
        assert_eq!(m.status_in("in progress"), Some(Status::Open));
        assert_eq!(m.status_in("Nonsense"), None);
    }
}
