package prompt

import (
	"net/http"
	"net/url"

	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
)

// oidcSessions is what the gate keeps of OIDC sign-ins beyond the cookie
// (signin.OIDCSessions), made from the gate's configuration.
func (g *Gate) oidcSessions() *signin.OIDCSessions {
	return &signin.OIDCSessions{
		Login: g.cfg.OIDC, Store: g.cfg.Store, Seal: g.cfg.Cookies,
		Now: g.cfg.Now, Logger: g.cfg.Logger,
		Revalidate: g.cfg.OIDCRevalidate, LogoutRedirect: g.cfg.OIDCLogoutRedirect,
		FailMode: string(g.cfg.FailMode), StoreFailed: g.storeFailed,
	}
}

// providerLogoutURL is where a signed-out browser goes next so that the
// OIDC provider's session ends too (signin.OIDCSessions.LogoutURL), or ""
// for the gateway's own sign-out page. The kept tokens are forgotten.
func (g *Gate) providerLogoutURL(r *http.Request, s *session.Session) string {
	if g.cfg.OIDC == nil {
		return ""
	}
	return g.oidcSessions().LogoutURL(r.Context(), s.ProviderRef, g.postLogoutURL(r))
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

// Interface guards: what signin needs of the store and the cookie codec.
var (
	_ signin.OIDCStore      = store.Store(nil)
	_ signin.FailureCounter = store.Store(nil)
	_ signin.Sealer         = (*session.CookieCodec)(nil)
)
