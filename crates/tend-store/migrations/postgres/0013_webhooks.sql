-- Outbound webhooks. A subscription names a URL and the event types it wants; the
-- signing secret is kept as given, because tend signs every delivery with it.
CREATE TABLE webhook_subscriptions (
    id              TEXT PRIMARY KEY NOT NULL,
    url             TEXT NOT NULL,
    event_types     TEXT NOT NULL,
    format          TEXT NOT NULL,
    secret          TEXT NOT NULL,
    active          BOOLEAN NOT NULL,
    disabled_reason TEXT,
    failure_streak  BIGINT NOT NULL DEFAULT 0,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);

-- The outbox: one row per event and subscription, written in the transaction that
-- found the event, sent (and retried) from here, and kept as the delivery log.
CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    last_attempt_at TIMESTAMPTZ,
    last_status     BIGINT,
    last_error      TEXT,
    delivered_at    TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (subscription_id, account_id, id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (subscription_id, id);

-- What the health events of each account were last computed against: its band and
-- score, and its highest score since the last drop was told.
CREATE TABLE health_watch (
    account_id TEXT PRIMARY KEY NOT NULL,
    band       TEXT NOT NULL,
    score      DOUBLE PRECISION,
    peak       DOUBLE PRECISION
);
