-- The realm a device was activated in (a realm ID as prompt.RealmID gives),
-- and the realm an activation code was issued for: a site counts only the
-- devices of its own realm, or unbound ones. Empty means not bound: devices
-- activated before this step, and admin codes issued without a realm.
ALTER TABLE devices ADD COLUMN realm text NOT NULL DEFAULT '';
ALTER TABLE activations ADD COLUMN realm text NOT NULL DEFAULT '';
