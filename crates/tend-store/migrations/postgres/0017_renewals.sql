-- Renewals: the owner's calls on them, and proposals.

-- The owner's calls on renewals: each call (forecast category, the stage it moves the
-- renewal into, a note) is kept, so the latest is the renewal's call and the rest its
-- history. A renewal is its account, product and due day.

CREATE TABLE renewal_calls (
    id                BIGSERIAL PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id),
    product           TEXT NOT NULL,
    due_on            DATE NOT NULL,
    category          TEXT NOT NULL,
    stage             TEXT,
    note              TEXT,
    model_probability DOUBLE PRECISION,
    made_by           TEXT NOT NULL,
    made_at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX renewal_calls_by_renewal ON renewal_calls (account_id, product, due_on, id);

-- Renewal and expansion proposals, checked against the negotiation guardrails when
-- made: within them they are approved at once; beyond them they wait (`pending`) for
-- a leader of the route they need, who approves or rejects them with a comment.
CREATE TABLE proposals (
    id                 BIGSERIAL PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES accounts (id),
    kind               TEXT NOT NULL,
    lines              TEXT NOT NULL,
    currency           TEXT NOT NULL,
    discount_percent   DOUBLE PRECISION NOT NULL,
    term_months        INTEGER NOT NULL,
    payment_terms      TEXT NOT NULL,
    start_on           DATE NOT NULL,
    non_standard_terms TEXT,
    arr_minor          BIGINT NOT NULL,
    status             TEXT NOT NULL,
    route              TEXT,
    breaches           TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    decided_by         TEXT,
    decided_at         TIMESTAMPTZ,
    decision_comment   TEXT
);
CREATE INDEX proposals_by_status ON proposals (status, id);
CREATE INDEX proposals_by_account ON proposals (account_id, id);
