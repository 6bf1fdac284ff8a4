-- Keys that sign the assertions handed to upstream applications (ES256).
-- private_key is the PKCS #8 DER private key, stored as the cookie keys
-- are. seq orders the keys: the highest is the newest, whatever the clocks
-- of the instances that made them said.
CREATE TABLE signing_keys (
	seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id          text        NOT NULL UNIQUE,
	private_key bytea       NOT NULL,
	created     timestamptz NOT NULL,
	activates   timestamptz NOT NULL
);
