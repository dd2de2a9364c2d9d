-- An owner's book (the cockpit, renewals of a book, filters by owner) without
-- reading every account.
CREATE INDEX accounts_by_csm ON accounts (csm_owner);
CREATE INDEX accounts_by_am ON accounts (am_owner);
