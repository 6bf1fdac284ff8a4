package caddymodule

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/trustgate/trustgate/prompt/session"
)

// An admin's activation code binds its device to a realm (store.Device.Realm)
// as a site's prompt does: the realm of the application the admin names,
// or, when the admin names none, the one realm of this configuration's
// sites if they all share one. Otherwise the device is bound to no realm,
// and every site counts it for its person.

// applicationRealms holds the realm of each application's sites, by
// application name. Two sites naming one application in different realms
// make it ambiguous: a code for it is refused rather than bound to either.
type applicationRealms map[string][]string

// registerRealm records that a site of application is in realm.
func (r *siteRegistry) registerRealm(application, realm string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.realms == nil {
		r.realms = make(applicationRealms)
	}
	if !slices.Contains(r.realms[application], realm) {
		r.realms[application] = append(r.realms[application], realm)
	}
}

// applicationRealm returns the realm of application's sites. It fails when
// no site names application, or its sites are in different realms.
func (r *siteRegistry) applicationRealm(application string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	realms := r.realms[application]
	switch len(realms) {
	case 0:
		known := slices.Sorted(maps.Keys(r.realms))
		if len(known) == 0 {
			return "", fmt.Errorf("application %q: no site of this configuration names an application", application)
		}
		return "", fmt.Errorf("application %q: no site of this configuration names it (known: %s)", application, strings.Join(known, ", "))
	case 1:
		return realms[0], nil
	}
	return "", fmt.Errorf("application %q: its sites are in different realms (%s); name an application whose sites share one realm",
		application, strings.Join(realms, ", "))
}

// applicationRealmID returns the ID of the realm of application's sites, or
// "" when no site names it or its sites are in different realms.
func (r *siteRegistry) applicationRealmID(application string) string {
	realm, err := r.applicationRealm(application)
	if err != nil {
		return ""
	}
	return session.RealmID(realm)
}

// only returns the realm of every site of this configuration when they all
// have one and the same, and "" otherwise.
func (r *realmRegistry) only() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.realms) != 1 {
		return ""
	}
	for realm := range r.realms {
		return realm
	}
	return ""
}

// activationRealm returns the realm an admin code for application binds its
// device to, and that realm's ID ("" and "" for none): application's, or
// without one the configuration's only realm. An unknown or ambiguous
// application is an error.
func (a *App) activationRealm(application string) (realm, id string, err error) {
	if application != "" {
		realm, err = a.sites.applicationRealm(application)
		if err != nil {
			return "", "", err
		}
	} else {
		realm = a.realms.only()
	}
	if realm == "" {
		return "", "", nil
	}
	return realm, session.RealmID(realm), nil
}
