-- The staff "Delivery" list reads a tenant's jobs newest first (ids are UUIDv7, time-ordered).
CREATE INDEX jobs_tenant_recent ON jobs (tenant_id, id);
