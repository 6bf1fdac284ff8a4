package dashboard

import (
	"html/template"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/adminapi"
	"github.com/trustgate/trustgate/prompt/web"
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

// activationPage is the activation page's form, for the person.
func (v *request) activationPage() (*activationView, pageData) {
	view := &activationView{Action: v.h.link("/activate"), CSRF: v.person.CSRF, Applications: v.h.cfg.Gateway.Applications()}
	return view, pageData{Title: "Activate a device", Nav: "endpoints", View: view}
}

// activationForm shows the form that issues an activation code.
func (v *request) activationForm() error {
	_, page := v.activationPage()
	return v.render(http.StatusOK, "activate", page)
}

// activate issues a code as POST /trusted-endpoints/activations does,
// which is how devices are activated under enrollment admin (the
// default), and shows it with its links and QR code.
func (v *request) activate() error {
	view, page := v.activationPage()
	v.r.Body = http.MaxBytesReader(v.w, v.r.Body, 16<<10)
	if !validCSRF(v.r, v.person) {
		v.h.cfg.Logger.Warn("dashboard activation refused: missing or wrong CSRF token, or a foreign origin", zap.String("user", v.person.User))
		return fail(http.StatusForbidden, "activation_refused",
			"The form did not come from this dashboard, or it has expired. Open the activation page again.")
	}
	view.User = strings.TrimSpace(v.r.PostFormValue("user"))
	view.Origin = strings.TrimSuffix(strings.TrimSpace(v.r.PostFormValue("origin")), "/")
	view.TTL = strings.TrimSpace(v.r.PostFormValue("ttl"))
	view.Application = strings.TrimSpace(v.r.PostFormValue("application"))
	ttl := adminapi.DefaultActivationTTL
	if view.TTL != "" {
		d, ok := adminapi.ParseActivationTTL(view.TTL)
		if !ok {
			page.Error = "Valid for: give a positive duration of at most 7 days, such as 10m or 24h."
			return v.render(http.StatusBadRequest, "activate", page)
		}
		ttl = d
	}
	if view.User == "" || len(view.User) > 256 {
		page.Error = "Name the user the device is for."
		return v.render(http.StatusBadRequest, "activate", page)
	}
	if view.Origin != "" {
		if err := web.CheckOrigin(view.Origin); err != nil {
			page.Error = "Gateway origin: " + err.Error()
			return v.render(http.StatusBadRequest, "activate", page)
		}
	}
	gw := v.h.cfg.Gateway
	realm, realmID, err := gw.ActivationRealm(view.Application)
	if err != nil {
		page.Error = "Application: " + err.Error()
		return v.render(http.StatusBadRequest, "activate", page)
	}
	now := time.Now()
	code, err := gw.IssueActivation(v.r.Context(), view.User, realmID, ttl, now)
	if err != nil {
		return storeFailed("issuing activation code", err)
	}
	v.h.cfg.Logger.Info("activation code issued", zap.String("admin", v.person.User), zap.String("user", view.User), zap.Duration("ttl", ttl),
		zap.String("application", view.Application), zap.String("realm", realm))
	view.Realm = realm
	view.Code, view.Expires = code, now.Add(ttl)
	if view.Origin != "" {
		appLink, httpsLink := gw.ActivationLinks(view.Origin, code)
		view.AppLink, view.HTTPSLink = template.URL(appLink), httpsLink
		if qr, err := gw.ActivationQR(appLink); err == nil {
			view.QR = qr
		}
	}
	page.Message = "Activation code issued."
	return v.render(http.StatusOK, "activate", page)
}
