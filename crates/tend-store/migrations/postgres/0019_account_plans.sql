-- The account manager's desk beside the success plan: account plans, the stakeholder
-- map and the cross-functional account team.

-- Every save of an account plan is a new version; the latest is the plan and the
-- rest its history. Objectives and risks are JSON lists of text.
CREATE TABLE account_plans (
    id               BIGSERIAL PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    objectives       TEXT NOT NULL,
    growth_strategy  TEXT,
    target_arr_minor BIGINT,
    currency         TEXT,
    risks            TEXT NOT NULL,
    next_review_on   DATE,
    owner            TEXT,
    saved_by         TEXT NOT NULL,
    saved_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX account_plans_by_account ON account_plans (account_id, id);

-- How a contact stands in the relationship: influence, sentiment, the strength of
-- the relationship (1–5) and whom they report to.
CREATE TABLE stakeholders (
    contact_id   TEXT PRIMARY KEY NOT NULL REFERENCES contacts (id),
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    influence    TEXT NOT NULL,
    sentiment    TEXT NOT NULL,
    strength     INTEGER NOT NULL,
    reports_to   TEXT REFERENCES contacts (id),
    updated_by   TEXT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX stakeholders_by_account ON stakeholders (account_id);

-- Who works the account inside the company, in which role.
CREATE TABLE account_team (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    handle     TEXT NOT NULL,
    role       TEXT NOT NULL,
    added_by   TEXT NOT NULL,
    added_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, handle, role)
);
