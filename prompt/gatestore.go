package prompt

import (
	"context"

	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
)

// Store is what a gate keeps between requests, named by the parts that use
// it: the device service (activations, devices, transactions, pushes),
// session revocations, OIDC sign-ins (single-use states, kept provider
// tokens), password lockouts, and the gate's own auth log. A store.Store
// has all of it; the cookie keys, signing keys and retention are the
// runtime's (prompt/runtime), not the gate's.
type Store interface {
	device.Store
	session.Store
	signin.OIDCStore
	store.FailureStore

	// AppendAuthLog records one sign-in attempt and its outcome.
	AppendAuthLog(ctx context.Context, e store.AuthLogEntry) (int64, error)
}
