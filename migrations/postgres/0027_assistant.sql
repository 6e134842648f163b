-- The built-in help assistant: conversations kept per user, their messages, and actions the
-- assistant proposed (single-use tokens, run only after the user's confirm click).
CREATE TABLE assistant_conversations (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    title TEXT NOT NULL,
    escalated_ticket BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT assistant_conversations_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX assistant_conversations_user ON assistant_conversations (tenant_id, user_id, updated_at);

CREATE TABLE assistant_messages (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    body TEXT NOT NULL,
    extra TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT assistant_messages_conversation_fk FOREIGN KEY (tenant_id, conversation_id) REFERENCES assistant_conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX assistant_messages_conversation ON assistant_messages (tenant_id, conversation_id, created_at);
-- Rate limits count a user's (and the tenant's) recent questions.
CREATE INDEX assistant_messages_recent ON assistant_messages (tenant_id, role, created_at, user_id);

CREATE TABLE assistant_actions (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, token_hash),
    CONSTRAINT assistant_actions_conversation_fk FOREIGN KEY (tenant_id, conversation_id) REFERENCES assistant_conversations (tenant_id, id) ON DELETE CASCADE
);

-- One row per question: rate limits and the token budget count these, and they stay when the
-- user deletes the conversation (deleting cannot reset a limit).
CREATE TABLE assistant_usage (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    model BIGINT NOT NULL,
    tokens BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX assistant_usage_recent ON assistant_usage (tenant_id, created_at, user_id);
