-- OpenID Connect sign-in: a tenant's providers and the flows in progress. Keep in step with the
-- other backend.
CREATE TABLE identity_oidc_providers (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    preset TEXT NOT NULL DEFAULT 'custom',
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret_sealed TEXT NOT NULL,
    -- JSON list of {"domain": …, "company_id": …}; company_id is null for Mission tenants.
    domains TEXT NOT NULL DEFAULT '[]',
    create_users INTEGER NOT NULL DEFAULT 0,
    new_user_role TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX identity_oidc_providers_tenant ON identity_oidc_providers (tenant_id, name);
-- One row per sign-in started: state (hashed), nonce and PKCE verifier stay on the server; the
-- browser holds only a cookie whose hash binds it to the row. Spent once (used_at).
CREATE TABLE identity_oidc_flows (
    state_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    provider_id TEXT NOT NULL REFERENCES identity_oidc_providers(id) ON DELETE CASCADE,
    browser_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX identity_oidc_flows_expiry ON identity_oidc_flows (tenant_id, expires_at);
