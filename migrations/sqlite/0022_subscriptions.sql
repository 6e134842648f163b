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

-- The company's account at the payment provider: its Customer (saved cards live there, never
-- here) and the autopay choice (the saved method new invoices are charged to, NULL = off).
CREATE TABLE billing_accounts (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    company_id TEXT NOT NULL,
    customer_id TEXT,
    autopay_method_id TEXT,
    autopay_label TEXT,
    updated_by TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, company_id),
    FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id)
);
CREATE UNIQUE INDEX billing_accounts_customer ON billing_accounts (tenant_id, customer_id);

-- One automatic charge per sent invoice: pending until the provider answers, then charged or
-- failed (with the provider's message, shown to the client). The payment itself is recorded by
-- the provider's webhook, like a checkout.
CREATE TABLE autopay_attempts (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    company_id TEXT NOT NULL,
    invoice_id TEXT NOT NULL,
    payment_method_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    status TEXT NOT NULL,
    intent_id TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id)
);
CREATE UNIQUE INDEX autopay_attempts_invoice ON autopay_attempts (tenant_id, invoice_id);
CREATE INDEX autopay_attempts_company ON autopay_attempts (tenant_id, company_id, status, created_at);
