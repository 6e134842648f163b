-- Shared files: staff share a file with every client, one company or one user. Replacing it
-- adds a version (the history stays); withdrawing hides it (and its versions) from clients.
CREATE TABLE doc_files (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    audience TEXT NOT NULL,
    company_id TEXT,
    user_id TEXT,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    withdrawn_at BIGINT,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT doc_files_company_fk FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id),
    CONSTRAINT doc_files_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX doc_files_updated ON doc_files (tenant_id, updated_at);

CREATE TABLE doc_file_versions (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    file_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, file_id, version),
    CONSTRAINT doc_file_versions_file_fk FOREIGN KEY (tenant_id, file_id) REFERENCES doc_files (tenant_id, id)
);

-- Legal integration keys: only the SHA-256 of the secret is kept; `prefix` names a key to staff.
CREATE TABLE doc_legal_keys (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX doc_legal_keys_hash ON doc_legal_keys (key_hash);

-- A policy body may be an uploaded PDF instead of Markdown.
ALTER TABLE doc_policies ADD COLUMN pdf_key TEXT;
ALTER TABLE doc_policies ADD COLUMN pdf_sha256 TEXT;

-- One automatic reminder per signature request and day.
CREATE TABLE doc_reminders_sent (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    signature_id TEXT NOT NULL,
    day TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, signature_id, day)
);
