-- Knowledge base (articles, per-company visibility, votes, deflection) and announcements
-- (audience, reads). Search: a weighted GIN expression index.
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
    published_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
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
    helpful BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
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
    opened_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT kb_deflections_article_fk FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX kb_deflections_opened ON kb_deflections (tenant_id, opened_at);

-- Search: a weighted expression index (title, then tags, then body) that queries repeat.
CREATE INDEX kb_articles_search ON kb_articles USING GIN ((
    setweight(to_tsvector('simple', title), 'A') ||
    setweight(to_tsvector('simple', tags), 'B') ||
    setweight(to_tsvector('simple', body), 'C')));

CREATE TABLE announcements (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    severity TEXT NOT NULL,
    audience TEXT NOT NULL,
    publish_at BIGINT NOT NULL,
    expires_at BIGINT,
    pinned BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    author_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
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
    read_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, announcement_id, user_id),
    CONSTRAINT announcement_reads_announcement_fk FOREIGN KEY (tenant_id, announcement_id) REFERENCES announcements (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT announcement_reads_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
