-- Online giving in the Mission portal: one-time gifts paid through the tenant's payment
-- provider (recorded once per provider id), each member's provider customer for saved cards,
-- recurring gift schedules and one claim row per charged occurrence. Keep in step with sqlite.
ALTER TABLE mission_gifts ADD COLUMN provider_ref TEXT;
CREATE UNIQUE INDEX mission_gifts_provider_ref ON mission_gifts (tenant_id, provider_ref);
CREATE TABLE mission_checkouts (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    fund_id TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT mission_checkouts_member_fk FOREIGN KEY (tenant_id, member_id) REFERENCES users (tenant_id, id),
    CONSTRAINT mission_checkouts_fund_fk FOREIGN KEY (tenant_id, fund_id) REFERENCES mission_funds (tenant_id, id)
);
CREATE TABLE mission_giver_accounts (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    member_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, member_id),
    CONSTRAINT mission_giver_accounts_member_fk FOREIGN KEY (tenant_id, member_id) REFERENCES users (tenant_id, id)
);
CREATE TABLE mission_recurring (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    member_id TEXT NOT NULL,
    fund_id TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    frequency TEXT NOT NULL,
    start_on TEXT NOT NULL,
    next_on TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    last_error TEXT,
    last_error_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT mission_recurring_tenant_id UNIQUE (tenant_id, id),
    CONSTRAINT mission_recurring_member_fk FOREIGN KEY (tenant_id, member_id) REFERENCES users (tenant_id, id),
    CONSTRAINT mission_recurring_fund_fk FOREIGN KEY (tenant_id, fund_id) REFERENCES mission_funds (tenant_id, id)
);
CREATE INDEX mission_recurring_due ON mission_recurring (tenant_id, status, next_on);
CREATE INDEX mission_recurring_member ON mission_recurring (tenant_id, member_id);
CREATE TABLE mission_recurring_charges (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    schedule_id TEXT NOT NULL,
    due_on TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    intent_id TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT mission_recurring_charges_once UNIQUE (tenant_id, schedule_id, due_on),
    CONSTRAINT mission_recurring_charges_schedule_fk FOREIGN KEY (tenant_id, schedule_id) REFERENCES mission_recurring (tenant_id, id)
);
