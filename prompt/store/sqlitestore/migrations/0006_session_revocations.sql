-- Sessions ended on the server (sign-out, admin revocation): a session
-- cookie naming one of these ids no longer works. Times are microseconds
-- since the Unix epoch; a row may go once its session has expired.
CREATE TABLE session_revocations (
	id      TEXT    PRIMARY KEY,
	expires INTEGER NOT NULL
);
CREATE INDEX session_revocations_expires ON session_revocations (expires);

-- Per-user session cutoffs ("sign out everywhere"): the user's sessions
-- issued before before no longer work.
CREATE TABLE user_session_cutoffs (
	user_name TEXT    PRIMARY KEY,
	before    INTEGER NOT NULL,
	expires   INTEGER NOT NULL
);
CREATE INDEX user_session_cutoffs_expires ON user_session_cutoffs (expires);
