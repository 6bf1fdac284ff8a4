-- The inventories of managed devices (store.InventoryStore). An inventory
-- is pending while it is filled, then active, then previous; at most one
-- is active and one previous, which ActivateInventory and
-- RestorePreviousInventory keep so by running under the write lock. entries
-- counts its rows in inventory_entries, kept in the transaction that adds
-- them, so listing the inventories reads no entry.
CREATE TABLE inventories (
	id        TEXT    PRIMARY KEY,
	state     TEXT    NOT NULL, -- pending, active or previous
	source    TEXT    NOT NULL,
	entries   INTEGER NOT NULL DEFAULT 0,
	created   INTEGER NOT NULL,
	activated INTEGER           -- NULL until it first becomes active
) WITHOUT ROWID;

-- One managed device of an inventory. position numbers the entries 1..n in
-- the order they were added, so a page is a range of the primary key rather
-- than an OFFSET that reads every row before it. Rows go with their
-- inventory (DeleteInventory, ActivateInventory); there is no foreign key,
-- as for device_health.
CREATE TABLE inventory_entries (
	inventory_id    TEXT    NOT NULL,
	position        INTEGER NOT NULL,
	fingerprint     TEXT    NOT NULL,
	serial          TEXT    NOT NULL,
	san_uri         TEXT    NOT NULL,
	hardware_serial TEXT    NOT NULL,
	platform        TEXT    NOT NULL,
	owner           TEXT    NOT NULL,
	label           TEXT    NOT NULL,
	PRIMARY KEY (inventory_id, position)
) WITHOUT ROWID;
