-- The staff queue lists the open tickets of a tenant newest first. With an index on status, the
-- four open statuses are four ranges whose union has to be sorted; this partial index keeps the
-- open tickets in queue order. Queries must say `status NOT IN ('resolved', 'closed')` for the
-- planner to use it (tickets::store does).
CREATE INDEX tickets_open_updated ON tickets (tenant_id, updated_at, id)
    WHERE status NOT IN ('resolved', 'closed');
-- The whole tenant newest first (staff queue, "all statuses").
CREATE INDEX tickets_tenant_updated ON tickets (tenant_id, updated_at, id);
