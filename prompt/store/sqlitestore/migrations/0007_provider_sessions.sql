-- What an OIDC sign-in keeps on the server for its session: the provider's
-- tokens, encrypted by the gateway (tokens is opaque here). Times are
-- microseconds since the Unix epoch; a row may go once its session has
-- expired.
CREATE TABLE provider_sessions (
	session_id TEXT    PRIMARY KEY,
	tokens     TEXT    NOT NULL,
	expires    INTEGER NOT NULL
);
CREATE INDEX provider_sessions_expires ON provider_sessions (expires);
