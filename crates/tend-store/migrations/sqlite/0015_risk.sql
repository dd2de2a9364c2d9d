-- Churn risk. A model is fitted on the store's own history and kept whole (its
-- features, its JSON and its backtest), so scoring later needs no refit; the newest
-- row of a target is the one in use.
CREATE TABLE risk_models (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    target       TEXT NOT NULL,
    fitted_at    TEXT NOT NULL,
    as_of        TEXT NOT NULL,
    horizon_days INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    features     TEXT NOT NULL,
    model        TEXT NOT NULL,
    evaluation   TEXT NOT NULL
);

-- One risk snapshot per account, target and day, as health: the calibrated probability,
-- its band and the top reasons in words (JSON), with the model that made it.
CREATE TABLE risk_snapshots (
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    target      TEXT NOT NULL,
    day         TEXT NOT NULL,
    model_id    INTEGER NOT NULL REFERENCES risk_models (id),
    probability REAL NOT NULL,
    band        TEXT NOT NULL,
    reasons     TEXT NOT NULL,
    PRIMARY KEY (account_id, target, day)
) WITHOUT ROWID;
CREATE INDEX risk_snapshots_by_day ON risk_snapshots (target, day, probability);
