-- Tickets (PostgreSQL). Keep in step with migrations/sqlite: a test compares them.
CREATE TABLE ticket_counters (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    last_number BIGINT NOT NULL
);

CREATE TABLE sla_policies (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    priority TEXT NOT NULL,
    first_response_minutes BIGINT NOT NULL,
    resolution_minutes BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, priority)
);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    number BIGINT NOT NULL,
    company_id TEXT NOT NULL REFERENCES companies(id),
    requester_id TEXT NOT NULL REFERENCES users(id),
    assignee_id TEXT REFERENCES users(id),
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    description_html TEXT NOT NULL,
    priority TEXT NOT NULL,
    priority_rank BIGINT NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    first_response_due_at BIGINT,
    resolution_due_at BIGINT,
    first_responded_at BIGINT,
    resolved_at BIGINT,
    closed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX tickets_tenant_number ON tickets (tenant_id, number);
CREATE INDEX tickets_company_updated ON tickets (tenant_id, company_id, updated_at, id);
CREATE INDEX tickets_requester_updated ON tickets (tenant_id, requester_id, updated_at, id);
CREATE INDEX tickets_status_updated ON tickets (tenant_id, status, updated_at, id);
CREATE INDEX tickets_assignee_updated ON tickets (tenant_id, assignee_id, updated_at, id);

CREATE TABLE ticket_cc (
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    PRIMARY KEY (ticket_id, user_id)
);
CREATE INDEX ticket_cc_user ON ticket_cc (tenant_id, user_id);

CREATE TABLE ticket_comments (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    author_id TEXT NOT NULL REFERENCES users(id),
    body TEXT NOT NULL,
    body_html TEXT NOT NULL,
    internal BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (tenant_id, ticket_id, created_at);

CREATE TABLE ticket_status_history (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor_id TEXT REFERENCES users(id),
    reason TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX ticket_status_history_ticket ON ticket_status_history (tenant_id, ticket_id, at);

CREATE TABLE ticket_attachments (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    comment_id TEXT REFERENCES ticket_comments(id),
    internal BIGINT NOT NULL,
    uploader_id TEXT NOT NULL REFERENCES users(id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments (tenant_id, ticket_id, created_at);
