-- katabox on PostgreSQL, schema version 1 (docs/scale-out.md).
-- Records are JSON documents (as in redb) beside the columns that
-- queries filter, order or lock on.

CREATE TABLE kb_counters (
    kind  text PRIMARY KEY,
    value bigint NOT NULL
);

CREATE TABLE kb_listeners (
    id   bigint PRIMARY KEY,
    guid text NOT NULL,
    doc  text NOT NULL
);
CREATE UNIQUE INDEX kb_listeners_guid ON kb_listeners (guid) WHERE guid <> '';

CREATE TABLE kb_automations (
    id   bigint PRIMARY KEY,
    name text NOT NULL UNIQUE,
    doc  text NOT NULL
);

CREATE TABLE kb_automation_versions (
    name    text NOT NULL,
    version bigint NOT NULL,
    doc     text NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE kb_packages (
    key text PRIMARY KEY,
    doc text NOT NULL
);

-- The scheduler's fields (lease, fence) are columns only: a claim
-- changes them without rewriting the document.
CREATE TABLE kb_timers (
    id               bigint PRIMARY KEY,
    next_run_at      bigint NOT NULL,
    is_disabled      boolean NOT NULL,
    lease_owner      text NOT NULL DEFAULT '',
    lease_expires_at bigint NOT NULL DEFAULT 0,
    fence            bigint NOT NULL DEFAULT 0,
    doc              text NOT NULL
);
CREATE INDEX kb_timers_due ON kb_timers (next_run_at, id) WHERE NOT is_disabled;

CREATE TABLE kb_timer_continuations (
    token text PRIMARY KEY,
    doc   text NOT NULL
);

CREATE TABLE kb_storage (
    key        text PRIMARY KEY,
    expires_at bigint NOT NULL,
    value      bytea NOT NULL
);
CREATE INDEX kb_storage_expiry ON kb_storage (expires_at) WHERE expires_at <> 0;

CREATE TABLE kb_queue_defs (
    name text PRIMARY KEY
);

CREATE TABLE kb_queue_items (
    queue        text NOT NULL,
    seq          bigint NOT NULL,
    id           text NOT NULL,
    available_at bigint NOT NULL,
    data         bytea NOT NULL,
    PRIMARY KEY (queue, seq)
);

CREATE TABLE kb_continuations (
    token      text PRIMARY KEY,
    expires_at bigint NOT NULL,
    value      bytea NOT NULL
);
CREATE INDEX kb_continuations_expiry ON kb_continuations (expires_at) WHERE expires_at <> 0;

CREATE TABLE kb_resources (
    token      text PRIMARY KEY,
    name       text,
    mime_type  text NOT NULL,
    expires_at bigint NOT NULL,
    bytes      bytea NOT NULL
);
CREATE INDEX kb_resources_expiry ON kb_resources (expires_at) WHERE expires_at <> 0;

CREATE TABLE kb_named_resources (
    name  text PRIMARY KEY,
    bytes bytea NOT NULL
);

CREATE TABLE kb_metric_defs (
    name       text PRIMARY KEY,
    dimensions text NOT NULL
);

CREATE TABLE kb_metrics (
    metric     text NOT NULL,
    dimensions text NOT NULL,
    ts         bigint NOT NULL,
    value      double precision NOT NULL,
    PRIMARY KEY (metric, dimensions, ts)
);

CREATE TABLE kb_runs (
    id          bigint PRIMARY KEY,
    at_ms       bigint NOT NULL,
    automation  text,
    listener_id bigint,
    exit        text NOT NULL,
    status      integer NOT NULL,
    trigger     text NOT NULL,
    doc         text NOT NULL,
    payload     text
);
CREATE INDEX kb_runs_time ON kb_runs (at_ms, id);
CREATE INDEX kb_runs_automation ON kb_runs (automation, at_ms, id);
CREATE INDEX kb_runs_listener ON kb_runs (listener_id, at_ms, id);
CREATE INDEX kb_runs_exit ON kb_runs (exit, at_ms, id);

CREATE TABLE kb_webhook_deliveries (
    key         text PRIMARY KEY,
    listener_id bigint NOT NULL,
    expires_at  bigint NOT NULL,
    record      bytea NOT NULL
);
CREATE INDEX kb_webhook_deliveries_listener ON kb_webhook_deliveries (listener_id);
CREATE INDEX kb_webhook_deliveries_expiry ON kb_webhook_deliveries (expires_at);
