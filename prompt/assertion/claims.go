package assertion

import (
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/trustgate/trustgate/policy"
)

// Claims are the claims of the upstream assertion. iss, sub, aud, exp,
// nbf, iat and jti are the registered claims; sub is the user name.
type Claims struct {
	jwt.Claims
	// Email is the user's email address, when known.
	Email string `json:"email,omitempty"`
	// Groups are the user's groups.
	Groups []string `json:"groups,omitempty"`
	// DeviceID is the mobile device that vouched for the access device, if
	// any.
	DeviceID string `json:"device_id,omitempty"`
	// Trust is the access device's trust status: trusted, not_trusted or
	// unknown (always unknown in mode off).
	Trust string `json:"trust"`
	// Mode is the site's policy mode: off, check or block.
	Mode string `json:"mode"`
	// Failed are the reason codes of the requirements the device failed,
	// such as no_screen_lock.
	Failed []string `json:"failed,omitempty"`
}

// Trust claim values.
const (
	Trusted    = "trusted"
	NotTrusted = "not_trusted"
	Unknown    = "unknown"
)

// trustClaim turns a session's trust status into the claim's vocabulary,
// which has no space in it.
func trustClaim(status string) string {
	switch policy.Status(status) {
	case policy.Trusted:
		return Trusted
	case policy.NotTrusted:
		return NotTrusted
	}
	return Unknown
}
