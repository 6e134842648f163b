-- Time zone a tenant's pages use when neither the viewer's profile nor their browser names one
-- (an IANA name such as Europe/Madrid).
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

-- Dashboards show the newest replies across a tenant (staff) without reading every comment.
CREATE INDEX ticket_comments_recent ON ticket_comments (tenant_id, created_at);
