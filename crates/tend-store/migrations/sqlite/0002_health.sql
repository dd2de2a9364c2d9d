-- Account health, SQLite: one snapshot per account and day, with the score of every
-- group and measure kept as JSON so the snapshot explains itself.

CREATE TABLE health_snapshots (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    day        TEXT NOT NULL,
    scorecard  TEXT NOT NULL,
    overall    REAL,
    band       TEXT NOT NULL,
    groups     TEXT NOT NULL,
    measures   TEXT NOT NULL,
    PRIMARY KEY (account_id, day)
) WITHOUT ROWID;
CREATE INDEX health_snapshots_by_day ON health_snapshots (day);

-- The sorted raw values of a measure across a segment on a day, against which
-- percentile rules rank an account; written by full rescores, kept current by the
-- incremental path.
CREATE TABLE health_distributions (
    day       TEXT NOT NULL,
    scorecard TEXT NOT NULL,
    segment   TEXT NOT NULL,
    measure   INTEGER NOT NULL,
    vals      TEXT NOT NULL,
    PRIMARY KEY (scorecard, segment, measure, day)
) WITHOUT ROWID;
