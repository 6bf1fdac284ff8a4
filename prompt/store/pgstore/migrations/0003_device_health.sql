-- Device health history: one row per health report (RecordHealth), so that
-- an admin can see how a device's health changed. The rows of a device are
-- deleted with it (PurgeInactiveDevices). seq breaks ties between reports
-- made in the same microsecond.
CREATE TABLE device_health (
	seq       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	device_id text        NOT NULL,
	at        timestamptz NOT NULL,
	health    text,                 -- the facts as JSON, kept as given
	verdict   text        NOT NULL
);
CREATE INDEX device_health_device_at ON device_health (device_id, at, seq);
