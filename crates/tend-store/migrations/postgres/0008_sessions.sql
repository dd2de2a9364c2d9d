-- Signed-in sessions (the cookie's secret only as a hash), the responses of POSTs
-- sent with an Idempotency-Key, and an index for the portfolio health list, which
-- pages through one day's snapshots lowest score first.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY NOT NULL,
    user_handle  TEXT NOT NULL REFERENCES users (handle),
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE idempotency_keys (
    actor        TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (actor, idem_key)
);

CREATE INDEX health_snapshots_by_day_score ON health_snapshots (day, overall, account_id);
