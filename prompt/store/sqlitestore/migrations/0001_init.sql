-- Times are INTEGER microseconds since the Unix epoch, UTC.

-- Session-cookie key pairs. seq orders them: the highest is the newest,
-- whatever the Created times of instances with skewed clocks say.
CREATE TABLE cookie_keys (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	id        TEXT    NOT NULL UNIQUE,
	hash_key  BLOB    NOT NULL,
	block_key BLOB,
	created   INTEGER NOT NULL
);

-- Failed attempts, counted for lockouts.
CREATE TABLE failures (
	key TEXT    NOT NULL,
	at  INTEGER NOT NULL
);
CREATE INDEX failures_key_at ON failures (key, at);
CREATE INDEX failures_at ON failures (at);

-- Consumed single-use ids (OIDC state, device proofs).
CREATE TABLE single_use (
	id      TEXT    PRIMARY KEY,
	expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX single_use_expires ON single_use (expires);

-- The auth log. AUTOINCREMENT keeps IDs increasing and never reused, so they
-- work as a pagination cursor.
CREATE TABLE auth_log (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	at           INTEGER NOT NULL,
	username     TEXT    NOT NULL,
	email        TEXT    NOT NULL,
	group_names  TEXT    NOT NULL, -- JSON array of strings
	application  TEXT    NOT NULL,
	result       TEXT    NOT NULL,
	reason       TEXT    NOT NULL,
	factor       TEXT    NOT NULL,
	trust_status TEXT    NOT NULL,
	ip           TEXT    NOT NULL,
	user_agent   TEXT    NOT NULL,
	detail       TEXT    NOT NULL
);
CREATE INDEX auth_log_username ON auth_log (username, id);
CREATE INDEX auth_log_application ON auth_log (application, id);
CREATE INDEX auth_log_at ON auth_log (at);
