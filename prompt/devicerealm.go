package prompt

import (
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/store"
)

// Devices are bound to realms (device.InRealm); a gate binds the devices
// its prompt enrolls to deviceRealmOf.

// deviceRealmOf returns the ID of the realm a gate configured with cfg, in
// the realm whose ID is realm, binds the devices its prompt enrolls to: its
// realm, or none when the gate made up a realm of its own (a users file
// and no Config.Realm), which a restart replaces: devices bound to it
// would count nowhere after.
func deviceRealmOf(cfg Config, realm string) string {
	if cfg.Realm == "" && cfg.OIDC == nil {
		return ""
	}
	return realm
}

// ownsDevice reports whether d counts on this gate's site.
func (g *Gate) ownsDevice(d *store.Device) bool {
	return device.InRealm(d, g.realmID)
}

// scopeOf is the key of a gate's decisions in the trust cache, which every
// site of a configuration shares: the device policy and the realm, so that
// a decision one realm cached never holds on a site of another.
func scopeOf(policyHash, realmID string) string {
	return policyHash + " " + realmID
}

// realmName names the realm whose ID is id, for logs: this gate's name,
// the name the configuration knows, or the ID; "none" for an unbound
// device.
func (g *Gate) realmName(id string) string {
	switch {
	case id == "":
		return "none"
	case id == g.realmID:
		return g.cfg.Realm
	case g.cfg.RealmName != nil:
		if name := g.cfg.RealmName(id); name != "" {
			return name
		}
	}
	return id
}
