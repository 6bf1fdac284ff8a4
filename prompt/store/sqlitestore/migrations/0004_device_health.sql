-- Device health history: one row per health report (RecordHealth), so that
-- an admin can see how a device's health changed. The row of a device is
-- deleted with it (PurgeInactiveDevices); there is no foreign key, so that
-- deleting a device stays one cheap statement per table. seq breaks ties
-- between reports made in the same microsecond.
CREATE TABLE device_health (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	device_id TEXT    NOT NULL,
	at        INTEGER NOT NULL,
	health    TEXT,             -- the facts as JSON
	verdict   TEXT    NOT NULL
);
CREATE INDEX device_health_device_at ON device_health (device_id, at, seq);
