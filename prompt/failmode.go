package prompt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
)

// FailMode says what signing in does while storage is unreachable. Signed-in
// requests whose session and trust are still valid keep working in every
// mode: sessions are self-contained and decisions are cached.
type FailMode string

// Fail modes.
const (
	// FailSecure refuses new sign-ins with a "temporarily unavailable" page
	// (503 for API clients) until storage is back. The default when the
	// mode is block or off.
	FailSecure FailMode = "secure"
	// FailSafe lets a person who passed the primary login through without
	// the steps that need storage (lockout counting, the device check, the
	// auth log), and logs each such sign-in loudly.
	FailSafe FailMode = "safe"
	// FailCheck degrades the application to mode check: people get in,
	// marked would_block with reason storage_unavailable in the logs. The
	// default when the mode is check.
	FailCheck FailMode = "check"
)

// ParseFailMode parses "secure", "safe" or "check".
func ParseFailMode(s string) (FailMode, error) {
	switch m := FailMode(s); m {
	case FailSecure, FailSafe, FailCheck:
		return m, nil
	}
	return "", fmt.Errorf("unknown fail_mode %q (want secure, safe or check)", truncate(s, 32))
}

// defaultFailMode is the fail mode of a gate whose configuration names none.
func defaultFailMode(d *DeviceTrust) FailMode {
	if d != nil && d.Policy.Mode == policy.ModeCheck {
		return FailCheck
	}
	return FailSecure
}

// Reasons of degraded sign-ins.
const (
	// reasonStorageUnavailable: storage was unreachable, so the device was
	// not checked.
	reasonStorageUnavailable = "storage_unavailable"
)

// degradedTrustFor is how long a sign-in let through without storage
// counts before the next request tries the check again.
const degradedTrustFor = 5 * time.Minute

// isOutage reports whether err means storage is unreachable, as opposed to
// an answer (not found, conflict) or a client that went away.
func isOutage(r *http.Request, err error) bool {
	switch {
	case err == nil, errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		return false
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return false
	}
	return true
}

// degrade decides what to do about a storage error during sign-in: it
// reports true when the fail mode lets the sign-in go on without the step
// that failed (and logs that loudly), and false when the caller must stop,
// as in fail mode secure or for an error that is not an outage. Every
// outage counts as an activation of the fail mode, secure included.
func (g *Gate) degrade(r *http.Request, what string, err error) bool {
	if !isOutage(r, err) {
		return false
	}
	g.observer().StoreFailed(opCode(what))
	g.observer().FailModeActivated(string(g.cfg.FailMode))
	if g.cfg.FailMode == FailSecure {
		return false
	}
	g.cfg.Logger.Error("storage unreachable: signing in without it",
		zap.String("step", what), zap.String("fail_mode", string(g.cfg.FailMode)),
		zap.String("ip", g.cfg.ClientIP(r)), zap.Error(err))
	return true
}

// finishDegraded lets a person whose device check cannot run (storage
// unreachable) through under fail mode safe or check.
func (g *Gate) finishDegraded(w http.ResponseWriter, r *http.Request, returnTo string, id session.Identity, factor string) error {
	return g.finish(w, r, verification{
		Identity: id, Factor: factor, Reason: primaryReason(factor), Return: returnTo,
		Status: policy.Unknown, Degraded: true,
		Failed: []policy.Finding{{Requirement: "device_check", Reason: reasonStorageUnavailable,
			Hint: "The gateway could not check your device just now; it will check again shortly."}},
	})
}
