package signin

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
)

// providerTokensName binds the sealed provider tokens to their use: the
// value is made with the cookie keys (HMAC and AES, as cookies are) but is
// never sent to a browser; it lives in the store, keyed by a random
// reference that the session cookie carries.
const providerTokensName = "tg_provider_tokens"

// RecordSlack keeps a provider-session record a little longer than its
// session, so one that a device check renews is not purged at once.
const RecordSlack = time.Hour

// storeTimeout bounds each store call made for a session's tokens.
const storeTimeout = 5 * time.Second

// OIDCStore is what OIDC sessions need of the store: the single-use
// states of callbacks, and the provider tokens kept for sessions.
type OIDCStore interface {
	UseOnce(ctx context.Context, id string, expires time.Time) (bool, error)
	PutProviderSession(ctx context.Context, ps store.ProviderSession) error
	ProviderSession(ctx context.Context, id string) (store.ProviderSession, error)
	DeleteProviderSession(ctx context.Context, id string) error
}

// Sealer seals values as the gate's cookies are sealed (signed and
// encrypted with the cookie keys); the cookie codec is one.
type Sealer interface {
	Encode(name string, value any) (string, error)
	Decode(name, value string, dst any) error
}

// OIDCSessions is what the gate keeps of OIDC sign-ins beyond the
// session cookie: the provider's tokens, sealed in the store, used to
// revalidate a session with the provider and to end the provider's own
// session at sign-out. A value is cheap; the gate may make one per use.
type OIDCSessions struct {
	Login  *OIDCLogin
	Store  OIDCStore
	Seal   Sealer
	Now    func() time.Time
	Logger *zap.Logger
	// Revalidate, when positive, is how often a session is checked again
	// with the provider (with its refresh token).
	Revalidate time.Duration
	// LogoutRedirect, when set, is where sign-out sends the browser
	// instead of the provider's end_session_endpoint.
	LogoutRedirect string
	// FailMode names the gate's fail mode, for the log only.
	FailMode string
	// StoreFailed is told of each store failure, by step.
	StoreFailed func(step string, err error)
}

// KeepsTokens reports whether sign-ins keep the provider's tokens: for
// revalidation (the refresh token) and for ending the provider's session
// at sign-out (the ID token as id_token_hint).
func (s *OIDCSessions) KeepsTokens(ctx context.Context) bool {
	if s.Revalidate > 0 {
		return true
	}
	if s.LogoutRedirect != "" {
		return false
	}
	url, err := s.Login.EndSessionURL(ctx, "", "")
	return err == nil && url != ""
}

// Keep stores t, sealed, under a new random reference until sessionEnds
// (plus RecordSlack) and returns the reference ("" when nothing was
// stored). A failure is logged and leaves the sign-in without them:
// sign-out then sends no id_token_hint, and revalidation signs the person
// in again when their check is due.
func (s *OIDCSessions) Keep(ctx context.Context, t OIDCTokens, sessionEnds time.Time) string {
	if t.IDToken == "" && t.RefreshToken == "" {
		return ""
	}
	enc, err := s.Seal.Encode(providerTokensName, t)
	if err != nil {
		// securecookie refuses values over 4 KB: keep what matters most.
		t.IDToken = ""
		if enc, err = s.Seal.Encode(providerTokensName, t); err != nil || t.RefreshToken == "" {
			s.Logger.Warn("OIDC tokens too large to keep; sign-out sends no id_token_hint and revalidate signs the person in again", zap.Error(err))
			return ""
		}
	}
	ref := secret.Token()
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	err = s.Store.PutProviderSession(ctx, store.ProviderSession{
		SessionID: ref, Tokens: enc, Expires: sessionEnds.Add(RecordSlack),
	})
	if err != nil {
		s.StoreFailed("keeping provider tokens", err)
		s.Logger.Warn("could not keep the OIDC tokens of a sign-in", zap.Error(err))
		return ""
	}
	return ref
}

// replace stores t, sealed, under ref until sessionEnds (plus
// RecordSlack), as revalidation does with the tokens the provider sent.
func (s *OIDCSessions) replace(ctx context.Context, ref string, t OIDCTokens, sessionEnds time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	enc, err := s.Seal.Encode(providerTokensName, t)
	if err != nil {
		return err
	}
	return s.Store.PutProviderSession(ctx, store.ProviderSession{SessionID: ref, Tokens: enc, Expires: sessionEnds.Add(RecordSlack)})
}

// Tokens returns the tokens kept under ref, or an error wrapping
// store.ErrNotFound when there are none.
func (s *OIDCSessions) Tokens(ctx context.Context, ref string) (OIDCTokens, error) {
	if ref == "" {
		return OIDCTokens{}, store.ErrNotFound
	}
	ps, err := s.Store.ProviderSession(ctx, ref)
	if err != nil {
		return OIDCTokens{}, err
	}
	var t OIDCTokens
	if err := s.Seal.Decode(providerTokensName, ps.Tokens, &t); err != nil {
		return OIDCTokens{}, err
	}
	return t, nil
}

// forget deletes the tokens kept under ref, if any.
func (s *OIDCSessions) forget(ctx context.Context, ref string) {
	if ref == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if err := s.Store.DeleteProviderSession(ctx, ref); err != nil {
		s.Logger.Warn("forgetting OIDC tokens; they are purged when their session would have expired", zap.Error(err))
	}
}

// LogoutURL is where a signed-out browser goes next so that the
// provider's session ends too: LogoutRedirect when set, else the
// provider's end_session_endpoint (with id_token_hint, client_id and
// postLogout, the gateway's own sign-out page). "" means the gateway's
// own sign-out page. The tokens kept under ref are forgotten.
func (s *OIDCSessions) LogoutURL(ctx context.Context, ref, postLogout string) string {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	var hint string
	if ref != "" {
		if t, err := s.Tokens(ctx, ref); err == nil {
			hint = t.IDToken
		} else if !errors.Is(err, store.ErrNotFound) {
			s.Logger.Warn("reading the OIDC tokens of a session at sign-out; signing out of the provider without id_token_hint", zap.Error(err))
		}
		if err := s.Store.DeleteProviderSession(ctx, ref); err != nil {
			s.Logger.Warn("forgetting the OIDC tokens of a signed-out session; they are purged when it would have expired", zap.Error(err))
		}
	}
	if s.LogoutRedirect != "" {
		return s.LogoutRedirect
	}
	dest, err := s.Login.EndSessionURL(ctx, hint, postLogout)
	if err != nil {
		s.Logger.Warn("provider unreachable at sign-out: signed out of the gateway only", zap.Error(err))
		return ""
	}
	return dest
}
