-- The inventories of managed devices (store.InventoryStore). An inventory
-- is pending while it is filled, then active, then previous; at most one
-- is active and one previous, which ActivateInventory and
-- RestorePreviousInventory keep so by running one at a time under an
-- advisory lock. entries counts its rows in inventory_entries, kept in the
-- transaction that adds them, so listing the inventories reads no entry.
CREATE TABLE inventories (
	id        text        PRIMARY KEY,
	state     text        NOT NULL, -- pending, active or previous
	source    text        NOT NULL,
	entries   integer     NOT NULL DEFAULT 0,
	created   timestamptz NOT NULL,
	activated timestamptz           -- NULL until it first becomes active
);

-- One managed device of an inventory. position numbers the entries 1..n in
-- the order they were added, so a page is a range of the primary key rather
-- than an OFFSET that reads every row before it. Rows go with their
-- inventory (DeleteInventory, ActivateInventory); there is no foreign key,
-- as for device_health.
CREATE TABLE inventory_entries (
	inventory_id    text    NOT NULL,
	position        integer NOT NULL,
	fingerprint     text    NOT NULL,
	serial          text    NOT NULL,
	san_uri         text    NOT NULL,
	hardware_serial text    NOT NULL,
	platform        text    NOT NULL,
	owner           text    NOT NULL,
	label           text    NOT NULL,
	PRIMARY KEY (inventory_id, position)
);
