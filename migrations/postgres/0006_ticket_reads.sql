-- When each user last opened each ticket, for the "unseen updates" badge. Keep in step with sqlite.
CREATE TABLE ticket_reads (
    user_id TEXT NOT NULL REFERENCES users(id),
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, ticket_id)
);
