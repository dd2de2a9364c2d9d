-- Segment users tied to accounts: by a group call (userId + groupId) or by an
-- identify call whose email is a contact's. Calls without a groupId are attributed
-- to their user's account.
CREATE TABLE usage_users (
    user_key   TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    linked_at  TIMESTAMPTZ NOT NULL,
    linked_by  TEXT NOT NULL
);

-- Calls whose user is not tied to an account yet, kept until a group call links the
-- user; then they move to usage_events.
CREATE TABLE usage_pending (
    user_id      TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    ts           TIMESTAMPTZ NOT NULL,
    type         TEXT NOT NULL,
    anonymous_id TEXT,
    event        TEXT NOT NULL,
    properties   TEXT NOT NULL,
    PRIMARY KEY (user_id, message_id)
) ;
