-- Staff workflow: staff notification preferences, SLA warnings sent once, saved queue views,
-- and the inbound replies already taken (a redelivered message adds no second comment).
ALTER TABLE notification_prefs ADD COLUMN new_tickets BIGINT NOT NULL DEFAULT 1;
ALTER TABLE notification_prefs ADD COLUMN sla_warnings BIGINT NOT NULL DEFAULT 1;

-- When the "about to breach" email went out for each deadline (NULL: not yet).
ALTER TABLE tickets ADD COLUMN sla_first_warned_at BIGINT;
ALTER TABLE tickets ADD COLUMN sla_resolution_warned_at BIGINT;

CREATE TABLE saved_views (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, user_id, name),
    CONSTRAINT saved_views_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);

CREATE TABLE inbound_messages (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    message_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, message_id),
    CONSTRAINT inbound_messages_ticket_fk FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
