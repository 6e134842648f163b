-- Hub bar apps that take Portico's signed token (single sign-on out).
ALTER TABLE identity_hub_apps ADD COLUMN sso BIGINT NOT NULL DEFAULT 0;
