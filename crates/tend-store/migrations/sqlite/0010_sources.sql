-- Event sources: each sends Segment calls with a write key of its own, stored only
-- as a hash.
CREATE TABLE sources (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- identify calls find their contact by email, case ignored, one batch at a time.
CREATE INDEX contacts_by_email ON contacts (lower(email));
