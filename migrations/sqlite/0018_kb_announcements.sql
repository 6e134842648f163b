-- Knowledge base (articles, per-company visibility, votes, deflection) and announcements
-- (audience, reads). Search: an FTS5 table kept in step with kb_articles by triggers.
CREATE TABLE kb_articles (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    tags TEXT NOT NULL,
    body TEXT NOT NULL,
    visibility TEXT NOT NULL,
    status TEXT NOT NULL,
    author_id TEXT,
    published_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, slug)
);
CREATE INDEX kb_articles_list ON kb_articles (tenant_id, status, category, title);

CREATE TABLE kb_article_companies (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    article_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, article_id, company_id),
    CONSTRAINT kb_article_companies_article_fk FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT kb_article_companies_company_fk FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id)
);

CREATE TABLE kb_votes (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    article_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    helpful INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, article_id, user_id),
    CONSTRAINT kb_votes_article_fk FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT kb_votes_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);

-- A suggested article opened from the new-ticket form; "avoided" when no ticket followed.
CREATE TABLE kb_deflections (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT kb_deflections_article_fk FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX kb_deflections_opened ON kb_deflections (tenant_id, opened_at);

CREATE VIRTUAL TABLE kb_fts USING fts5(
    tenant_id UNINDEXED, article_id UNINDEXED, title, tags, body,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER kb_articles_fts_insert AFTER INSERT ON kb_articles BEGIN
    INSERT INTO kb_fts (tenant_id, article_id, title, tags, body)
    VALUES (new.tenant_id, new.id, new.title, new.tags, new.body);
END;
CREATE TRIGGER kb_articles_fts_update AFTER UPDATE OF title, tags, body ON kb_articles BEGIN
    DELETE FROM kb_fts WHERE tenant_id = old.tenant_id AND article_id = old.id;
    INSERT INTO kb_fts (tenant_id, article_id, title, tags, body)
    VALUES (new.tenant_id, new.id, new.title, new.tags, new.body);
END;
CREATE TRIGGER kb_articles_fts_delete AFTER DELETE ON kb_articles BEGIN
    DELETE FROM kb_fts WHERE tenant_id = old.tenant_id AND article_id = old.id;
END;

CREATE TABLE announcements (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    severity TEXT NOT NULL,
    audience TEXT NOT NULL,
    publish_at INTEGER NOT NULL,
    expires_at INTEGER,
    pinned INTEGER NOT NULL DEFAULT 0,
    delivered_at INTEGER,
    author_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX announcements_live ON announcements (tenant_id, publish_at);

CREATE TABLE announcement_companies (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    announcement_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, announcement_id, company_id),
    CONSTRAINT announcement_companies_announcement_fk FOREIGN KEY (tenant_id, announcement_id) REFERENCES announcements (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT announcement_companies_company_fk FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id)
);

CREATE TABLE announcement_reads (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    announcement_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    read_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, announcement_id, user_id),
    CONSTRAINT announcement_reads_announcement_fk FOREIGN KEY (tenant_id, announcement_id) REFERENCES announcements (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT announcement_reads_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
