-- The remote Mission source: the tenant's Mission API (address, sealed key) and each member's
-- id in that system. Keep in step with postgres.
ALTER TABLE mission_settings ADD COLUMN remote_url TEXT NOT NULL DEFAULT '';
ALTER TABLE mission_settings ADD COLUMN remote_key_sealed TEXT;
CREATE TABLE mission_external_ids (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    CONSTRAINT mission_external_ids_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
    CONSTRAINT mission_external_ids_unique UNIQUE (tenant_id, external_id)
);
