-- The users active on each account-day in raw events (track, page and screen calls,
-- by user id or else anonymous id), kept as events are written: live ingestion
-- updates daily and 30-day active users from it instead of reading raw events again.
CREATE TABLE usage_user_days (
    account_id TEXT NOT NULL,
    day        TEXT NOT NULL,
    user_key   TEXT NOT NULL,
    PRIMARY KEY (account_id, day, user_key)
) WITHOUT ROWID;
INSERT INTO usage_user_days (account_id, day, user_key)
SELECT DISTINCT account_id, day, COALESCE(user_id, anonymous_id) FROM usage_events
WHERE type IN ('track', 'page', 'screen') AND COALESCE(user_id, anonymous_id) IS NOT NULL;
-- Whether a user was active on an account in a window of days.
CREATE INDEX usage_user_days_by_user ON usage_user_days (account_id, user_key, day);
