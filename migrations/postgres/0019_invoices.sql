-- Invoices and payments. Keep in step with migrations/sqlite: a test compares them.
-- Money is integer minor units (cents) beside a currency code; quantities are integer
-- thousandths (1.5 hours = 1500); tax rates are basis points (8.25 % = 825).

-- Per-tenant billing settings: currency, which client roles beyond the company admin may see
-- invoices, reminder emails, and the payment provider (keys sealed with the server key).
CREATE TABLE billing_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    currency TEXT NOT NULL,
    viewer_roles TEXT NOT NULL,
    overdue_reminders BIGINT NOT NULL,
    provider_base_url TEXT,
    provider_secret_sealed TEXT,
    webhook_secret_sealed TEXT,
    updated_at BIGINT NOT NULL
);

CREATE TABLE invoice_counters (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    last_number BIGINT NOT NULL
);

CREATE TABLE tax_rates (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    rate_bp BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX tax_rates_tenant_name ON tax_rates (tenant_id, name);
CREATE UNIQUE INDEX tax_rates_tenant_id ON tax_rates (tenant_id, id);

CREATE TABLE invoices (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    number BIGINT NOT NULL,
    company_id TEXT NOT NULL,
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    issue_date TEXT NOT NULL,
    due_date TEXT NOT NULL,
    notes TEXT NOT NULL,
    external_id TEXT,
    void_reason TEXT,
    subtotal BIGINT NOT NULL,
    tax_total BIGINT NOT NULL,
    total BIGINT NOT NULL,
    paid BIGINT NOT NULL,
    sent_at BIGINT,
    paid_at BIGINT,
    voided_at BIGINT,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id)
);
CREATE UNIQUE INDEX invoices_tenant_number ON invoices (tenant_id, number);
CREATE UNIQUE INDEX invoices_tenant_id ON invoices (tenant_id, id);
CREATE UNIQUE INDEX invoices_tenant_external ON invoices (tenant_id, external_id);
CREATE INDEX invoices_company_issue ON invoices (tenant_id, company_id, issue_date, number);
CREATE INDEX invoices_status_due ON invoices (tenant_id, status, due_date);

CREATE TABLE invoice_lines (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    invoice_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    description TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL,
    unit_price BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    tax_name TEXT,
    tax_rate_bp BIGINT,
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (tenant_id, invoice_id, position);

-- One row per payment received; provider_ref (the checkout session id) is unique per tenant
-- so a replayed or duplicated webhook can never record the same payment twice.
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    invoice_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    method TEXT NOT NULL,
    provider_ref TEXT,
    note TEXT NOT NULL,
    recorded_by TEXT,
    received_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id),
    FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id)
);
CREATE UNIQUE INDEX payments_tenant_provider_ref ON payments (tenant_id, provider_ref);
CREATE INDEX payments_invoice ON payments (tenant_id, invoice_id, received_at);

-- Hosted checkouts started from "Pay now", so the return page can tell what happened.
CREATE TABLE checkout_sessions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    invoice_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);
CREATE INDEX checkout_sessions_invoice ON checkout_sessions (tenant_id, invoice_id);
