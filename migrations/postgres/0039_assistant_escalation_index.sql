-- The staff escalation queue pages through escalated conversations newest first.
CREATE INDEX assistant_conversations_escalated ON assistant_conversations (tenant_id, updated_at, id)
    WHERE escalated_ticket IS NOT NULL;
