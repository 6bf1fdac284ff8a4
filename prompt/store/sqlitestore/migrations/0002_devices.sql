-- Devices, activations, verification transactions and pushes.
-- Times are INTEGER microseconds since the Unix epoch, UTC; NULL where the
-- Go value is the zero time. JSON is TEXT, kept as given; NULL where the Go
-- value is nil or empty.

-- Activated mobile apps. The implicit rowid breaks ties between devices
-- created in the same microsecond, so that a user's list keeps one order.
CREATE TABLE devices (
	id              TEXT    PRIMARY KEY, -- RFC 7638 thumbprint of the key
	username        TEXT    NOT NULL,
	public_key      TEXT,                -- JWK
	platform        TEXT    NOT NULL,
	model           TEXT    NOT NULL,
	os_version      TEXT    NOT NULL,
	app_version     TEXT    NOT NULL,
	passcode_secret TEXT    NOT NULL,
	created         INTEGER NOT NULL,
	last_seen       INTEGER,
	revoked         INTEGER,
	health          TEXT,                -- latest health facts
	verdict         TEXT    NOT NULL,
	verified_at     INTEGER
);
CREATE INDEX devices_username_created ON devices (username, created);

-- Unused activation codes, by hash; a code is deleted when it is used.
CREATE TABLE activations (
	code_hash TEXT    PRIMARY KEY,
	username  TEXT    NOT NULL,
	created   INTEGER NOT NULL,
	expires   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX activations_expires ON activations (expires);

CREATE TABLE transactions (
	id        TEXT    PRIMARY KEY,
	username  TEXT    NOT NULL,
	state     TEXT    NOT NULL CHECK (state IN ('pending', 'reported', 'approved', 'denied', 'completed')),
	device_id TEXT    NOT NULL, -- '' until a device has reported
	data      TEXT,             -- the flow's own record
	created   INTEGER NOT NULL,
	expires   INTEGER NOT NULL,
	updated   INTEGER
) WITHOUT ROWID;
CREATE INDEX transactions_expires ON transactions (expires);

-- Login requests shown in the app. The implicit rowid breaks ties between
-- pushes created in the same microsecond.
CREATE TABLE pushes (
	id             TEXT    PRIMARY KEY,
	username       TEXT    NOT NULL,
	device_id      TEXT    NOT NULL,
	transaction_id TEXT    NOT NULL,
	state          TEXT    NOT NULL CHECK (state IN ('pending', 'approved', 'denied')),
	details        TEXT,
	answer         TEXT    NOT NULL,
	created        INTEGER NOT NULL,
	expires        INTEGER NOT NULL
);
CREATE INDEX pushes_device_state_created ON pushes (device_id, state, created);
CREATE INDEX pushes_expires ON pushes (expires);
