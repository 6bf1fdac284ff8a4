package caddymodule

import "fmt"

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
	if other, ok := app.sites.JoinRealm(realm, source, h.RealmDefinedAt); !ok {
		otherAt := ""
		if other.DefinedAt != "" {
			otherAt = " (" + other.DefinedAt + ")"
		}
		err := fmt.Errorf("session_realm %q: this site signs in with %s, but the realm's other site%s signs in with %s; "+
			"the sites of one realm must share one login source", h.SessionRealm, source, otherAt, other.Source)
		if h.RealmDefinedAt != "" {
			err = fmt.Errorf("%s: %w", h.RealmDefinedAt, err)
		}
		return "", err
	}
	return realm, nil
}
