-- The whole schema of the PostgreSQL store. It holds what the SQLite store
-- holds after its migration 0003, in PostgreSQL's own types:
--
--   - Times are timestamptz (microsecond precision); NULL where the Go value
--     is the zero time.
--   - JSON documents the store treats as opaque (public keys, health facts,
--     transaction data, push details, auth-log device facts) are text, kept
--     byte for byte as given; NULL where the Go value is nil or empty.
--   - Lists of strings are text[].
--   - A seq identity column breaks ties between rows created in the same
--     microsecond, so that lists keep the order rows were stored in.

-- Session-cookie key pairs. seq orders them: the highest is the newest,
-- whatever the Created times of instances with skewed clocks say.
CREATE TABLE cookie_keys (
	seq       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id        text        NOT NULL UNIQUE,
	hash_key  bytea       NOT NULL,
	block_key bytea,
	created   timestamptz NOT NULL
);

-- Failed attempts, counted for lockouts.
CREATE TABLE failures (
	key text        NOT NULL,
	at  timestamptz NOT NULL
);
CREATE INDEX failures_key_at ON failures (key, at);
CREATE INDEX failures_at ON failures (at);

-- Consumed single-use ids (OIDC state, device proofs).
CREATE TABLE single_use (
	id      text        PRIMARY KEY,
	expires timestamptz NOT NULL
);
CREATE INDEX single_use_expires ON single_use (expires);

-- The auth log. Identity values only grow and are never reused, so IDs work
-- as a pagination cursor.
CREATE TABLE auth_log (
	id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at                  timestamptz NOT NULL,
	username            text        NOT NULL,
	email               text        NOT NULL,
	group_names         text[]      NOT NULL,
	application         text        NOT NULL,
	result              text        NOT NULL,
	reason              text        NOT NULL,
	factor              text        NOT NULL,
	trust_status        text        NOT NULL,
	ip                  text        NOT NULL,
	user_agent          text        NOT NULL,
	detail              text        NOT NULL,
	mode                text        NOT NULL DEFAULT '',
	would_block         boolean     NOT NULL DEFAULT false,
	failed_requirements text[],
	warnings            text[],
	device_id           text        NOT NULL DEFAULT '',
	device_facts        text,
	access_kind         text        NOT NULL DEFAULT '',
	access_os           text        NOT NULL DEFAULT '',
	access_os_version   text        NOT NULL DEFAULT '',
	access_browser      text        NOT NULL DEFAULT '',
	unbound             boolean     NOT NULL DEFAULT false
);
CREATE INDEX auth_log_username ON auth_log (username, id);
CREATE INDEX auth_log_application ON auth_log (application, id);
CREATE INDEX auth_log_at ON auth_log (at);
-- "What would block mode refuse?" is the question check mode exists to
-- answer; the partial index holds only those rows.
CREATE INDEX auth_log_would_block ON auth_log (id) WHERE would_block;

-- Activated mobile apps.
CREATE TABLE devices (
	id              text        PRIMARY KEY, -- RFC 7638 thumbprint of the key
	seq             bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
	username        text        NOT NULL,
	public_key      text,                    -- JWK
	platform        text        NOT NULL,
	model           text        NOT NULL,
	os_version      text        NOT NULL,
	app_version     text        NOT NULL,
	passcode_secret text        NOT NULL,
	created         timestamptz NOT NULL,
	last_seen       timestamptz,
	revoked         timestamptz,
	health          text,                    -- latest health facts
	verdict         text        NOT NULL,
	verified_at     timestamptz
);
CREATE INDEX devices_username_created ON devices (username, created, seq);

-- Unused activation codes, by hash; a code is deleted when it is used.
CREATE TABLE activations (
	code_hash text        PRIMARY KEY,
	username  text        NOT NULL,
	created   timestamptz NOT NULL,
	expires   timestamptz NOT NULL
);
CREATE INDEX activations_expires ON activations (expires);

CREATE TABLE transactions (
	id        text        PRIMARY KEY,
	username  text        NOT NULL,
	state     text        NOT NULL CHECK (state IN ('pending', 'reported', 'approved', 'denied', 'completed')),
	device_id text        NOT NULL, -- '' until a device has reported
	data      text,                 -- the flow's own record
	created   timestamptz NOT NULL,
	expires   timestamptz NOT NULL,
	updated   timestamptz
);
CREATE INDEX transactions_expires ON transactions (expires);

-- Login requests shown in the app.
CREATE TABLE pushes (
	id             text        PRIMARY KEY,
	seq            bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
	username       text        NOT NULL,
	device_id      text        NOT NULL,
	transaction_id text        NOT NULL,
	state          text        NOT NULL CHECK (state IN ('pending', 'approved', 'denied')),
	details        text,
	answer         text        NOT NULL,
	created        timestamptz NOT NULL,
	expires        timestamptz NOT NULL
);
CREATE INDEX pushes_device_state_created ON pushes (device_id, state, created, seq);
CREATE INDEX pushes_expires ON pushes (expires);
