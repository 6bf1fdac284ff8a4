-- Device trust in the auth log (DESIGN section 1). The defaults make rows
-- written before this step read back as zero values: no mode, not
-- would-block, no requirements failed, no device, not unbound.
-- failed_requirements and warnings are JSON arrays of strings; device_facts
-- is JSON as given; all three NULL where the Go value is nil or empty.
ALTER TABLE auth_log ADD COLUMN mode                TEXT    NOT NULL DEFAULT '';
ALTER TABLE auth_log ADD COLUMN would_block         INTEGER NOT NULL DEFAULT 0;
ALTER TABLE auth_log ADD COLUMN failed_requirements TEXT;
ALTER TABLE auth_log ADD COLUMN warnings            TEXT;
ALTER TABLE auth_log ADD COLUMN device_id           TEXT    NOT NULL DEFAULT '';
ALTER TABLE auth_log ADD COLUMN device_facts        TEXT;
ALTER TABLE auth_log ADD COLUMN access_kind         TEXT    NOT NULL DEFAULT '';
ALTER TABLE auth_log ADD COLUMN access_os           TEXT    NOT NULL DEFAULT '';
ALTER TABLE auth_log ADD COLUMN access_os_version   TEXT    NOT NULL DEFAULT '';
ALTER TABLE auth_log ADD COLUMN access_browser      TEXT    NOT NULL DEFAULT '';
ALTER TABLE auth_log ADD COLUMN unbound             INTEGER NOT NULL DEFAULT 0;

-- "What would block mode refuse?" is the question check mode exists to
-- answer; the partial index holds only those rows, so it costs nothing for
-- the rest.
CREATE INDEX auth_log_would_block ON auth_log (id) WHERE would_block = 1;
