-- Schema version 2: the run that started a `function:` run.
ALTER TABLE kb_runs ADD COLUMN parent_id bigint;
CREATE INDEX kb_runs_parent ON kb_runs (parent_id, at_ms, id) WHERE parent_id IS NOT NULL;
