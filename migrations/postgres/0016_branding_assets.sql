-- Images uploaded on the branding page (logo, favicon, sign-in background). Each is served at
-- /branding/<slug>/asset/<name>, where name is a prefix of the content's SHA-256 plus the
-- extension of its checked type, so a new image gets a new URL and old ones cache for good.
-- The bytes live in object storage under storage_key and count against the tenant's allowance.
CREATE TABLE branding_assets (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
