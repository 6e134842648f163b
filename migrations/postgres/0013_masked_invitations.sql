-- An invitation a company admin sent to an address that already has an account elsewhere in
-- the tenant. No account is created and no mail is sent, but the inviting company sees it
-- like any pending invitation (listed, counted against its seats, resendable, revocable), so
-- it cannot tell that the address exists.
CREATE TABLE masked_invitations (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, company_id, email),
    FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id)
);
