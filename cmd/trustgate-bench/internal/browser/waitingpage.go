package browser

import "time"

// WaitingPage paces a simulated browser's status polls as the prompt's
// script (prompt/pages/static/trustgate.js) does: every poll interval while the
// person is likely acting (the first 10 s, and 10 s after the state last
// changed), then twice and after a minute three times that; after a failed
// poll it waits 2 s, doubling up to 30 s, and at least what Retry-After
// asks.
type WaitingPage struct {
	poll      time.Duration // the script's: 1 s
	changed   time.Time
	lastState string
	backoff   time.Duration
}

// The script's fixed times.
const (
	pageQuiet      = 10 * time.Second
	pageQuieter    = time.Minute
	pageBackoffMin = 2 * time.Second
	pageBackoffMax = 30 * time.Second
)

// NewWaitingPage is the page loaded at loaded, polling every poll (the
// script's: 1 s) to begin with.
func NewWaitingPage(poll time.Duration, loaded time.Time) *WaitingPage {
	return &WaitingPage{poll: poll, changed: loaded}
}

// First is the delay before the first poll after the page loaded.
func (p *WaitingPage) First() time.Duration {
	return p.poll
}

// Answered records an answer with state at now and returns the delay to the
// next poll.
func (p *WaitingPage) Answered(state string, now time.Time) time.Duration {
	if state != p.lastState {
		p.lastState, p.changed = state, now
	}
	p.backoff = 0
	switch quiet := now.Sub(p.changed); {
	case quiet < pageQuiet:
		return p.poll
	case quiet < pageQuieter:
		return 2 * p.poll
	default:
		return 3 * p.poll
	}
}

// Failed records a failed poll (an answer other than 200, or the network)
// and returns the delay to the next one; retryAfter is the answer's
// Retry-After (0: none).
func (p *WaitingPage) Failed(retryAfter time.Duration) time.Duration {
	p.backoff = min(max(2*p.backoff, pageBackoffMin), pageBackoffMax)
	return max(p.backoff, retryAfter)
}
