package caddymodule

import (
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt"
)

// activationView is the dashboard's activation page: the form, and the
// code it issued.
type activationView struct {
	Action, CSRF      string
	User, Origin, TTL string
	// Application is the one chosen, Applications those to choose from;
	// Realm is the realm the code binds its device to ("" for none).
	Application  string
	Applications []string
	Realm        string
	Code         string
	Expires      time.Time
	AppLink      template.URL
	HTTPSLink    string
	QR           template.URL
}

// activation serves the dashboard's activation page: GET shows the form,
// POST issues a code as POST /trusted-endpoints/activations does, which is
// how devices are activated under enrollment admin (the default).
func (v *dashboardRequest) activation() {
	view := activationView{Action: v.d.link("/activate"), CSRF: v.session.CSRF, Applications: v.d.app.sites.applications()}
	page := dashboardPage{Title: "Activate a device", Nav: "endpoints", View: &view}
	switch {
	case isRead(v.r):
		v.render(http.StatusOK, "activate", page)
		return
	case v.r.Method != http.MethodPost:
		v.methodNotAllowed()
		return
	}
	v.r.Body = http.MaxBytesReader(v.w, v.r.Body, 16<<10)
	if !validCSRF(v.r, v.session) {
		v.d.logger.Warn("dashboard activation refused: missing or wrong CSRF token, or a foreign origin", zap.String("user", v.session.User))
		v.fail(http.StatusForbidden, "Activation refused",
			"The form did not come from this dashboard, or it has expired. Open the activation page again.")
		return
	}
	view.User = strings.TrimSpace(v.r.PostFormValue("user"))
	view.Origin = strings.TrimSuffix(strings.TrimSpace(v.r.PostFormValue("origin")), "/")
	view.TTL = strings.TrimSpace(v.r.PostFormValue("ttl"))
	view.Application = strings.TrimSpace(v.r.PostFormValue("application"))
	ttl := adminActivationTTL
	if view.TTL != "" {
		d, err := caddy.ParseDuration(view.TTL)
		if err != nil || d <= 0 || d > maxAdminActivationTTL {
			page.Error = "Valid for: give a positive duration of at most 7 days, such as 10m or 24h."
			v.render(http.StatusBadRequest, "activate", page)
			return
		}
		ttl = d
	}
	if view.User == "" || len(view.User) > 256 {
		page.Error = "Name the user the device is for."
		v.render(http.StatusBadRequest, "activate", page)
		return
	}
	if view.Origin != "" {
		if err := checkOrigin(view.Origin); err != nil {
			page.Error = "Gateway origin: " + err.Error()
			v.render(http.StatusBadRequest, "activate", page)
			return
		}
	}
	realm, realmID, err := v.d.app.activationRealm(view.Application)
	if err != nil {
		page.Error = "Application: " + err.Error()
		v.render(http.StatusBadRequest, "activate", page)
		return
	}
	now := time.Now()
	code, err := prompt.IssueActivation(v.r.Context(), v.store(), view.User, realmID, ttl, now)
	if err != nil {
		v.storeFailed("issuing activation code", err)
		return
	}
	v.d.logger.Info("activation code issued", zap.String("admin", v.session.User), zap.String("user", view.User), zap.Duration("ttl", ttl),
		zap.String("application", view.Application), zap.String("realm", realm))
	view.Realm = realm
	view.Code, view.Expires = code, now.Add(ttl)
	if view.Origin != "" {
		appLink, httpsLink := prompt.ActivationLinks(view.Origin, code)
		view.AppLink, view.HTTPSLink = template.URL(appLink), httpsLink
		if qr, err := prompt.ActivationQR(appLink); err == nil {
			view.QR = qr
		}
	}
	page.Message = "Activation code issued."
	v.render(http.StatusOK, "activate", page)
}
