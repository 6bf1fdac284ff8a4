-- What an OIDC sign-in keeps on the server for its session: the provider's
-- tokens, encrypted by the gateway (tokens is opaque here). A row may go
-- once its session has expired.
CREATE TABLE provider_sessions (
	session_id text        PRIMARY KEY,
	tokens     text        NOT NULL,
	expires    timestamptz NOT NULL
);
CREATE INDEX provider_sessions_expires ON provider_sessions (expires);
