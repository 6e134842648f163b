-- The Mission portal's built-in store: settings, funds and gifts, member directory choices and
-- households, the prayer wall. Keep in step with sqlite (same tables, columns and keys).
CREATE TABLE mission_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    source TEXT NOT NULL DEFAULT 'builtin',
    currency TEXT NOT NULL DEFAULT 'USD',
    org_address TEXT NOT NULL DEFAULT '',
    tax_id TEXT NOT NULL DEFAULT '',
    statement_wording TEXT NOT NULL DEFAULT '',
    giving_url TEXT NOT NULL DEFAULT '',
    prayer_approval BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
CREATE TABLE mission_funds (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    CONSTRAINT mission_funds_tenant_id UNIQUE (tenant_id, id),
    CONSTRAINT mission_funds_name UNIQUE (tenant_id, name)
);
CREATE TABLE mission_gifts (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    member_id TEXT NOT NULL,
    fund_id TEXT NOT NULL,
    given_on TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    method TEXT NOT NULL,
    recurring BIGINT NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    created_by TEXT,
    created_at BIGINT NOT NULL,
    CONSTRAINT mission_gifts_member_fk FOREIGN KEY (tenant_id, member_id) REFERENCES users (tenant_id, id),
    CONSTRAINT mission_gifts_fund_fk FOREIGN KEY (tenant_id, fund_id) REFERENCES mission_funds (tenant_id, id)
);
CREATE INDEX mission_gifts_member ON mission_gifts (tenant_id, member_id, given_on);
CREATE TABLE mission_households (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    CONSTRAINT mission_households_tenant_id UNIQUE (tenant_id, id)
);
CREATE TABLE mission_members (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL,
    household_id TEXT,
    address TEXT NOT NULL DEFAULT '',
    birthday TEXT NOT NULL DEFAULT '',
    listed BIGINT NOT NULL DEFAULT 1,
    show_photo BIGINT NOT NULL DEFAULT 0,
    show_email BIGINT NOT NULL DEFAULT 0,
    show_phone BIGINT NOT NULL DEFAULT 0,
    show_address BIGINT NOT NULL DEFAULT 0,
    show_birthday BIGINT NOT NULL DEFAULT 0,
    show_household BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    CONSTRAINT mission_members_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
    CONSTRAINT mission_members_household_fk FOREIGN KEY (tenant_id, household_id) REFERENCES mission_households (tenant_id, id)
);
CREATE TABLE mission_prayers (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    author_id TEXT NOT NULL,
    body TEXT NOT NULL,
    visibility TEXT NOT NULL,
    anonymous BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    answered_at BIGINT,
    praise TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    CONSTRAINT mission_prayers_tenant_id UNIQUE (tenant_id, id),
    CONSTRAINT mission_prayers_author_fk FOREIGN KEY (tenant_id, author_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX mission_prayers_wall ON mission_prayers (tenant_id, status, created_at);
CREATE TABLE mission_prayed (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    prayer_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, prayer_id, user_id),
    CONSTRAINT mission_prayed_prayer_fk FOREIGN KEY (tenant_id, prayer_id) REFERENCES mission_prayers (tenant_id, id),
    CONSTRAINT mission_prayed_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE TABLE mission_prayer_reports (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    prayer_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, prayer_id, user_id),
    CONSTRAINT mission_reports_prayer_fk FOREIGN KEY (tenant_id, prayer_id) REFERENCES mission_prayers (tenant_id, id),
    CONSTRAINT mission_reports_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
