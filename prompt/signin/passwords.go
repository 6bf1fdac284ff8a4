package signin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Password lockouts count only what went wrong. A password attempt is
// checked against the failures already counted before its password is
// checked, and counted only when the password was wrong (or the attempt
// was refused during a lockout): correct sign-ins, however many run at
// once, never count, and an attempt cut off by a crash leaves nothing
// behind. Attempts for one key run one at a time on an instance
// (attemptLocks), so guesses sent in parallel cannot all pass the check
// before the first is counted; over several instances sharing a store,
// at most one guess per instance is in flight past the limit.

// FailureCounter is what the password lockout needs of the store.
type FailureCounter interface {
	// AddFailure counts one failure under key at time at.
	AddFailure(ctx context.Context, key string, at time.Time) error
	// CountFailures returns how many failures are counted under key at or
	// after since.
	CountFailures(ctx context.Context, key string, since time.Time) (int, error)
}

// Passwords signs people in with the users file, under the lockout
// rules. Its fields are set once, before first use; it is safe for
// concurrent use.
type Passwords struct {
	Users    *UsersFile
	Failures FailureCounter
	// Attempts is how many failures of one user from one address within
	// Window lock them out.
	Attempts int
	Window   time.Duration
	Now      func() time.Time
	Logger   *zap.Logger

	// locks lets one attempt per user and address run at a time on this
	// instance.
	locks attemptLocks
}

// PasswordAttempt is one posted user name and password, from one client
// address (as the gate resolves it, trusted proxies included).
type PasswordAttempt struct {
	Username, Password, ClientIP string
}

// Outage decides whether a sign-in goes on when the store failed at step
// (e.g. "counting login attempts"): true goes on without it, false gives
// up with err. It is the gate's fail mode.
type Outage func(step string, err error) (goOn bool)

// countTimeout bounds the store calls of one attempt.
const countTimeout = 5 * time.Second

// SignIn checks a. It returns the person's identity, or a *LoginError
// with reason locked_out, invalid_password or unknown_user (the person
// is told the same for the last two); any other error means the attempt
// could not be judged: the store failed and outage gave up, or ctx ended
// while an earlier attempt of the same user and address ran.
func (p *Passwords) SignIn(ctx context.Context, a PasswordAttempt, outage Outage) (Identity, error) {
	key := "login:" + strings.ToLower(a.Username) + "|" + a.ClientIP
	// One attempt per user and address at a time on this instance, from
	// the lockout check until a wrong password is counted. The wait has
	// no deadline of its own: password hashing is bound by the CPU, so
	// attempts in parallel would take as long in all.
	release, err := p.locks.acquire(ctx, key)
	if err != nil {
		return Identity{}, fmt.Errorf("waiting for earlier sign-in attempts: %w", err)
	}
	defer release()
	// Detached from the request: a client that hangs up (or half-closes
	// its connection and still reads the answer) must not stop its wrong
	// guess from being counted.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), countTimeout)
	defer cancel()
	allowed, err := p.allowed(ctx, key)
	if err != nil {
		const step = "counting login attempts"
		if !outage(step, err) {
			return Identity{}, fmt.Errorf("%s: %w", step, err)
		}
		allowed = true
	}
	if !allowed {
		// Guessing on during a lockout keeps it in force.
		p.failed(ctx, key)
		return Identity{}, &LoginError{Reason: ReasonLockedOut, Err: fmt.Errorf("%d failed attempts within %s", p.Attempts, p.Window)}
	}
	id, known, ok := p.Users.Authenticate(a.Username, a.Password)
	if !ok {
		p.failed(ctx, key)
		if !known {
			return Identity{}, &LoginError{Reason: ReasonUnknownUser}
		}
		return Identity{}, &LoginError{Reason: ReasonInvalidPassword}
	}
	// A correct password neither counts nor clears the failures: many
	// sign-ins at once never lock a person out, and a success does not
	// wipe the count of someone guessing from the same address.
	return id, nil
}

// allowed reports whether fewer than Attempts failures are counted under
// key (a user's password from one address) within Window. The caller
// holds key's lock.
func (p *Passwords) allowed(ctx context.Context, key string) (bool, error) {
	n, err := p.Failures.CountFailures(ctx, key, p.Now().Add(-p.Window))
	if err != nil {
		return false, err
	}
	return n < p.Attempts, nil
}

// failed counts one failure under key. The guess was wrong, so a failure
// to count it only weakens the lockout: it is logged, not shown.
func (p *Passwords) failed(ctx context.Context, key string) {
	if err := p.Failures.AddFailure(ctx, key, p.Now()); err != nil {
		p.Logger.Warn("counting a failed attempt", zap.Error(err))
	}
}
