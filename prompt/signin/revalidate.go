package signin

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/store"
)

// SessionToCheck is the part of a session that revalidation reads.
type SessionToCheck struct {
	ID          string
	Identity    Identity
	ProviderRef string // where its provider tokens are kept
	Expires     time.Time
}

// RevalidationHost is what revalidation needs of the gate to act on what
// the provider answered.
type RevalidationHost interface {
	// EndSession revokes one session, on every instance; a failure is
	// the host's to log.
	EndSession(ctx context.Context, id string, expires time.Time)
	// EndUserSessions revokes every session of user, on every instance.
	EndUserSessions(ctx context.Context, user string)
	// RecordRefusal writes the auth-log entry of a person the provider
	// refused; why is the refusal, for its detail.
	RecordRefusal(id Identity, why error)
}

// RecheckOutcome is the result of one check of a session with the
// provider, shared by the requests that waited for it.
type RecheckOutcome struct {
	// Identity is the identity to carry on with (fresh claims when the
	// provider sent them).
	Identity Identity
	// Refused: the provider refused the person (or the session cannot be
	// checked at all): sign them out.
	Refused bool
	// Everywhere: the provider refused the person, so every session of
	// theirs has ended.
	Everywhere bool
	// Err is why the check could not be made.
	Err error
}

// Recheck asks the provider whether the person of s may still sign in,
// once per session at a time on this instance: requests of s that arrive
// while a check runs share its outcome, and none of them may cancel it
// for the others. host acts on a refusal, once per check.
func (o *OIDCSessions) Recheck(ctx context.Context, s SessionToCheck, host RevalidationHost) RecheckOutcome {
	v, _, _ := o.Login.rechecks.Do(s.ID, func() (any, error) {
		return o.recheck(context.WithoutCancel(ctx), s, host), nil
	})
	return v.(RecheckOutcome)
}

// recheck makes one check of s with the provider and acts on a refusal.
func (o *OIDCSessions) recheck(ctx context.Context, s SessionToCheck, host RevalidationHost) RecheckOutcome {
	fields := []zap.Field{zap.String("user", s.Identity.User), zap.String("session_id", s.ID)}
	out := RecheckOutcome{Identity: s.Identity}
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	tokens, err := o.Tokens(sctx, s.ProviderRef)
	cancel()
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && tokens.RefreshToken == ""):
		// Nothing to ask the provider with: the person signs in again
		// (without a word, while the provider's own session lasts).
		o.Logger.Info("OIDC session due for revalidation has no refresh token: signing in again", fields...)
		host.EndSession(ctx, s.ID, s.Expires)
		o.forget(ctx, s.ProviderRef)
		out.Refused = true
		return out
	case err != nil:
		o.StoreFailed("reading provider tokens", err)
		o.Logger.Warn("OIDC revalidation: reading the session's tokens failed", append(fields, zap.String("fail_mode", o.FailMode), zap.Error(err))...)
		out.Err = err
		return out
	}
	id, next, err := o.refresh(ctx, s, tokens)
	if err == nil {
		out.Identity = id
		if err := o.replace(ctx, s.ProviderRef, next, s.Expires); err != nil {
			// The provider may have rotated the refresh token: without
			// the new one the next check fails, and asks again.
			o.Logger.Warn("OIDC revalidation: keeping the new tokens failed", append(fields, zap.Error(err))...)
		}
		o.Logger.Debug("OIDC session revalidated", fields...)
		return out
	}
	if hasReason(err, ReasonProviderRefused) {
		o.Logger.Info("OIDC provider refused a signed-in person: signing them out everywhere", append(fields, zap.Error(err))...)
		host.EndUserSessions(ctx, s.Identity.User)
		o.forget(ctx, s.ProviderRef)
		host.RecordRefusal(s.Identity, err)
		out.Refused, out.Everywhere = true, true
		return out
	}
	level := zap.WarnLevel
	if IsConfigurationError(err) {
		level = zap.ErrorLevel
	}
	o.Logger.Log(level, "OIDC revalidation could not ask the provider", append(fields, zap.String("fail_mode", o.FailMode), zap.Error(err))...)
	out.Err = err
	return out
}

// refresh asks the provider with tokens and returns the identity to carry
// on with and the tokens to keep. An answer that does not verify, or that
// names another person, is a refusal (ReasonProviderRefused).
func (o *OIDCSessions) refresh(ctx context.Context, s SessionToCheck, tokens OIDCTokens) (Identity, OIDCTokens, error) {
	id, fresh, next, err := o.Login.Refresh(ctx, tokens)
	var le *LoginError
	if errors.As(err, &le) && le.Reason != ReasonProviderRefused && !IsConfigurationError(err) && le.Reason != ReasonProviderUnavailable {
		// A token that does not verify is no answer: treat as refused.
		return Identity{}, OIDCTokens{}, &LoginError{Reason: ReasonProviderRefused, Err: err}
	}
	switch {
	case err != nil:
		return Identity{}, OIDCTokens{}, err
	case !fresh:
		return s.Identity, next, nil
	case id.User != s.Identity.User:
		return Identity{}, OIDCTokens{}, &LoginError{Reason: ReasonProviderRefused, Err: errors.New("the provider now names the person " + truncate(id.User, 64))}
	}
	carried := s.Identity
	carried.Email, carried.Groups = id.Email, id.Groups
	return carried, next, nil
}
