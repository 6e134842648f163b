-- Sign-in and audit hardening (postgres). Keep in step with migrations/sqlite.

-- The audit chain becomes keyed (HMAC with a key derived from PORTICO_SECRET_KEY). Tenants
-- created from now on start keyed; existing ones are re-chained with the key by the process
-- that applies this migration (see docs/security.md), which then sets the flag.
ALTER TABLE tenants ADD COLUMN audit_keyed BIGINT NOT NULL DEFAULT 1;
UPDATE tenants SET audit_keyed = 0;

-- Markdown images from other hosts are shown only when the tenant allows them.
ALTER TABLE tenants ADD COLUMN remote_images_allowed BIGINT NOT NULL DEFAULT 0;
