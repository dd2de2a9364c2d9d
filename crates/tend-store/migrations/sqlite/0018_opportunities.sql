-- Expansion opportunities an account manager tracks: from a signal, a playbook or
-- by hand (the source, for revenue attribution), with a stage, an amount of ARR,
-- the day it is expected to close (the day it closed, once won or lost) and an
-- owner. Every change is in the audit log.

CREATE TABLE opportunities (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    product       TEXT NOT NULL,
    title         TEXT NOT NULL,
    stage         TEXT NOT NULL,
    amount_minor  INTEGER NOT NULL,
    currency      TEXT NOT NULL,
    close_on      TEXT NOT NULL,
    owner         TEXT,
    source        TEXT NOT NULL,
    source_detail TEXT,
    note          TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX opportunities_by_account ON opportunities (account_id, id);
CREATE INDEX opportunities_by_stage ON opportunities (stage, close_on);
