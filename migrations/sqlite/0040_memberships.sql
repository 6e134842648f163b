-- People in several companies: a client user holds one membership per company, each with its
-- own role. users.company_id/role stay the person's home membership (kept in step with its
-- row here); a session may pick another membership as its active company.
CREATE TABLE memberships (
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, company_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id)
);
CREATE INDEX memberships_company ON memberships (tenant_id, company_id);
INSERT INTO memberships (tenant_id, user_id, company_id, role, created_at)
SELECT tenant_id, id, company_id, role, created_at FROM users
WHERE kind = 'client' AND company_id IS NOT NULL;
-- The active company of a portal session; NULL is the home company.
ALTER TABLE sessions ADD COLUMN company_id TEXT;
