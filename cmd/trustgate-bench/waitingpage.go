package main

import "time"

// waitingPage paces a simulated browser's status polls as the prompt's
// script (prompt/pages/static/trustgate.js) does: every poll interval while the
// person is likely acting (the first 10 s, and 10 s after the state last
// changed), then twice and after a minute three times that; after a failed
// poll it waits 2 s, doubling up to 30 s, and at least what Retry-After
// asks.
type waitingPage struct {
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

func newWaitingPage(poll time.Duration, loaded time.Time) *waitingPage {
	return &waitingPage{poll: poll, changed: loaded}
}

// first is the delay before the first poll after the page loaded.
func (p *waitingPage) first() time.Duration {
	return p.poll
}

// answered records an answer with state at now and returns the delay to the
// next poll.
func (p *waitingPage) answered(state string, now time.Time) time.Duration {
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

// failed records a failed poll (an answer other than 200, or the network)
// and returns the delay to the next one; retryAfter is the answer's
// Retry-After (0: none).
func (p *waitingPage) failed(retryAfter time.Duration) time.Duration {
	p.backoff = min(max(2*p.backoff, pageBackoffMin), pageBackoffMax)
	return max(p.backoff, retryAfter)
}
