-- Document center: policies to sign and the signature requests each signer works through
-- (read → acknowledge → confirm). A request belongs to one signer; a new policy version is a
-- new policy row, so a signed record is never rewritten.
CREATE TABLE doc_policies (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    version TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    due_at INTEGER,
    reminder_days TEXT NOT NULL DEFAULT '',
    include_future INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    external_id TEXT,
    callback_url TEXT,
    supersedes_id TEXT,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX doc_policies_created ON doc_policies (tenant_id, created_at);
CREATE UNIQUE INDEX doc_policies_external ON doc_policies (tenant_id, external_id, version);

-- Companies whose active users sign; with include_future, users added later sign too.
CREATE TABLE doc_policy_companies (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    policy_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, policy_id, company_id),
    CONSTRAINT doc_policy_companies_policy_fk FOREIGN KEY (tenant_id, policy_id) REFERENCES doc_policies (tenant_id, id),
    CONSTRAINT doc_policy_companies_company_fk FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id)
);

CREATE TABLE doc_signatures (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    policy_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    reminded_at INTEGER,
    reminders_sent INTEGER NOT NULL DEFAULT 0,
    read_at INTEGER,
    read_ip TEXT,
    read_ua TEXT,
    acknowledged_at INTEGER,
    ack_ip TEXT,
    ack_ua TEXT,
    signed_at INTEGER,
    signed_ip TEXT,
    signed_ua TEXT,
    typed_name TEXT,
    signer_name TEXT,
    signer_email TEXT,
    version TEXT,
    content_hash TEXT,
    pdf_sha256 TEXT,
    pdf_key TEXT,
    closed_at INTEGER,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, policy_id, user_id),
    CONSTRAINT doc_signatures_policy_fk FOREIGN KEY (tenant_id, policy_id) REFERENCES doc_policies (tenant_id, id),
    CONSTRAINT doc_signatures_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX doc_signatures_user ON doc_signatures (tenant_id, user_id, state);
