-- Every event name the usage data has counted, with the last day it was seen and how
-- many events were counted as it was written, so scorecards can be checked against
-- the names a company's product actually sends.
CREATE TABLE usage_event_names (
    name     TEXT PRIMARY KEY NOT NULL,
    last_day TEXT NOT NULL,
    events   INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO usage_event_names (name, last_day, events)
SELECT j.key, MAX(u.day), SUM(j.value)
FROM (SELECT day, feature_events FROM usage_daily
      UNION ALL SELECT day, feature_events FROM usage_event_daily) AS u,
     json_each(u.feature_events) AS j
GROUP BY j.key;
