-- The provider's subject (`sub`) of each person who signed in with OIDC: the stable identity,
-- so a person whose address changes at the provider keeps their account.
CREATE TABLE identity_oidc_subjects (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    provider_id TEXT NOT NULL REFERENCES identity_oidc_providers(id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, provider_id, subject)
);
CREATE INDEX identity_oidc_subjects_user ON identity_oidc_subjects (tenant_id, user_id);
