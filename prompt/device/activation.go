package device

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
)

// DefaultActivationTTL is how long an activation code stays valid when
// nothing else is said.
const DefaultActivationTTL = 10 * time.Minute

// ActivationStore keeps activation codes.
type ActivationStore interface {
	CreateActivation(ctx context.Context, a store.Activation) error
}

// IssueActivation stores a new single-use activation code for user, valid
// for ttl from now, and returns the code. Only a hash of it is stored. It
// is how an admin issues a code (the admin API, the dashboard), which
// activates a device under every enrollment choice; the prompt's codes
// carry their source (Service.IssuePromptActivation). The device it activates is
// bound to the realm whose ID (prompt.RealmID) is realm; empty binds it to none,
// and every site then counts it for user.
func IssueActivation(ctx context.Context, st ActivationStore, user, realm string, ttl time.Duration, now time.Time) (string, error) {
	if user == "" {
		return "", errors.New("activation: no user")
	}
	if ttl <= 0 {
		ttl = DefaultActivationTTL
	}
	code := secret.Token()
	err := st.CreateActivation(ctx, store.Activation{
		CodeHash: secret.Hash(code),
		User:     user,
		Realm:    realm,
		Created:  now,
		Expires:  now.Add(ttl),
	})
	if err != nil {
		return "", fmt.Errorf("storing activation: %w", err)
	}
	return code, nil
}

// ActivationLinks returns the custom-scheme and HTTPS activation links for
// code on the gateway at origin (scheme://host[:port]).
func ActivationLinks(origin, code string) (app, https string) {
	q := url.Values{protocol.ParamOrigin: {origin}, protocol.ParamCode: {code}}
	app = protocol.Scheme + "://activate?" + q.Encode()
	https = origin + protocol.ActivateLinkPath + "?" + url.Values{protocol.ParamCode: {code}}.Encode()
	return app, https
}
