-- Interface language a tenant's pages and emails use when neither the user's profile nor
-- the browser names a supported one.
ALTER TABLE tenants ADD COLUMN default_locale TEXT NOT NULL DEFAULT 'en';
