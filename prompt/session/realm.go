package session

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"path/filepath"

	lru "github.com/hashicorp/golang-lru/v2"
	"go.uber.org/zap"
)

// A realm names where a session was issued. A Keeper accepts only sessions
// (and login flows) of its own realm; any other counts as none, so a
// cookie copied from a site with another login source signs nobody in.
// By default a realm is the login source: UsersFileRealm or OIDCRealm.
// Sites put in one realm on purpose (Config.Realm) accept each other's
// sessions, and so must share one login source.
//
// A cookie carries the realm's ID (RealmID), not its name, so that it
// stays small; logs name the realm.

// UsersFileRealm returns the default realm of the sites that sign people
// in with the users file at path: "users_file:" and its absolute path.
func UsersFileRealm(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("users file %s: %w", path, err)
	}
	return "users_file:" + abs, nil
}

// OIDCRealm returns the default realm of the sites that sign people in
// through the OpenID Connect provider issuer as client clientID:
// "oidc:<issuer>#<client ID>".
func OIDCRealm(issuer, clientID string) string {
	return "oidc:" + issuer + "#" + clientID
}

// RealmID returns the ID that session cookies of realm carry: the first
// 16 bytes of its SHA-256, base64url-encoded (22 characters).
func RealmID(realm string) string {
	sum := sha256.Sum256([]byte(realm))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// foreignLogSize bounds how many refused sessions a Keeper remembers having
// logged, so that a copied cookie sent over and over is logged once.
const foreignLogSize = 1024

// realmGuard is a Keeper's realm: its ID, compared on every request, and
// what it needs to log a refused session once.
type realmGuard struct {
	// name is the realm, for logs; id is RealmID(name).
	name, id string
	// nameOf names a foreign realm by its ID; nil: the ID.
	nameOf func(id string) string
	// logged are the IDs of the refused sessions already logged.
	logged *lru.Cache[string, struct{}]
}

// newRealmGuard returns the guard of the realm called name.
func newRealmGuard(name string, nameOf func(string) string) (*realmGuard, error) {
	logged, err := lru.New[string, struct{}](foreignLogSize)
	if err != nil {
		return nil, fmt.Errorf("creating realm log: %w", err)
	}
	return &realmGuard{name: name, id: RealmID(name), nameOf: nameOf, logged: logged}, nil
}

// logForeignSession logs, once per session, that s came from another realm (or from
// before realms, when it names none) and was refused.
func (k *Keeper) logForeignSession(r *http.Request, s *Session) {
	rg := k.realm
	if found, _ := rg.logged.ContainsOrAdd(s.ID, struct{}{}); found {
		return
	}
	other := "none (made before realms)"
	if s.Realm != "" {
		other = s.Realm
		if rg.nameOf != nil {
			if name := rg.nameOf(s.Realm); name != "" {
				other = name
			}
		}
	}
	k.logger.Info("session from another realm refused",
		zap.String("realm", rg.name), zap.String("session_realm", other),
		zap.String("session_id", s.ID), zap.String("user", s.User), zap.String("ip", k.clientIP(r)))
}
