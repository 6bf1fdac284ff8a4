package prompt

import (
	"net/http"

	"github.com/trustgate/trustgate/prompt/session"
)

// Forwarding names for code outside the session helper's files, so that it
// keeps compiling while the restructure lands; the lead removes this file
// after merging, pointing its users at package session.

type (
	CookieCodec  = session.CookieCodec
	Revocations  = session.Revocations
	Session      = session.Session
	Identity     = session.Identity
	sessionTrust = session.Trust
)

const (
	KeyPropagationDelay = session.KeyPropagationDelay
	flowLifetime        = session.FlowLifetime
	sessionCookie       = session.CookieBase
	flowCookie          = session.FlowCookieBase
)

var (
	NewCookieCodec          = session.NewCookieCodec
	NewCookieKey            = session.NewCookieKey
	NewRevocations          = session.NewRevocations
	RealmID                 = session.RealmID
	UsersFileRealm          = session.UsersFileRealm
	OIDCRealm               = session.OIDCRealm
	IsStoredButNotAnnounced = session.IsStoredButNotAnnounced
	logRevocationError      = session.LogRevocationError
)

// realmView is the gate's realm as other files read it (g.realm.id,
// .name, .nameOf); the session.Keeper holds the realm itself.
type realmView struct {
	name, id string
	nameOf   func(id string) string
}

func stripGatewayCookies(r *http.Request) { session.StripCookies(r) }

func withoutGatewayCookies(line string) (string, bool) { return session.StripCookieLine(line) }
