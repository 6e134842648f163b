-- Composite foreign keys (SQLite): a row may only reference rows of its own tenant, so a
-- cross-tenant reference is refused by the database itself, whatever the code does. Keep in
-- step with migrations/postgres: a test compares the columns.
--
-- SQLite cannot add a foreign key to a table: each table is rebuilt. sqlx runs this file in a
-- transaction with `foreign_keys` on, where the pragma cannot be switched off, and dropping a
-- parent table while child rows still name it counts as a violation. So the order is:
--   1. rename the old tables aside (renaming rewrites the children's references to the *_old
--      names, so the old tables keep pointing at each other);
--   2. create the new tables under the real names, copy the rows parents first;
--   3. check every copied row against the new keys, with a readable error when one fails;
--   4. drop the old tables children first (nothing names them any more), recreate the indexes.
-- Violations are deferred to step 3 so that one failing row names the problem instead of
-- stopping the copy with a bare "FOREIGN KEY constraint failed".
PRAGMA defer_foreign_keys = ON;

-- Parents: (tenant_id, id) must be unique to be referenced.
CREATE UNIQUE INDEX companies_tenant_id ON companies (tenant_id, id);

ALTER TABLE users RENAME TO users_old;
ALTER TABLE sessions RENAME TO sessions_old;
ALTER TABLE one_time_tokens RENAME TO one_time_tokens_old;
ALTER TABLE tickets RENAME TO tickets_old;
ALTER TABLE ticket_cc RENAME TO ticket_cc_old;
ALTER TABLE ticket_comments RENAME TO ticket_comments_old;
ALTER TABLE ticket_status_history RENAME TO ticket_status_history_old;
ALTER TABLE ticket_attachments RENAME TO ticket_attachments_old;
ALTER TABLE notification_prefs RENAME TO notification_prefs_old;
ALTER TABLE mfa_recovery_codes RENAME TO mfa_recovery_codes_old;
ALTER TABLE ticket_reads RENAME TO ticket_reads_old;

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    company_id TEXT,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    password_hash TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_login_at INTEGER,
    phone TEXT,
    job_title TEXT,
    time_zone TEXT,
    language TEXT,
    mfa_secret TEXT,
    mfa_pending_secret TEXT,
    mfa_enabled_at INTEGER,
    mfa_last_step INTEGER,
    CONSTRAINT users_tenant_id UNIQUE (tenant_id, id),
    CONSTRAINT users_company_fk FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id)
);
INSERT INTO users (id, tenant_id, kind, company_id, email, name, role, status, password_hash,
    created_at, updated_at, last_login_at, phone, job_title, time_zone, language, mfa_secret,
    mfa_pending_secret, mfa_enabled_at, mfa_last_step)
SELECT id, tenant_id, kind, company_id, email, name, role, status, password_hash,
    created_at, updated_at, last_login_at, phone, job_title, time_zone, language, mfa_secret,
    mfa_pending_secret, mfa_enabled_at, mfa_last_step
FROM users_old;

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL,
    audience TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    CONSTRAINT sessions_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
INSERT INTO sessions (token_hash, tenant_id, user_id, audience, created_at, last_seen_at, expires_at)
SELECT token_hash, tenant_id, user_id, audience, created_at, last_seen_at, expires_at
FROM sessions_old;

CREATE TABLE one_time_tokens (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    CONSTRAINT one_time_tokens_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
INSERT INTO one_time_tokens (token_hash, tenant_id, user_id, purpose, created_at, expires_at, used_at)
SELECT token_hash, tenant_id, user_id, purpose, created_at, expires_at, used_at
FROM one_time_tokens_old;

CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    number INTEGER NOT NULL,
    company_id TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    assignee_id TEXT,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    description_html TEXT NOT NULL,
    priority TEXT NOT NULL,
    priority_rank INTEGER NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    first_response_due_at INTEGER,
    resolution_due_at INTEGER,
    first_responded_at INTEGER,
    resolved_at INTEGER,
    closed_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT tickets_tenant_id UNIQUE (tenant_id, id),
    CONSTRAINT tickets_company_fk FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id),
    CONSTRAINT tickets_requester_fk FOREIGN KEY (tenant_id, requester_id) REFERENCES users (tenant_id, id),
    CONSTRAINT tickets_assignee_fk FOREIGN KEY (tenant_id, assignee_id) REFERENCES users (tenant_id, id)
);
INSERT INTO tickets (id, tenant_id, number, company_id, requester_id, assignee_id, subject,
    description, description_html, priority, priority_rank, category, status,
    first_response_due_at, resolution_due_at, first_responded_at, resolved_at, closed_at,
    created_at, updated_at)
SELECT id, tenant_id, number, company_id, requester_id, assignee_id, subject,
    description, description_html, priority, priority_rank, category, status,
    first_response_due_at, resolution_due_at, first_responded_at, resolved_at, closed_at,
    created_at, updated_at
FROM tickets_old;

CREATE TABLE ticket_cc (
    ticket_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    PRIMARY KEY (ticket_id, user_id),
    CONSTRAINT ticket_cc_ticket_fk FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    CONSTRAINT ticket_cc_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
INSERT INTO ticket_cc (ticket_id, user_id, tenant_id)
SELECT ticket_id, user_id, tenant_id FROM ticket_cc_old;

CREATE TABLE ticket_comments (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    ticket_id TEXT NOT NULL,
    author_id TEXT NOT NULL,
    body TEXT NOT NULL,
    body_html TEXT NOT NULL,
    internal INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT ticket_comments_tenant_id UNIQUE (tenant_id, id),
    CONSTRAINT ticket_comments_ticket_fk FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    CONSTRAINT ticket_comments_author_fk FOREIGN KEY (tenant_id, author_id) REFERENCES users (tenant_id, id)
);
INSERT INTO ticket_comments (id, tenant_id, ticket_id, author_id, body, body_html, internal, created_at)
SELECT id, tenant_id, ticket_id, author_id, body, body_html, internal, created_at
FROM ticket_comments_old;

CREATE TABLE ticket_status_history (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    ticket_id TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor_id TEXT,
    reason TEXT,
    at INTEGER NOT NULL,
    CONSTRAINT ticket_status_history_ticket_fk FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    CONSTRAINT ticket_status_history_actor_fk FOREIGN KEY (tenant_id, actor_id) REFERENCES users (tenant_id, id)
);
INSERT INTO ticket_status_history (id, tenant_id, ticket_id, from_status, to_status, actor_id, reason, at)
SELECT id, tenant_id, ticket_id, from_status, to_status, actor_id, reason, at
FROM ticket_status_history_old;

CREATE TABLE ticket_attachments (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    ticket_id TEXT NOT NULL,
    comment_id TEXT,
    internal INTEGER NOT NULL,
    uploader_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT ticket_attachments_ticket_fk FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    CONSTRAINT ticket_attachments_comment_fk FOREIGN KEY (tenant_id, comment_id) REFERENCES ticket_comments (tenant_id, id),
    CONSTRAINT ticket_attachments_uploader_fk FOREIGN KEY (tenant_id, uploader_id) REFERENCES users (tenant_id, id)
);
INSERT INTO ticket_attachments (id, tenant_id, ticket_id, comment_id, internal, uploader_id,
    filename, content_type, size, created_at)
SELECT id, tenant_id, ticket_id, comment_id, internal, uploader_id,
    filename, content_type, size, created_at
FROM ticket_attachments_old;

CREATE TABLE notification_prefs (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL,
    ticket_replies INTEGER NOT NULL,
    status_changes INTEGER NOT NULL,
    announcements INTEGER NOT NULL,
    signature_requests INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    CONSTRAINT notification_prefs_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
INSERT INTO notification_prefs (tenant_id, user_id, ticket_replies, status_changes, announcements,
    signature_requests, updated_at)
SELECT tenant_id, user_id, ticket_replies, status_changes, announcements,
    signature_requests, updated_at
FROM notification_prefs_old;

CREATE TABLE mfa_recovery_codes (
    code_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at INTEGER,
    CONSTRAINT mfa_recovery_codes_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
INSERT INTO mfa_recovery_codes (code_hash, tenant_id, user_id, created_at, used_at)
SELECT code_hash, tenant_id, user_id, created_at, used_at FROM mfa_recovery_codes_old;

CREATE TABLE ticket_reads (
    user_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, ticket_id),
    CONSTRAINT ticket_reads_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
    CONSTRAINT ticket_reads_ticket_fk FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
INSERT INTO ticket_reads (user_id, ticket_id, tenant_id, seen_at)
SELECT user_id, ticket_id, tenant_id, seen_at FROM ticket_reads_old;

-- Existing rows that reference another tenant's row (or a missing one) stop the upgrade here,
-- with this constraint's name as the message; docs/security.md says how to find them.
CREATE TEMP TABLE migration_0008_check (
    violations INTEGER CONSTRAINT "0008: rows reference another tenant; run PRAGMA foreign_key_check" CHECK (violations = 0)
);
INSERT INTO migration_0008_check
SELECT COUNT(*) FROM pragma_foreign_key_check
WHERE "table" IN ('users', 'sessions', 'one_time_tokens', 'tickets', 'ticket_cc',
    'ticket_comments', 'ticket_status_history', 'ticket_attachments', 'notification_prefs',
    'mfa_recovery_codes', 'ticket_reads');
DROP TABLE migration_0008_check;

-- Children first: once a table is dropped, nothing names the tables it referenced.
DROP TABLE ticket_reads_old;
DROP TABLE mfa_recovery_codes_old;
DROP TABLE notification_prefs_old;
DROP TABLE ticket_attachments_old;
DROP TABLE ticket_status_history_old;
DROP TABLE ticket_comments_old;
DROP TABLE ticket_cc_old;
DROP TABLE tickets_old;
DROP TABLE one_time_tokens_old;
DROP TABLE sessions_old;
DROP TABLE users_old;

-- Every index the old tables had (0001, 0003, 0005, 0007).
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, email);
CREATE INDEX users_tenant_company ON users (tenant_id, company_id, email);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose);
CREATE UNIQUE INDEX tickets_tenant_number ON tickets (tenant_id, number);
CREATE INDEX tickets_company_updated ON tickets (tenant_id, company_id, updated_at, id);
CREATE INDEX tickets_requester_updated ON tickets (tenant_id, requester_id, updated_at, id);
CREATE INDEX tickets_status_updated ON tickets (tenant_id, status, updated_at, id);
CREATE INDEX tickets_assignee_updated ON tickets (tenant_id, assignee_id, updated_at, id);
CREATE INDEX tickets_open_updated ON tickets (tenant_id, updated_at, id)
    WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX tickets_tenant_updated ON tickets (tenant_id, updated_at, id);
CREATE INDEX ticket_cc_user ON ticket_cc (tenant_id, user_id);
CREATE INDEX ticket_comments_ticket ON ticket_comments (tenant_id, ticket_id, created_at);
CREATE INDEX ticket_status_history_ticket ON ticket_status_history (tenant_id, ticket_id, at);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments (tenant_id, ticket_id, created_at);
CREATE INDEX mfa_recovery_codes_user ON mfa_recovery_codes (tenant_id, user_id);
