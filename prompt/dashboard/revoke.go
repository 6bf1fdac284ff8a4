package dashboard

import (
	"errors"
	"net/http"
	"net/url"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
)

// confirmRevoke asks whether to revoke the device, with a form that
// carries the session's CSRF token.
func (v *request) confirmRevoke() error {
	dev, err := v.loadDevice()
	if err != nil {
		return err
	}
	view := deviceView{Device: dev, OS: dev.CurrentOSVersion(), CSRF: v.person.CSRF,
		RevokeLink: v.h.link("/endpoints/" + url.PathEscape(dev.ID) + "/revoke"),
		Back:       v.h.link("/endpoints/" + url.PathEscape(dev.ID))}
	return v.render(http.StatusOK, "confirm", pageData{Title: "Revoke this device?", Nav: "endpoints", View: view})
}

// revoke revokes the device, as the admin API does, and shows it.
func (v *request) revoke() error {
	id := v.r.PathValue("id")
	if id == "" {
		return notFound(v.w, v.r)
	}
	v.r.Body = http.MaxBytesReader(v.w, v.r.Body, 16<<10)
	if !validCSRF(v.r, v.person) {
		v.h.cfg.Logger.Warn("dashboard revocation refused: missing or wrong CSRF token, or a foreign origin",
			zap.String("user", v.person.User), zap.String("device_id", id))
		return fail(http.StatusForbidden, "revocation_refused",
			"The form did not come from this dashboard, or it has expired. Open the device again and use its Revoke button.")
	}
	device, err := v.h.cfg.Gateway.RevokeDevice(v.r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail(http.StatusNotFound, "unknown_device", "There is no device with this ID.")
	case err != nil:
		return storeFailed("revoking device", err)
	}
	v.h.cfg.Logger.Info("device revoked", zap.String("admin", v.person.User), zap.String("device_id", id), zap.String("user", device.User))
	http.Redirect(v.w, v.r, v.h.link("/endpoints/"+url.PathEscape(id))+"?revoked=1", http.StatusSeeOther)
	return nil
}

// validCSRF checks a posted form: the token must be the session's, and a
// browser that says where the form came from must say this origin. Under
// Referrer-Policy no-referrer browsers send "Origin: null" with a form's
// POST; the token and Sec-Fetch-Site then decide.
func validCSRF(r *http.Request, p *Person) bool {
	return validOrigin(r) && secret.Equal(r.PostFormValue("csrf"), p.CSRF)
}

// validOrigin checks that a browser that says where a posted form came
// from says this origin.
func validOrigin(r *http.Request) bool {
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		u, err := url.Parse(origin)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	return true
}
