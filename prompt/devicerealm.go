package prompt

import (
	"github.com/trustgate/trustgate/prompt/store"
)

// A device is bound to the realm it was activated in (store.Device.Realm):
// the realm of the site whose prompt issued its activation code, or the one
// an administrator named. A site counts, for a person, only the devices of
// its own realm and the unbound ones (activated before devices had realms,
// or from an admin code issued without one), so that two sites whose login
// sources both know an "alice" do not share her devices: a phone enrolled
// for one does not vouch for the other's alice, nor get her login requests.

// DeviceInRealm reports whether d counts in the realm whose ID is realm:
// it is bound to that realm or to none. An empty realm (none known) counts
// every device, as an unbound device counts in every realm.
func DeviceInRealm(d *store.Device, realm string) bool {
	return realm == "" || d.Realm == "" || d.Realm == realm
}

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
	return DeviceInRealm(d, g.realm.id)
}

// txRealm returns the ID of the realm tx was started in: recorded since
// devices have realms, this gate's for a transaction made before.
func (g *Gate) txRealm(tx *transaction) string {
	if tx.rec.Realm != "" {
		return tx.rec.Realm
	}
	return g.realm.id
}

// codeRealm returns the ID of the realm whose devices count for a prompt's
// code bound to realm: that one, or, for a code bound to none (issued
// before codes had realms, or by a gate that binds to none), this gate's.
func (g *Gate) codeRealm(realm string) string {
	if realm == "" {
		return g.realm.id
	}
	return realm
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
	rg := g.realm
	switch {
	case id == "":
		return "none"
	case id == rg.id:
		return rg.name
	case rg.nameOf != nil:
		if name := rg.nameOf(id); name != "" {
			return name
		}
	}
	return id
}
