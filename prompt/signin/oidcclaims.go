package signin

import (
	"fmt"
	"strings"

	"go.uber.org/zap"
)

// defaultUserClaims are tried in order when no user claim is configured.
var defaultUserClaims = []string{"preferred_username", "email", "sub"}

// identity maps verified claims to an Identity.
func (o *OIDCLogin) identity(claims map[string]any) (Identity, error) {
	email, _ := claims["email"].(string)
	if isFalse(claims["email_verified"]) {
		// An address the provider has not verified may belong to
		// someone else; never use it to name or describe the user.
		email = ""
	}
	claimValue := func(name string) string {
		if name == "email" {
			return email
		}
		s, _ := claims[name].(string)
		return s
	}

	var user string
	if o.cfg.UserClaim != "" {
		// A configured claim is not silently replaced by another one,
		// which could make two people look alike to the upstream app.
		user = claimValue(o.cfg.UserClaim)
		if user == "" {
			return Identity{}, &LoginError{Reason: ReasonMissingClaim, Err: fmt.Errorf("id token has no %q claim", o.cfg.UserClaim)}
		}
	} else {
		var from string
		for _, from = range defaultUserClaims {
			if user = claimValue(from); user != "" {
				break
			}
		}
		if user == "" {
			return Identity{}, &LoginError{Reason: ReasonMissingClaim, Err: fmt.Errorf("id token has none of the claims %q", defaultUserClaims)}
		}
		if from == "sub" && !o.warnedSub.Swap(true) {
			o.cfg.Logger.Warn("OIDC user name fell back to the provider's opaque sub claim: the ID token has no preferred_username and no verified email; set user_claim, or have the provider send one of them",
				zap.String("issuer", o.cfg.Issuer), zap.String("user", user))
		}
	}

	groups, err := groupsClaim(claims[o.cfg.GroupsClaim])
	if err != nil {
		return Identity{}, &LoginError{Reason: ReasonInvalidToken, Err: fmt.Errorf("claim %q: %w", o.cfg.GroupsClaim, err)}
	}
	return Identity{User: user, Email: email, Groups: groups}, nil
}

// groupsClaim accepts an array of strings or a single string; a missing
// claim means no groups.
func groupsClaim(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		if v == "" {
			return nil, nil
		}
		return []string{v}, nil
	case []any:
		groups := make([]string, 0, len(v))
		for _, g := range v {
			s, ok := g.(string)
			if !ok {
				return nil, fmt.Errorf("groups must be strings, got %T", g)
			}
			if s != "" {
				groups = append(groups, s)
			}
		}
		return groups, nil
	default:
		return nil, fmt.Errorf("groups must be a string or an array of strings, got %T", v)
	}
}

// isFalse reports an explicit false, as a JSON boolean or, as some
// providers send it, a string.
func isFalse(v any) bool {
	switch v := v.(type) {
	case bool:
		return !v
	case string:
		return strings.EqualFold(v, "false")
	}
	return false
}
