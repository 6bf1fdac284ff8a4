package prompt

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// recheckRetry is how soon a session whose check could not be made (the
// provider or the store unreachable) and that fail mode safe or check
// kept is checked again, so a provider that is down is not asked on every
// request.
const recheckRetry = time.Minute

// recheckOutcome is the result of one check of a session with the
// provider, shared by the requests that waited for it.
type recheckOutcome struct {
	id Identity // the identity to carry on with (fresh claims when sent)
	// refused: the provider refused the person (or the session cannot be
	// checked at all): sign them out.
	refused bool
	// everywhere: the provider refused the person, so every session of
	// theirs ends.
	everywhere bool
	err        error // the check could not be made
}

// revalidate asks the provider whether the person of s may still sign in,
// once per session at a time, and returns the session to carry on with
// (its cookie re-issued with the next check time), or nil when the
// request has been answered: the person was signed out, or the check
// could not be made and fail mode secure refuses.
func (g *Gate) revalidate(w http.ResponseWriter, r *http.Request, s *Session) *Session {
	v, _, _ := g.cfg.OIDC.rechecks.Do(s.ID, func() (any, error) {
		// One check for every request of this session that arrives while
		// it runs; none of them may cancel it for the others.
		return g.recheck(context.WithoutCancel(r.Context()), r, s), nil
	})
	out := v.(recheckOutcome)
	now := g.cfg.Now()
	switch {
	case out.refused:
		g.endSession(w, r)
		g.requireLogin(w, r)
		return nil
	case out.err != nil && g.cfg.FailMode == FailSecure:
		g.providerUnreachable(w, r)
		return nil
	case out.err != nil:
		// Fail mode safe or check: keep the session, ask again soon.
		out.id.RecheckAt = now.Add(min(recheckRetry, g.cfg.OIDCRevalidate)).Unix()
	default:
		out.id.RecheckAt = now.Add(g.cfg.OIDCRevalidate).Unix()
	}
	next, err := g.sessions.Renew(w, r, s, out.id)
	if err != nil {
		g.internalError(w, r, "encoding session", err)
		return nil
	}
	return next
}

// recheck makes one check of s with the provider and acts on a refusal.
func (g *Gate) recheck(ctx context.Context, r *http.Request, s *Session) recheckOutcome {
	fields := []zap.Field{zap.String("user", s.User), zap.String("session_id", s.ID)}
	out := recheckOutcome{id: s.Identity}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	tokens, err := g.providerTokens(sctx, s.ProviderRef)
	cancel()
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && tokens.RefreshToken == ""):
		// Nothing to ask the provider with: the person signs in again
		// (without a word, while the provider's own session lasts).
		g.cfg.Logger.Info("OIDC session due for revalidation has no refresh token: signing in again", fields...)
		g.endOneSession(ctx, s)
		out.refused = true
		return out
	case err != nil:
		g.storeFailed("reading provider tokens", err)
		g.cfg.Logger.Warn("OIDC revalidation: reading the session's tokens failed", append(fields, zap.String("fail_mode", string(g.cfg.FailMode)), zap.Error(err))...)
		out.err = err
		return out
	}
	id, fresh, next, err := g.cfg.OIDC.Refresh(ctx, tokens)
	var le *LoginError
	if errors.As(err, &le) && le.Reason != reasonProviderRefused && !IsConfigurationError(err) && le.Reason != reasonProviderUnavailable {
		// A token that does not verify is no answer: treat as refused.
		le = &LoginError{Reason: reasonProviderRefused, Err: err}
		err = le
	}
	switch {
	case err == nil && fresh && id.User != s.User:
		err = &LoginError{Reason: reasonProviderRefused, Err: errors.New("the provider now names the person " + truncate(id.User, 64))}
	case err == nil:
		if fresh {
			out.id.Email, out.id.Groups = id.Email, id.Groups
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		enc, encErr := g.cfg.Cookies.Encode(providerTokensName, next)
		if encErr == nil {
			encErr = g.cfg.Store.PutProviderSession(sctx, store.ProviderSession{
				SessionID: s.ProviderRef, Tokens: enc, Expires: s.Expires().Add(providerRecordSlack),
			})
		}
		cancel()
		if encErr != nil {
			// The provider may have rotated the refresh token: without
			// the new one the next check fails, and asks again.
			g.cfg.Logger.Warn("OIDC revalidation: keeping the new tokens failed", append(fields, zap.Error(encErr))...)
		}
		g.cfg.Logger.Debug("OIDC session revalidated", fields...)
		return out
	}
	if errors.As(err, &le) && le.Reason == reasonProviderRefused {
		g.cfg.Logger.Info("OIDC provider refused a signed-in person: signing them out everywhere", append(fields, zap.Error(err))...)
		if rerr := g.cfg.Revocations.RevokeUserSessions(ctx, g.cfg.Store, s.User, g.cfg.Now()); rerr != nil {
			if !IsStoredButNotAnnounced(rerr) {
				g.storeFailed("revoking user sessions", rerr)
			}
			logRevocationError(g.cfg.Logger, "signing out a person the provider refused", rerr, fields...)
		}
		g.forgetProviderTokens(ctx, s.ProviderRef)
		_ = g.record(r, store.AuthLogEntry{User: s.User, Email: s.Email, Groups: s.Groups,
			Result: store.ResultDenied, Reason: reasonProviderRefused, Factor: "oidc", Detail: truncate(err.Error(), 256)})
		out.refused, out.everywhere = true, true
		return out
	}
	level := zap.WarnLevel
	if IsConfigurationError(err) {
		level = zap.ErrorLevel
	}
	g.cfg.Logger.Log(level, "OIDC revalidation could not ask the provider", append(fields, zap.String("fail_mode", string(g.cfg.FailMode)), zap.Error(err))...)
	out.err = err
	return out
}

// endOneSession revokes s alone, on every instance.
func (g *Gate) endOneSession(ctx context.Context, s *Session) {
	if err := g.cfg.Revocations.RevokeSession(ctx, g.cfg.Store, s.ID, s.Expires()); err != nil {
		if !IsStoredButNotAnnounced(err) {
			g.storeFailed("revoking session", err)
		}
		logRevocationError(g.cfg.Logger, "ending a session that cannot be revalidated", err, zap.String("session_id", s.ID))
	}
	g.forgetProviderTokens(ctx, s.ProviderRef)
}

func (g *Gate) forgetProviderTokens(ctx context.Context, ref string) {
	if ref == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := g.cfg.Store.DeleteProviderSession(ctx, ref); err != nil {
		g.cfg.Logger.Warn("forgetting OIDC tokens; they are purged when their session would have expired", zap.Error(err))
	}
}

// providerUnreachable answers a request whose session could not be
// checked with the provider, under fail mode secure.
func (g *Gate) providerUnreachable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "60")
	if !web.WantsPage(r) {
		web.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "identity provider unreachable"})
		return
	}
	web.SecurityHeaders(w)
	web.NoStore(w)
	g.renderMessage(w, r, http.StatusServiceUnavailable, "Sign-in provider unreachable",
		"Your sign-in must be checked with the identity provider, which cannot be reached right now. Please try again in a minute.", "")
}
