-- The accounts of one band on one day (a filter of the portfolio), without reading
-- every snapshot of the day. Bands are matched with case ignored, hence LOWER; the
-- account is in the index so that the list is read from it alone.
CREATE INDEX IF NOT EXISTS health_snapshots_by_day_band ON health_snapshots (day, LOWER(band), account_id);
