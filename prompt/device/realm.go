package device

import "github.com/trustgate/trustgate/prompt/store"

// A device is bound to the realm it was activated in (store.Device.Realm):
// the realm of the site whose prompt issued its activation code, or the one
// an administrator named. A site counts, for a person, only the devices of
// its own realm and the unbound ones (activated before devices had realms,
// or from an admin code issued without one), so that two sites whose login
// sources both know an "alice" do not share her devices: a phone enrolled
// for one does not vouch for the other's alice, nor get her login requests.

// InRealm reports whether d counts in the realm whose ID is realm: it is
// bound to that realm or to none. An empty realm (none known) counts every
// device, as an unbound device counts in every realm.
func InRealm(d *store.Device, realm string) bool {
	return realm == "" || d.Realm == "" || d.Realm == realm
}
