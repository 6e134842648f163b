-- Identity: Hub single sign-on (per-tenant secret and remembered token ids), passwordless
-- sign-in codes and links, and the Hub bar's apps. Keep in step with the other backend.
CREATE TABLE identity_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    hub_secret_sealed TEXT,
    hub_audience TEXT NOT NULL DEFAULT '',
    hub_issuer TEXT NOT NULL DEFAULT '',
    hub_updates_profile BIGINT NOT NULL DEFAULT 0,
    passwordless_link BIGINT NOT NULL DEFAULT 0,
    passwordless_code BIGINT NOT NULL DEFAULT 0,
    hub_bar_enabled BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
-- A Hub token's id is remembered until the token expires: the primary key refuses a replay on
-- every node sharing the database.
CREATE TABLE identity_hub_jtis (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, jti)
);
CREATE INDEX identity_hub_jtis_expiry ON identity_hub_jtis (tenant_id, expires_at);
CREATE TABLE identity_sign_in_codes (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    link_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    CONSTRAINT identity_sign_in_codes_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX identity_sign_in_codes_user ON identity_sign_in_codes (tenant_id, user_id, expires_at);
CREATE UNIQUE INDEX identity_sign_in_codes_link ON identity_sign_in_codes (link_hash);
CREATE TABLE identity_hub_apps (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    icon_url TEXT NOT NULL DEFAULT '',
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX identity_hub_apps_tenant ON identity_hub_apps (tenant_id, position);
