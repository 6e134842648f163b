-- Subscriptions of client companies (billing). Keep in step with migrations/postgres: a test
-- compares them. Money is integer minor units; quantities are integer thousandths like invoice
-- lines; external_id keeps the PSA's id for imports.
CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    company_id TEXT NOT NULL,
    name TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL,
    unit_price BIGINT NOT NULL,
    currency TEXT NOT NULL,
    cycle TEXT NOT NULL,
    next_billing_date TEXT NOT NULL,
    status TEXT NOT NULL,
    external_id TEXT,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id)
);
CREATE UNIQUE INDEX subscriptions_tenant_id ON subscriptions (tenant_id, id);
CREATE UNIQUE INDEX subscriptions_tenant_external ON subscriptions (tenant_id, external_id);
CREATE INDEX subscriptions_company ON subscriptions (tenant_id, company_id, status, next_billing_date);
