package prompt

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
)

// providerTokensName binds the encrypted provider tokens to their use: the
// value is made with the cookie keys (HMAC and AES, as cookies are) but is
// never sent to a browser; it lives in the store, keyed by a random
// reference that the session cookie carries.
const providerTokensName = "tg_provider_tokens"

// providerRecordSlack keeps a provider-session record a little longer than
// its session, so one that a device check renews is not purged at once.
const providerRecordSlack = time.Hour

// keepsProviderTokens reports whether sign-ins keep the provider's tokens:
// for revalidate (the refresh token) and for ending the provider's session
// at sign-out (the ID token as id_token_hint).
func (g *Gate) keepsProviderTokens(ctx context.Context) bool {
	if g.cfg.OIDCRevalidate > 0 {
		return true
	}
	if g.cfg.OIDCLogoutRedirect != "" {
		return false
	}
	url, err := g.cfg.OIDC.EndSessionURL(ctx, "", "")
	return err == nil && url != ""
}

// keepProviderTokens stores t, encrypted, under a new random reference and
// returns it ("" when nothing was stored). A failure is logged and leaves
// the sign-in without them: sign-out then sends no id_token_hint, and
// revalidate signs the person in again when their check is due.
func (g *Gate) keepProviderTokens(ctx context.Context, t OIDCTokens) string {
	if t.IDToken == "" && t.RefreshToken == "" {
		return ""
	}
	enc, err := g.cfg.Cookies.Encode(providerTokensName, t)
	if err != nil {
		// securecookie refuses values over 4 KB: keep what matters most.
		t.IDToken = ""
		if enc, err = g.cfg.Cookies.Encode(providerTokensName, t); err != nil || t.RefreshToken == "" {
			g.cfg.Logger.Warn("OIDC tokens too large to keep; sign-out sends no id_token_hint and revalidate signs the person in again", zap.Error(err))
			return ""
		}
	}
	ref := secret.Token()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err = g.cfg.Store.PutProviderSession(ctx, store.ProviderSession{
		SessionID: ref, Tokens: enc, Expires: g.cfg.Now().Add(g.cfg.SessionLifetime + flowLifetime + providerRecordSlack),
	})
	if err != nil {
		g.storeFailed("keeping provider tokens", err)
		g.cfg.Logger.Warn("could not keep the OIDC tokens of a sign-in", zap.Error(err))
		return ""
	}
	return ref
}

// providerTokens returns the tokens kept under ref.
func (g *Gate) providerTokens(ctx context.Context, ref string) (OIDCTokens, error) {
	if ref == "" {
		return OIDCTokens{}, store.ErrNotFound
	}
	ps, err := g.cfg.Store.ProviderSession(ctx, ref)
	if err != nil {
		return OIDCTokens{}, err
	}
	var t OIDCTokens
	if err := g.cfg.Cookies.Decode(providerTokensName, ps.Tokens, &t); err != nil {
		return OIDCTokens{}, err
	}
	return t, nil
}

// providerLogoutURL is where a signed-out browser goes next so that the
// OIDC provider's session ends too: logout_redirect when set, else the
// provider's end_session_endpoint (with id_token_hint, client_id and a
// post_logout_redirect_uri back to this gateway's sign-out page). "" means
// the gateway's own sign-out page. The kept tokens are forgotten.
func (g *Gate) providerLogoutURL(r *http.Request, s *Session) string {
	if g.cfg.OIDC == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	var hint string
	if s.ProviderRef != "" {
		if t, err := g.providerTokens(ctx, s.ProviderRef); err == nil {
			hint = t.IDToken
		} else if !errors.Is(err, store.ErrNotFound) {
			g.cfg.Logger.Warn("reading the OIDC tokens of a session at sign-out; signing out of the provider without id_token_hint", zap.Error(err))
		}
		if err := g.cfg.Store.DeleteProviderSession(ctx, s.ProviderRef); err != nil {
			g.cfg.Logger.Warn("forgetting the OIDC tokens of a signed-out session; they are purged when it would have expired", zap.Error(err))
		}
	}
	if g.cfg.OIDCLogoutRedirect != "" {
		return g.cfg.OIDCLogoutRedirect
	}
	dest, err := g.cfg.OIDC.EndSessionURL(ctx, hint, g.postLogoutURL(r))
	if err != nil {
		g.cfg.Logger.Warn("provider unreachable at sign-out: signed out of the gateway only", zap.Error(err))
		return ""
	}
	return dest
}

// postLogoutURL is the gateway's sign-out page as an absolute URL, on the
// origin of the redirect URI registered at the provider.
func (g *Gate) postLogoutURL(r *http.Request) string {
	u, err := url.Parse(g.redirectURL(r))
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + ReservedPrefix + "logout"
}
