-- Sessions ended on the server (sign-out, admin revocation): a session
-- cookie naming one of these ids no longer works. A row may go once its
-- session has expired.
CREATE TABLE session_revocations (
	id      text        PRIMARY KEY,
	expires timestamptz NOT NULL
);
CREATE INDEX session_revocations_expires ON session_revocations (expires);

-- Per-user session cutoffs ("sign out everywhere"): the user's sessions
-- issued before before no longer work.
CREATE TABLE user_session_cutoffs (
	user_name text        PRIMARY KEY,
	before    timestamptz NOT NULL,
	expires   timestamptz NOT NULL
);
CREATE INDEX user_session_cutoffs_expires ON user_session_cutoffs (expires);
