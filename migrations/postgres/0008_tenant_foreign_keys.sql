-- Composite foreign keys (PostgreSQL): a row may only reference rows of its own tenant, so a
-- cross-tenant reference is refused by the database itself, whatever the code does. Keep in
-- step with migrations/sqlite (which rebuilds the tables to get the same keys).
--
-- Each single-column key (`company_id REFERENCES companies(id)`) is replaced by one that
-- includes the tenant (`(tenant_id, company_id) REFERENCES companies(tenant_id, id)`); the
-- parents get UNIQUE (tenant_id, id) so they can be referenced that way. Adding a key checks
-- the existing rows: a row that references another tenant stops the upgrade with PostgreSQL's
-- message naming the table, the constraint and the key (docs/security.md).

ALTER TABLE companies ADD CONSTRAINT companies_tenant_id UNIQUE (tenant_id, id);
ALTER TABLE users ADD CONSTRAINT users_tenant_id UNIQUE (tenant_id, id);
ALTER TABLE tickets ADD CONSTRAINT tickets_tenant_id UNIQUE (tenant_id, id);
ALTER TABLE ticket_comments ADD CONSTRAINT ticket_comments_tenant_id UNIQUE (tenant_id, id);

ALTER TABLE users
    DROP CONSTRAINT users_company_id_fkey,
    ADD CONSTRAINT users_company_fk FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id);

ALTER TABLE sessions
    DROP CONSTRAINT sessions_user_id_fkey,
    ADD CONSTRAINT sessions_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id);

ALTER TABLE one_time_tokens
    DROP CONSTRAINT one_time_tokens_user_id_fkey,
    ADD CONSTRAINT one_time_tokens_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id);

ALTER TABLE tickets
    DROP CONSTRAINT tickets_company_id_fkey,
    DROP CONSTRAINT tickets_requester_id_fkey,
    DROP CONSTRAINT tickets_assignee_id_fkey,
    ADD CONSTRAINT tickets_company_fk FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id),
    ADD CONSTRAINT tickets_requester_fk FOREIGN KEY (tenant_id, requester_id) REFERENCES users (tenant_id, id),
    ADD CONSTRAINT tickets_assignee_fk FOREIGN KEY (tenant_id, assignee_id) REFERENCES users (tenant_id, id);

ALTER TABLE ticket_cc
    DROP CONSTRAINT ticket_cc_ticket_id_fkey,
    DROP CONSTRAINT ticket_cc_user_id_fkey,
    ADD CONSTRAINT ticket_cc_ticket_fk FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    ADD CONSTRAINT ticket_cc_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id);

ALTER TABLE ticket_comments
    DROP CONSTRAINT ticket_comments_ticket_id_fkey,
    DROP CONSTRAINT ticket_comments_author_id_fkey,
    ADD CONSTRAINT ticket_comments_ticket_fk FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    ADD CONSTRAINT ticket_comments_author_fk FOREIGN KEY (tenant_id, author_id) REFERENCES users (tenant_id, id);

ALTER TABLE ticket_status_history
    DROP CONSTRAINT ticket_status_history_ticket_id_fkey,
    DROP CONSTRAINT ticket_status_history_actor_id_fkey,
    ADD CONSTRAINT ticket_status_history_ticket_fk FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    ADD CONSTRAINT ticket_status_history_actor_fk FOREIGN KEY (tenant_id, actor_id) REFERENCES users (tenant_id, id);

ALTER TABLE ticket_attachments
    DROP CONSTRAINT ticket_attachments_ticket_id_fkey,
    DROP CONSTRAINT ticket_attachments_comment_id_fkey,
    DROP CONSTRAINT ticket_attachments_uploader_id_fkey,
    ADD CONSTRAINT ticket_attachments_ticket_fk FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    ADD CONSTRAINT ticket_attachments_comment_fk FOREIGN KEY (tenant_id, comment_id) REFERENCES ticket_comments (tenant_id, id),
    ADD CONSTRAINT ticket_attachments_uploader_fk FOREIGN KEY (tenant_id, uploader_id) REFERENCES users (tenant_id, id);

ALTER TABLE notification_prefs
    DROP CONSTRAINT notification_prefs_user_id_fkey,
    ADD CONSTRAINT notification_prefs_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id);

ALTER TABLE mfa_recovery_codes
    DROP CONSTRAINT mfa_recovery_codes_user_id_fkey,
    ADD CONSTRAINT mfa_recovery_codes_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id);

ALTER TABLE ticket_reads
    DROP CONSTRAINT ticket_reads_user_id_fkey,
    DROP CONSTRAINT ticket_reads_ticket_id_fkey,
    ADD CONSTRAINT ticket_reads_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
    ADD CONSTRAINT ticket_reads_ticket_fk FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id);
