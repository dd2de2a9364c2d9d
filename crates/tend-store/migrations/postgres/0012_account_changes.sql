-- The durable queue of what changed, per account and why, written in the same
-- transaction as the change: work triggered by data (health refreshed now, playbooks
-- later) reads it and marks what it has done, so a crash loses none of it.
CREATE TABLE account_changes (
    id           BIGSERIAL PRIMARY KEY,
    account_id   TEXT NOT NULL,
    reason       TEXT NOT NULL,
    changed_at   TIMESTAMPTZ NOT NULL,
    processed_at TIMESTAMPTZ
);
CREATE INDEX account_changes_waiting ON account_changes (id) WHERE processed_at IS NULL;
