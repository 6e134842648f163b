-- The service catalog: categories, items (with their SLA and who may see them), the versions
-- of each item's request form, and the requests submitted (each a ticket). A request keeps the
-- form version it was made on, so editing a form never changes how old answers read.
CREATE TABLE catalog_categories (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT catalog_categories_tenant_id UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX catalog_categories_name ON catalog_categories (tenant_id, name);

CREATE TABLE catalog_items (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    category_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    description_html TEXT NOT NULL,
    icon TEXT NOT NULL,
    first_response_minutes BIGINT NOT NULL,
    resolution_minutes BIGINT NOT NULL,
    hours TEXT NOT NULL,
    price TEXT,
    visibility TEXT NOT NULL,
    active BIGINT NOT NULL,
    form_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT catalog_items_tenant_id UNIQUE (tenant_id, id),
    CONSTRAINT catalog_items_category_fk FOREIGN KEY (tenant_id, category_id) REFERENCES catalog_categories (tenant_id, id)
);
CREATE INDEX catalog_items_category ON catalog_items (tenant_id, category_id, name);

CREATE TABLE catalog_item_companies (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    item_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, item_id, company_id),
    CONSTRAINT catalog_item_companies_item_fk FOREIGN KEY (tenant_id, item_id) REFERENCES catalog_items (tenant_id, id),
    CONSTRAINT catalog_item_companies_company_fk FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id)
);

CREATE TABLE catalog_form_versions (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    item_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    fields TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, item_id, version),
    CONSTRAINT catalog_form_versions_item_fk FOREIGN KEY (tenant_id, item_id) REFERENCES catalog_items (tenant_id, id)
);

CREATE TABLE catalog_requests (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    ticket_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    form_version BIGINT NOT NULL,
    answers TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT catalog_requests_ticket_fk FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    CONSTRAINT catalog_requests_form_fk FOREIGN KEY (tenant_id, item_id, form_version) REFERENCES catalog_form_versions (tenant_id, item_id, version)
);
CREATE UNIQUE INDEX catalog_requests_ticket ON catalog_requests (tenant_id, ticket_id);
