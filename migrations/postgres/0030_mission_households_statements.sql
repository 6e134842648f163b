-- Households managed by staff: each member's choice to share giving statements with their
-- household; year-end statement runs for all givers, with one row per giver so a restarted run
-- never mails anyone twice. Keep in step with sqlite.
ALTER TABLE mission_members ADD COLUMN share_statements BIGINT NOT NULL DEFAULT 0;
CREATE INDEX mission_members_household ON mission_members (tenant_id, household_id);
CREATE TABLE mission_statement_runs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    year BIGINT NOT NULL,
    delivery TEXT NOT NULL,
    status TEXT NOT NULL,
    total BIGINT NOT NULL DEFAULT 0,
    done BIGINT NOT NULL DEFAULT 0,
    archive_key TEXT,
    last_error TEXT,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    CONSTRAINT mission_statement_runs_tenant_id UNIQUE (tenant_id, id)
);
CREATE TABLE mission_statement_givers (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    run_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    queued_at BIGINT,
    done_at BIGINT,
    PRIMARY KEY (tenant_id, run_id, member_id),
    CONSTRAINT mission_statement_givers_run_fk FOREIGN KEY (tenant_id, run_id) REFERENCES mission_statement_runs (tenant_id, id),
    CONSTRAINT mission_statement_givers_member_fk FOREIGN KEY (tenant_id, member_id) REFERENCES users (tenant_id, id)
);
