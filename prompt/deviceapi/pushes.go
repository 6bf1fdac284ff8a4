package deviceapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// Limits of the push long-poll.
const (
	// maxLongPoll caps how long a push long-poll is held.
	maxLongPoll = 30 * time.Second
	// longPollRecheck is how often a held long-poll looks at the store on
	// its own. A push sent through this instance wakes the long-poll at
	// once (device.Waker), and so does one sent through another instance
	// when the store carries events (store.Notifier, PostgreSQL); this
	// look is the safety net for lost events and for stores without them
	// (two processes on one SQLite file), where a push may wait this
	// long. A short interval would cost one store query per second per
	// waiting device.
	longPollRecheck = 10 * time.Second
	// longPollExitCheck is how often a held long-poll asks
	// Config.Exiting, which is a function to call, not a channel to wait
	// on. It reads no store.
	longPollExitCheck = time.Second
)

// pushes lists the device's pending login requests, holding the request
// up to ?wait= seconds until one arrives. A retired gate (a reload) holds
// nothing: it answers with what is pending, usually an empty list, which
// the device takes as "poll again", and so reaches the new configuration
// at once instead of keeping the old one's server alive for the wait.
//
// The proof check and the store reads run on a fresh stack
// (web.OnFreshStack), and the hold keeps the device's ID, not its record,
// so that a held long-poll keeps only what waiting needs.
func (a *API) pushes(w http.ResponseWriter, r *http.Request) error {
	var (
		deviceID string
		err      error
	)
	web.OnFreshStack(func() {
		var d *store.Device
		if _, d, err = a.verifyProof(r, nil, false); err == nil {
			deviceID = d.ID
		}
	})
	if err != nil {
		return err
	}
	var wait time.Duration
	if v := r.URL.Query().Get("wait"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return device.BadRequest("wait must be a whole number of seconds")
		}
		wait = min(time.Duration(n)*time.Second, maxLongPoll)
	}
	// The long-poll reads no body, yet under Caddy limit sets the body
	// deadline on its connection too (its body is not http.NoBody). Left
	// in place, the deadline ends the held request and cancels its
	// context after the body timeout (10 s by default): the pending bench
	// saw every long-poll cut off so, the device getting an empty 200.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	listed, err := a.longPoll(r.Context(), deviceID, wait)
	if err != nil {
		return err
	}
	writePushes(w, listed)
	return nil
}

// longPoll waits up to wait for deviceID's pending login requests and
// returns them; none means "poll again".
func (a *API) longPoll(ctx context.Context, deviceID string, wait time.Duration) ([]protocol.Push, error) {
	waker := a.svc.Waker()
	deadline := time.Now().Add(wait)
	for {
		woken := waker.Wait(deviceID)
		var (
			listed []protocol.Push
			err    error
		)
		web.OnFreshStack(func() { listed, err = a.svc.PendingPushes(ctx, deviceID) })
		if err != nil {
			waker.Cancel(deviceID, woken)
			if ctx.Err() != nil {
				return nil, nil
			}
			return nil, a.svc.Unavailable("reading login requests", err)
		}
		left := time.Until(deadline)
		if len(listed) > 0 || left <= 0 || a.retired() {
			waker.Cancel(deviceID, woken)
			return listed, nil
		}
		held := a.hold(ctx, woken, min(left, longPollRecheck))
		waker.Cancel(deviceID, woken)
		if !held {
			// The request ended: usually nobody is left to answer, but
			// a device still listening (its context ended by a connection
			// deadline, say) is better told "poll again" than sent an
			// empty body.
			return nil, nil
		}
		if waitRanOut(woken, deadline) && !a.retired() {
			// Nothing woke it: "poll again" without a last look, since
			// the device's next long-poll looks at the store as it
			// starts, a moment later. A look here too would be a quarter
			// of the store reads of thousands of waiting devices.
			return nil, nil
		}
	}
}

// waitRanOut reports whether a held long-poll ended because its wait was
// over, not because woken was closed.
func waitRanOut(woken <-chan struct{}, deadline time.Time) bool {
	select {
	case <-woken:
		return false
	default:
		return !time.Now().Before(deadline)
	}
}

// writePushes answers a pushes request with pushes, an empty list meaning
// "poll again".
func writePushes(w http.ResponseWriter, pushes []protocol.Push) {
	if pushes == nil {
		pushes = []protocol.Push{}
	}
	web.WriteJSON(w, http.StatusOK, protocol.PushesResponse{Pushes: pushes})
}

// retired reports whether Config.Retired is closed or the process is
// exiting.
func (a *API) retired() bool {
	select {
	case <-a.cfg.Retired:
		return true
	default:
		return a.cfg.Exiting != nil && a.cfg.Exiting()
	}
}

// hold waits until a held long-poll should look at the store again: woken
// (a push for the device), the gate retired or the process exiting (one
// more look, then the answer), or after recheck. It reports false when
// the request ended, and there is nothing to answer.
func (a *API) hold(ctx context.Context, woken <-chan struct{}, recheck time.Duration) bool {
	timer := time.NewTimer(recheck)
	defer timer.Stop()
	var exitCheck <-chan time.Time
	if a.cfg.Exiting != nil {
		ticker := time.NewTicker(longPollExitCheck)
		defer ticker.Stop()
		exitCheck = ticker.C
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-a.cfg.Retired:
			return true
		case <-woken:
			return true
		case <-timer.C:
			return true
		case <-exitCheck:
			if a.cfg.Exiting() {
				return true
			}
		}
	}
}
