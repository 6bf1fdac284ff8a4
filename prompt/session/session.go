package session

import (
	"strings"
	"time"
)

// Identity is who a person proved to be at primary login, as the session
// cookie carries it.
type Identity struct {
	// User is the stable user name handed to the upstream application.
	User string `json:"u"`
	// Email is the user's email address, when known.
	Email string `json:"e,omitempty"`
	// Groups are the user's groups, used by policy and handed upstream.
	Groups []string `json:"g,omitempty"`

	// ProviderRef names the provider tokens an OIDC sign-in keeps in the
	// store (never in the cookie); empty when none were kept.
	ProviderRef string `json:"pr,omitempty"`
	// RecheckAt (Unix seconds), when set, is when the next request asks
	// the OIDC provider again whether the person may still sign in
	// (revalidate).
	RecheckAt int64 `json:"rc,omitempty"`
}

// Session is the content of the session cookie. It is self-contained, so a
// signed-in request needs no storage lookup.
type Session struct {
	Identity
	// ID identifies this session, for logs and revocation.
	ID string `json:"id"`
	// Factor is how the user signed in: password or oidc.
	Factor string `json:"f"`
	// IssuedAt and ExpiresAt are Unix seconds.
	IssuedAt  int64 `json:"iat"`
	ExpiresAt int64 `json:"exp"`
	// IssuedAtMilli is IssuedAt in Unix milliseconds, so that a session
	// begun just after a "sign out everywhere" is not taken for one begun
	// just before; zero in cookies made before it existed.
	IssuedAtMilli int64 `json:"im,omitempty"`
	// CSRF is the token that the session's own forms (logout) must carry.
	CSRF string `json:"c"`
	// Realm is the ID (RealmID) of the realm the session was issued in;
	// only gates of that realm accept it. Empty in cookies made before
	// realms, which no gate accepts.
	Realm string `json:"r"`

	// Trust is the access device's trust status when the session began or
	// was last checked: trusted, not trusted or unknown; empty when no
	// device check applies (mode off).
	Trust string `json:"t,omitempty"`
	// DeviceID is the mobile device that vouched for the access device, if
	// any; its revocation ends the trust at once.
	DeviceID string `json:"d,omitempty"`
	// DeviceCertificate is the SHA-256 (unpadded base64url) of the client
	// certificate of the managed device that vouched for the access
	// device, if any: the trust holds only on connections whose verified
	// certificate is that one, while the active inventory holds it.
	DeviceCertificate string `json:"dc,omitempty"`
	// PolicyHash is the hash of the device policy the trust was decided
	// under; a changed policy decides again.
	PolicyHash string `json:"ph,omitempty"`
	// TrustExpiresAt (Unix seconds) is when the device must be checked again.
	TrustExpiresAt int64 `json:"te,omitempty"`
	// Failed and Warnings are the reason codes of the requirements the
	// device failed or was warned about.
	Failed   []string `json:"fr,omitempty"`
	Warnings []string `json:"wr,omitempty"`

	// joinedGroups is Groups joined by commas, worked out once for a
	// session kept in the session cache; see JoinedGroups.
	joinedGroups string
}

// JoinedGroups returns the user's groups joined by commas, as the identity
// header and the placeholders carry them.
func (s *Session) JoinedGroups() string {
	if s.joinedGroups != "" || len(s.Groups) == 0 {
		return s.joinedGroups
	}
	return strings.Join(s.Groups, ",")
}

// Expires returns when the session ends.
func (s *Session) Expires() time.Time { return time.Unix(s.ExpiresAt, 0) }

// issuedMilli is when the session began, in Unix milliseconds; for a cookie
// without IssuedAtMilli, the start of its IssuedAt second, so that a cutoff
// within that second revokes it.
func (s *Session) issuedMilli() int64 {
	if s.IssuedAtMilli != 0 {
		return s.IssuedAtMilli
	}
	return s.IssuedAt * 1000
}
