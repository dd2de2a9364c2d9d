-- Usage from two sources, kept apart so that neither replaces the other: usage_daily
-- holds rollups imported as given (a warehouse's aggregates), usage_event_daily the
-- rollups tend computes from raw events. Health reads both, combined day by day.
CREATE TABLE usage_event_daily (
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    day              TEXT NOT NULL,
    events           INTEGER NOT NULL,
    active_users     INTEGER NOT NULL,
    active_users_30d INTEGER NOT NULL,
    feature_events   TEXT NOT NULL,
    PRIMARY KEY (account_id, day)
) WITHOUT ROWID;
CREATE INDEX usage_event_daily_by_day ON usage_event_daily (day);

-- The last day each kind of data reaches, kept as data is written, so that every
-- command can default to the day the store's data is complete for.
CREATE TABLE data_extent (
    source   TEXT PRIMARY KEY NOT NULL,
    last_day TEXT NOT NULL
);

-- Earlier versions wrote rollups of raw events into usage_daily, from each account's
-- first event on; move them, and drop the ones written for days after the data.
INSERT INTO usage_event_daily
SELECT u.* FROM usage_daily u
WHERE u.day >= (SELECT MIN(e.day) FROM usage_events e WHERE e.account_id = u.account_id);
DELETE FROM usage_daily
WHERE day >= (SELECT MIN(e.day) FROM usage_events e WHERE e.account_id = usage_daily.account_id);
DELETE FROM usage_event_daily WHERE day > (SELECT MAX(day) FROM usage_events);

INSERT INTO data_extent (source, last_day)
SELECT 'usage', MAX(day) FROM (
    SELECT MAX(day) AS day FROM usage_events
    UNION ALL SELECT MAX(day) FROM usage_daily
) AS days HAVING MAX(day) IS NOT NULL;
INSERT INTO data_extent (source, last_day)
SELECT 'tickets', MAX(substr(created_at, 1, 10)) FROM tickets HAVING COUNT(*) > 0;
INSERT INTO data_extent (source, last_day)
SELECT 'surveys', MAX(substr(responded_at, 1, 10)) FROM survey_responses HAVING COUNT(*) > 0;
INSERT INTO data_extent (source, last_day)
SELECT 'invoices', MAX(issued_on) FROM invoices HAVING COUNT(*) > 0;
INSERT INTO data_extent (source, last_day)
SELECT 'payments', MAX(substr(attempted_at, 1, 10)) FROM payments HAVING COUNT(*) > 0;
INSERT INTO data_extent (source, last_day)
SELECT 'activities', MAX(substr(occurred_at, 1, 10)) FROM activities HAVING COUNT(*) > 0;
