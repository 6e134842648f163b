-- Uploaded files live in object storage (src/files); each row names its object. Rows written
-- before this migration point at the old layout <data_dir>/files/<tenant>/<id>, which is the
-- key "<tenant>/<id>" of the default local store, so they keep working as they are;
-- `portico storage migrate` copies them under "t/<tenant>/" in the configured store (S3).
ALTER TABLE ticket_attachments ADD COLUMN storage_key TEXT NOT NULL DEFAULT '';
ALTER TABLE ticket_attachments ADD COLUMN sha256 TEXT;
UPDATE ticket_attachments SET storage_key = tenant_id || '/' || id;

-- Each tenant's storage allowance in bytes (NULL = unlimited; 5 GiB by default) and what it
-- uses, charged and checked in the uploading action's transaction.
ALTER TABLE tenants ADD COLUMN storage_quota_bytes BIGINT DEFAULT 5368709120;
ALTER TABLE tenants ADD COLUMN storage_used_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE tenants SET storage_used_bytes = (
    SELECT COALESCE(SUM(a.size), 0) FROM ticket_attachments a WHERE a.tenant_id = tenants.id
);
