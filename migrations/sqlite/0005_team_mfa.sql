-- Team management, audit view, profile fields, notification preferences and TOTP sign-in
-- (SQLite). Keep in step with migrations/postgres.

-- Client admins read their company's events newest first.
CREATE INDEX audit_log_tenant_company_seq ON audit_log (tenant_id, company_id, seq);

-- Profile.
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN job_title TEXT;
ALTER TABLE users ADD COLUMN time_zone TEXT;
ALTER TABLE users ADD COLUMN language TEXT;

-- TOTP: the secret is stored encrypted; pending holds a secret during enrolment.
ALTER TABLE users ADD COLUMN mfa_secret TEXT;
ALTER TABLE users ADD COLUMN mfa_pending_secret TEXT;
ALTER TABLE users ADD COLUMN mfa_enabled_at INTEGER;
ALTER TABLE users ADD COLUMN mfa_last_step INTEGER;

-- Tenant policy: who must use two-step sign-in.
ALTER TABLE tenants ADD COLUMN require_mfa_staff INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN require_mfa_client_admins INTEGER NOT NULL DEFAULT 0;

-- One row per user once they change a preference; absent means every notification on.
CREATE TABLE notification_prefs (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    ticket_replies INTEGER NOT NULL,
    status_changes INTEGER NOT NULL,
    announcements INTEGER NOT NULL,
    signature_requests INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

-- One-time recovery codes (sha256 of the random code).
CREATE TABLE mfa_recovery_codes (
    code_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX mfa_recovery_codes_user ON mfa_recovery_codes (tenant_id, user_id);
