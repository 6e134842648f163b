-- Per-tenant assistant settings (they override the deployment's model configuration), and
-- questions the built-in assistant answered because the model failed or was over budget.
CREATE TABLE assistant_settings (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    enabled INTEGER NOT NULL,
    mode TEXT NOT NULL,
    model_url TEXT NOT NULL,
    model_name TEXT NOT NULL,
    api_key_sealed TEXT,
    monthly_tokens INTEGER,
    instructions TEXT NOT NULL,
    actions TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id)
);
ALTER TABLE assistant_usage ADD COLUMN fallback INTEGER NOT NULL DEFAULT 0;
