-- The account list sorted by name, a page at a time.
CREATE INDEX accounts_by_name ON accounts (name, id);
