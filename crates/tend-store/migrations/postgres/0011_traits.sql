-- Traits that Segment identify and group calls send beyond the fields of the data
-- model, kept as a JSON object per account and contact (later values of a trait win).
ALTER TABLE accounts ADD COLUMN traits TEXT NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN traits TEXT NOT NULL DEFAULT '{}';
