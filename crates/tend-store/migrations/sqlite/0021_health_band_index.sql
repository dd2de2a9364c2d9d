-- The accounts of one band on one day (a filter of the portfolio), without reading
-- every snapshot of the day. Bands are matched with case ignored, hence LOWER.
CREATE INDEX IF NOT EXISTS health_snapshots_by_day_band ON health_snapshots (day, LOWER(band));
