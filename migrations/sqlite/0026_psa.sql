-- PSA two-way sync: per-tenant settings with the sync lease and status, the pending-changes
-- outbox written in the ticket change's own transaction, links between local rows and PSA
-- records, and recorded field conflicts. Keep in step with postgres.
CREATE TABLE psa_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    connector TEXT NOT NULL,
    base_url TEXT NOT NULL,
    api_key_sealed TEXT,
    webhook_secret_sealed TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    interval_minutes INTEGER NOT NULL DEFAULT 5,
    companies TEXT NOT NULL DEFAULT '[]',
    status_map TEXT NOT NULL DEFAULT '{}',
    priority_map TEXT NOT NULL DEFAULT '{}',
    sync_cursor TEXT,
    lease_owner TEXT,
    lease_until INTEGER,
    last_run_at INTEGER,
    last_success_at INTEGER,
    last_error TEXT,
    updated_at INTEGER NOT NULL
);
CREATE TABLE psa_outbox (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    ticket_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    comment_id TEXT,
    fields TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    done_at INTEGER
);
CREATE INDEX psa_outbox_pending ON psa_outbox (tenant_id, status, created_at, id);
CREATE TABLE psa_links (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    local_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    base_status TEXT,
    base_priority TEXT,
    base_assignee TEXT,
    missing_at INTEGER,
    synced_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kind, local_id),
    CONSTRAINT psa_links_external UNIQUE (tenant_id, kind, external_id)
);
CREATE TABLE psa_conflicts (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    ticket_id TEXT NOT NULL,
    field TEXT NOT NULL,
    local_value TEXT,
    psa_value TEXT,
    winner TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX psa_conflicts_ticket ON psa_conflicts (tenant_id, ticket_id, at);
-- One row per finished sync run (the last 100 per tenant are kept): the history staff see.
CREATE TABLE psa_runs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    started_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    pulled INTEGER NOT NULL DEFAULT 0,
    pushed INTEGER NOT NULL DEFAULT 0,
    conflicts INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX psa_runs_recent ON psa_runs (tenant_id, started_at);
