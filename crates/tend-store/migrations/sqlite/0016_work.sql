-- The work engine: tasks (calls to action) with their steps and comments, success
-- plans (objectives and milestones), lifecycle stages with their entry days, the
-- email outbox and the log of daily playbook runs. Users may belong to a team.

ALTER TABLE users ADD COLUMN team TEXT;

CREATE TABLE tasks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    kind          TEXT NOT NULL,
    title         TEXT NOT NULL,
    description   TEXT NOT NULL,
    owner         TEXT,
    priority      TEXT NOT NULL,
    due_on        TEXT NOT NULL,
    status        TEXT NOT NULL,
    snoozed_until TEXT,
    status_reason TEXT,
    playbook      TEXT,
    signal        TEXT,
    evidence      TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    closed_at     TEXT
);
-- At most one open task per account and playbook: two evaluations racing, or one
-- change delivered twice, insert one task and the other insert does nothing.
CREATE UNIQUE INDEX tasks_one_open_per_playbook ON tasks (account_id, playbook)
    WHERE playbook IS NOT NULL AND status IN ('open', 'in_progress', 'snoozed');
CREATE INDEX tasks_by_owner ON tasks (owner, status, due_on);
CREATE INDEX tasks_by_account ON tasks (account_id, id);
CREATE INDEX tasks_by_playbook ON tasks (playbook, account_id, closed_at);

CREATE TABLE task_steps (
    task_id  INTEGER NOT NULL REFERENCES tasks (id),
    position INTEGER NOT NULL,
    title    TEXT NOT NULL,
    due_on   TEXT NOT NULL,
    done_at  TEXT,
    done_by  TEXT,
    PRIMARY KEY (task_id, position)
);

CREATE TABLE task_comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id    INTEGER NOT NULL REFERENCES tasks (id),
    author     TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX task_comments_by_task ON task_comments (task_id, id);

-- Each stage an account entered and the day it did; the latest is its stage.
CREATE TABLE lifecycle_stages (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    stage      TEXT NOT NULL,
    entered_on TEXT NOT NULL,
    PRIMARY KEY (account_id, entered_on, stage)
);

-- A success plan: the objectives agreed with the customer and the milestones toward
-- them; a value milestone's done day is the account's time to value.
CREATE TABLE objectives (
    id          TEXT PRIMARY KEY NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    title       TEXT NOT NULL,
    criteria    TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_on  TEXT NOT NULL
);
CREATE INDEX objectives_by_account ON objectives (account_id);

CREATE TABLE milestones (
    id           TEXT PRIMARY KEY NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    objective_id TEXT,
    title        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    due_on       TEXT NOT NULL,
    owner        TEXT,
    status       TEXT NOT NULL,
    done_on      TEXT
);
CREATE INDEX milestones_by_account ON milestones (account_id, due_on);

-- Emails playbooks send, written in the transaction that decided them and sent from
-- here by the server (retried like webhooks); kept as their log.
CREATE TABLE email_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    playbook        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    sent_at         TEXT
);
CREATE INDEX email_outbox_pending ON email_outbox (id) WHERE status = 'pending';

-- One row per day the playbooks were evaluated over every account.
CREATE TABLE playbook_runs (
    day         TEXT PRIMARY KEY NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    accounts    INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    closed      INTEGER NOT NULL DEFAULT 0
);
