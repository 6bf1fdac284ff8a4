package caddymodule

import (
	"fmt"
	"sync"

	"github.com/trustgate/trustgate/prompt/session"
)

// namedRealmPrefix starts the realm of a site given a session_realm
// ("realm:<name>"), so that no name an operator picks can be taken for a
// login source's default realm ("users_file:..." or "oidc:...").
const namedRealmPrefix = "realm:"

// joinRealm works out the site's realm (by default the login source's
// Realm: the users file by its absolute path, or the OIDC provider's
// issuer and this gateway's client ID there), registers it with the sites of
// this configuration, and returns it. It refuses a session_realm already
// used by a site with another login source, naming where each was set.
func (h *Handler) joinRealm(app *App) (string, error) {
	source, err := h.login.Realm()
	if err != nil {
		return "", err
	}
	// A named realm is the name alone, so that its sessions hold where
	// the login source is spelt differently (the users file at another
	// path on another instance) and across a change of source; renaming
	// the realm ends them.
	realm := source
	if h.SessionRealm != "" {
		realm = namedRealmPrefix + h.SessionRealm
	}
	if other, ok := app.realms.join(realm, source, h.RealmDefinedAt); !ok {
		otherAt := ""
		if other.definedAt != "" {
			otherAt = " (" + other.definedAt + ")"
		}
		err := fmt.Errorf("session_realm %q: this site signs in with %s, but the realm's other site%s signs in with %s; "+
			"the sites of one realm must share one login source", h.SessionRealm, source, otherAt, other.source)
		if h.RealmDefinedAt != "" {
			err = fmt.Errorf("%s: %w", h.RealmDefinedAt, err)
		}
		return "", err
	}
	return realm, nil
}

// realmRegistry holds the realms of one configuration's sites: the login
// source of each, so that a realm shared on purpose cannot join two
// sources, and the realm of
// each ID, so that a session refused for its realm is logged with the
// realm's name.
//
// Like siteRegistry it lives on the App, which Caddy builds anew for every
// configuration: a reload fills a new registry, and the sites of the
// configuration it replaces never count against the new one's.
type realmRegistry struct {
	mu     sync.Mutex
	realms map[string]realmSite
	names  map[string]string
}

// realmSite is the first site provisioned in a realm.
type realmSite struct {
	// source is its login source; definedAt the file:line of its
	// session_realm, when known.
	source, definedAt string
}

// join records a site of realm that signs in with source. It reports
// false, and the site already in the realm, when that one has another
// login source.
func (r *realmRegistry) join(realm, source, definedAt string) (realmSite, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.realms == nil {
		r.realms, r.names = make(map[string]realmSite), make(map[string]string)
	}
	if first, ok := r.realms[realm]; ok {
		return first, first.source == source
	}
	r.realms[realm] = realmSite{source: source, definedAt: definedAt}
	r.names[session.RealmID(realm)] = realm
	return realmSite{}, true
}

// name returns the realm whose ID is id, or "" when no site of this
// configuration has it.
func (r *realmRegistry) name(id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.names[id]
}
