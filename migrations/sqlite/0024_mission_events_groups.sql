-- Mission events (capacity, questions, waitlist, check-in, calendar feeds) and small groups
-- (categories, open/closed membership, leaders, messages). Keep in step with postgres.
CREATE TABLE mission_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    place TEXT NOT NULL DEFAULT '',
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    capacity INTEGER NOT NULL DEFAULT 0,
    waitlist INTEGER NOT NULL DEFAULT 1,
    questions TEXT NOT NULL DEFAULT '[]',
    cancelled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT mission_events_tenant_id UNIQUE (tenant_id, id)
);
CREATE INDEX mission_events_start ON mission_events (tenant_id, starts_at);
CREATE TABLE mission_registrations (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    event_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    seats INTEGER NOT NULL,
    attendees TEXT NOT NULL DEFAULT '[]',
    answers TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL,
    checked_in_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT mission_registrations_event_fk FOREIGN KEY (tenant_id, event_id) REFERENCES mission_events (tenant_id, id),
    CONSTRAINT mission_registrations_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX mission_registrations_event ON mission_registrations (tenant_id, event_id, status, created_at);
CREATE UNIQUE INDEX mission_registrations_one_active ON mission_registrations (tenant_id, event_id, user_id) WHERE status <> 'cancelled';
CREATE TABLE mission_calendar_feeds (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    CONSTRAINT mission_calendar_feeds_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE UNIQUE INDEX mission_calendar_feeds_token ON mission_calendar_feeds (tenant_id, token_hash);
CREATE TABLE mission_group_categories (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT mission_group_categories_tenant_id UNIQUE (tenant_id, id),
    CONSTRAINT mission_group_categories_name UNIQUE (tenant_id, name)
);
CREATE TABLE mission_groups (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    category_id TEXT,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    meeting_day TEXT NOT NULL DEFAULT '',
    meeting_time TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL DEFAULT '',
    open INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    CONSTRAINT mission_groups_tenant_id UNIQUE (tenant_id, id),
    CONSTRAINT mission_groups_category_fk FOREIGN KEY (tenant_id, category_id) REFERENCES mission_group_categories (tenant_id, id)
);
CREATE TABLE mission_group_members (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, group_id, user_id),
    CONSTRAINT mission_group_members_group_fk FOREIGN KEY (tenant_id, group_id) REFERENCES mission_groups (tenant_id, id),
    CONSTRAINT mission_group_members_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE TABLE mission_group_messages (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    group_id TEXT NOT NULL,
    author_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT mission_group_messages_group_fk FOREIGN KEY (tenant_id, group_id) REFERENCES mission_groups (tenant_id, id),
    CONSTRAINT mission_group_messages_author_fk FOREIGN KEY (tenant_id, author_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX mission_group_messages_group ON mission_group_messages (tenant_id, group_id, created_at);
CREATE INDEX mission_groups_name ON mission_groups (tenant_id, name, id);
CREATE INDEX mission_groups_category ON mission_groups (tenant_id, category_id, name);
CREATE INDEX mission_group_members_user ON mission_group_members (tenant_id, user_id, status);
CREATE INDEX mission_group_members_group ON mission_group_members (tenant_id, group_id, status, role);
