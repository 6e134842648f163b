-- Per-tenant greeting, the sources the assistant may answer from, and the staff member
-- escalations are assigned to (checked to be active staff when used, so no foreign key that
-- would stand in the way of removing a user).
ALTER TABLE assistant_settings ADD COLUMN greeting TEXT NOT NULL DEFAULT '';
ALTER TABLE assistant_settings ADD COLUMN sources TEXT NOT NULL DEFAULT 'articles,tickets,announcements,catalog,events';
ALTER TABLE assistant_settings ADD COLUMN escalate_to TEXT;
