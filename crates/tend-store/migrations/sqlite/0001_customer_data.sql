-- Customer data hub, SQLite. Dates are ISO-8601 text, times RFC 3339 text in UTC,
-- money integer minor units beside an ISO 4217 code.

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    parent_id       TEXT REFERENCES accounts (id) DEFERRABLE INITIALLY DEFERRED,
    segment         TEXT,
    tier            TEXT,
    industry        TEXT,
    region          TEXT,
    lifecycle_stage TEXT,
    csm_owner       TEXT,
    am_owner        TEXT,
    created_on      TEXT NOT NULL,
    churned_on      TEXT,
    churn_reason    TEXT
);

CREATE TABLE contacts (
    id         TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    email      TEXT,
    title      TEXT,
    role       TEXT NOT NULL,
    joined_on  TEXT,
    left_on    TEXT
);
CREATE INDEX contacts_by_account ON contacts (account_id);

CREATE TABLE contracts (
    id           TEXT PRIMARY KEY NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    product      TEXT NOT NULL,
    seats        INTEGER NOT NULL CHECK (seats >= 0),
    arr_minor    INTEGER NOT NULL CHECK (arr_minor >= 0),
    currency     TEXT NOT NULL,
    start_date   TEXT NOT NULL,
    end_date     TEXT NOT NULL,
    renewal_date TEXT NOT NULL,
    auto_renew   BOOLEAN NOT NULL,
    notice_days  INTEGER NOT NULL,
    status       TEXT NOT NULL
);
CREATE INDEX contracts_by_account ON contracts (account_id);

-- Raw Segment-spec calls, clustered by account and UTC day: events arriving in time
-- order land on a few hot pages, rollups read an account's days in one sequential
-- scan, and a retried call (same messageId, same account, same day) is a key
-- conflict. account_id is checked by the importer, not by a foreign key, to keep
-- bulk loading fast.
CREATE TABLE usage_events (
    account_id   TEXT NOT NULL,
    day          TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    ts           TEXT NOT NULL,
    type         TEXT NOT NULL,
    user_id      TEXT,
    anonymous_id TEXT,
    event        TEXT NOT NULL,
    properties   TEXT NOT NULL,
    PRIMARY KEY (account_id, day, message_id)
) WITHOUT ROWID;

CREATE TABLE usage_daily (
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    day              TEXT NOT NULL,
    events           INTEGER NOT NULL,
    active_users     INTEGER NOT NULL,
    active_users_30d INTEGER NOT NULL,
    feature_events   TEXT NOT NULL,
    PRIMARY KEY (account_id, day)
) WITHOUT ROWID;

CREATE TABLE tickets (
    id                TEXT PRIMARY KEY NOT NULL,
    account_id        TEXT NOT NULL REFERENCES accounts (id),
    contact_id        TEXT,
    subject           TEXT NOT NULL,
    priority          TEXT NOT NULL,
    status            TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    first_response_at TEXT,
    solved_at         TEXT,
    satisfaction      INTEGER
);
CREATE INDEX tickets_by_account ON tickets (account_id, created_at);

CREATE TABLE survey_responses (
    id           TEXT PRIMARY KEY NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    contact_id   TEXT,
    kind         TEXT NOT NULL,
    score        INTEGER NOT NULL,
    comment      TEXT,
    campaign     TEXT,
    responded_at TEXT NOT NULL
);
CREATE INDEX survey_responses_by_account ON survey_responses (account_id, responded_at);

CREATE TABLE invoices (
    id           TEXT PRIMARY KEY NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    amount_minor INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    issued_on    TEXT NOT NULL,
    due_on       TEXT NOT NULL,
    paid_on      TEXT,
    status       TEXT NOT NULL
);
CREATE INDEX invoices_by_account ON invoices (account_id);

CREATE TABLE payments (
    id             TEXT PRIMARY KEY NOT NULL,
    invoice_id     TEXT NOT NULL REFERENCES invoices (id),
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    amount_minor   INTEGER NOT NULL,
    currency       TEXT NOT NULL,
    attempted_at   TEXT NOT NULL,
    status         TEXT NOT NULL,
    failure_reason TEXT
);
CREATE INDEX payments_by_account ON payments (account_id);

CREATE TABLE activities (
    id          TEXT PRIMARY KEY NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    contact_id  TEXT,
    kind        TEXT NOT NULL,
    author      TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT
);
CREATE INDEX activities_by_account ON activities (account_id, occurred_at);

-- Demo only: the generator's latent truth, to judge scores and models against.
-- Nothing that scores accounts may read it.
CREATE TABLE demo_truth (
    account_id       TEXT PRIMARY KEY NOT NULL REFERENCES accounts (id),
    churn_propensity REAL NOT NULL,
    churned_on       TEXT
);
