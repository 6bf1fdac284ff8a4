package sites

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/trustgate/trustgate/prompt/session"
)

// A realm's sites must share one login source, so that a realm shared on
// purpose cannot join two sources; the registry keeps the first site of
// each realm to check the others against, and the realm of each ID, so
// that a session refused for its realm is logged with the realm's name.
//
// An admin's activation code binds its device to a realm
// (store.Device.Realm) as a site's prompt does: the realm of the
// application the admin names, or, when the admin names none, the one
// realm of this configuration's sites if they all share one. Otherwise the
// device is bound to no realm, and every site counts it for its person.
// Two sites naming one application in different realms make it ambiguous:
// a code for it is refused rather than bound to either.

// RealmSite is the first site provisioned in a realm.
type RealmSite struct {
	// Source is its login source; DefinedAt the file:line of its
	// session_realm, when known.
	Source, DefinedAt string
}

// JoinRealm records a site of realm that signs in with source. It reports
// false, and the site already in the realm, when that one has another
// login source.
func (r *Registry) JoinRealm(realm, source, definedAt string) (RealmSite, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.realms == nil {
		r.realms, r.names = make(map[string]RealmSite), make(map[string]string)
	}
	if first, ok := r.realms[realm]; ok {
		return first, first.Source == source
	}
	r.realms[realm] = RealmSite{Source: source, DefinedAt: definedAt}
	r.names[session.RealmID(realm)] = realm
	return RealmSite{}, true
}

// RealmName returns the realm whose ID is id, or "" when no site of this
// configuration has it.
func (r *Registry) RealmName(id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.names[id]
}

// RegisterApplicationRealm records that a site of application is in realm.
func (r *Registry) RegisterApplicationRealm(application, realm string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.applicationRealms == nil {
		r.applicationRealms = make(map[string][]string)
	}
	if !slices.Contains(r.applicationRealms[application], realm) {
		r.applicationRealms[application] = append(r.applicationRealms[application], realm)
	}
}

// ApplicationRealm returns the realm of application's sites. It fails when
// no site names application, or its sites are in different realms.
func (r *Registry) ApplicationRealm(application string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	realms := r.applicationRealms[application]
	switch len(realms) {
	case 0:
		known := slices.Sorted(maps.Keys(r.applicationRealms))
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

// ApplicationRealmID returns the ID of the realm of application's sites,
// or "" when no site names it or its sites are in different realms.
func (r *Registry) ApplicationRealmID(application string) string {
	realm, err := r.ApplicationRealm(application)
	if err != nil {
		return ""
	}
	return session.RealmID(realm)
}

// onlyRealm returns the realm of every site of this configuration when
// they all have one and the same, and "" otherwise.
func (r *Registry) onlyRealm() string {
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

// ActivationRealm returns the realm an admin code for application binds
// its device to, and that realm's ID ("" and "" for none): application's,
// or without one the configuration's only realm. An unknown or ambiguous
// application is an error.
func (r *Registry) ActivationRealm(application string) (realm, id string, err error) {
	if application != "" {
		realm, err = r.ApplicationRealm(application)
		if err != nil {
			return "", "", err
		}
	} else {
		realm = r.onlyRealm()
	}
	if realm == "" {
		return "", "", nil
	}
	return realm, session.RealmID(realm), nil
}
