-- Time zone a tenant's pages use when neither the viewer's profile nor their browser names one
-- (an IANA name such as Europe/Madrid).
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
