package prompt

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/pages"
	"github.com/trustgate/trustgate/prompt/web"
)

// issuePromptActivation issues an activation code from the prompt for
// user, marked with the site's enrollment choice.
func (g *Gate) issuePromptActivation(ctx context.Context, user string, now time.Time) (string, error) {
	return g.devices.IssuePromptActivation(ctx, user, now)
}

// promptOffersEnrollment reports whether the prompt offers an activation
// code to a person with active devices.
func (g *Gate) promptOffersEnrollment(active int) bool {
	return g.cfg.Device.Enrollment.PromptOffers(active)
}

// checkEnrollment validates the enrollment settings of d, whose defaults
// are filled in.
func (d DeviceTrust) checkEnrollment() error {
	switch d.Enrollment {
	case device.EnrollAdmin, device.EnrollApprove:
	case device.EnrollSelf:
		if d.Policy.Mode == policy.ModeBlock && !d.EnrollmentInBlockMode {
			return fmt.Errorf("enrollment self in mode block lets whoever knows a password enroll a device and be trusted: " +
				"allow it on purpose (enrollment self block_mode), or use enrollment approve or admin")
		}
	default:
		_, err := device.ParseEnrollment(string(d.Enrollment))
		return err
	}
	return nil
}

// ActivationQR draws link (an activation link) as a QR code, as a data:
// URI for an img element.
func ActivationQR(link string) (template.URL, error) {
	return pages.QRCode(link)
}

// submitEnroll issues a fresh activation code from the prompt, where the
// site's enrollment choice offers one to this person, and shows the prompt
// with it: under enrollment approve the prompt offers the code only on
// request ("Add a new device"), and a code used up by a refused device
// is replaced this way.
func (g *Gate) submitEnroll(w http.ResponseWriter, r *http.Request) error {
	f, err := g.postedPendingForm(w, r)
	if f == nil {
		return err
	}
	p := f.Pending
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	devices, err := g.activeDevices(ctx, p.User)
	if err != nil {
		return g.errStoreUnavailable(r, "reading devices", err)
	}
	if !g.promptOffersEnrollment(len(devices)) {
		return g.showPrompt(w, r, f, http.StatusForbidden, "Ask an administrator to activate a device for you.")
	}
	code, err := g.issuePromptActivation(ctx, p.User, g.cfg.Now())
	if err != nil {
		return g.errStoreUnavailable(r, "issuing activation code", err)
	}
	p.Activation = code
	if err := g.setFlow(w, r, f); err != nil {
		return errInternal("encoding login flow", err)
	}
	web.NoStore(w)
	http.Redirect(w, r, pathVerify, http.StatusSeeOther)
	return nil
}
