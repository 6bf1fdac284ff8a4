package prompt

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// Enrollment is how a person gets a device activated (DeviceTrust.Enrollment).
type Enrollment string

// Enrollment choices.
const (
	// EnrollAdmin: activation codes come only from an admin (the admin API
	// or the dashboard); the prompt offers no enrollment. The default.
	EnrollAdmin Enrollment = "admin"
	// EnrollSelf: the prompt offers a person with no active device an
	// activation code. Whoever knows the person's password can then enroll
	// a device of their choosing, so in mode block it needs
	// DeviceTrust.EnrollmentInBlockMode.
	EnrollSelf Enrollment = "self"
	// EnrollApprove: the prompt offers a person with at least one active
	// device an activation code for another device, which stays pending
	// until one of the active devices approves it by push with number
	// matching. A person with no active device is treated as under
	// EnrollAdmin: nobody could approve for them.
	EnrollApprove Enrollment = "approve"
)

// ParseEnrollment reads an enrollment choice: admin, self or approve.
func ParseEnrollment(s string) (Enrollment, error) {
	switch e := Enrollment(s); e {
	case EnrollAdmin, EnrollSelf, EnrollApprove:
		return e, nil
	}
	return "", fmt.Errorf("unknown enrollment %q (want admin, self or approve)", s)
}

// Activation code sources. An admin's code is a bare random token; a code
// the prompt issues starts with its source and a dot. The store keeps only
// the hash of the whole code, so the source cannot be changed: a prompt
// code with its prefix cut off, or another prefix put on, matches nothing.
const (
	selfCodePrefix    = "self."
	approveCodePrefix = "approve."
)

// codeSource returns the enrollment choice a code was issued under: admin
// for a bare code, self or approve for a prompt's.
func codeSource(code string) Enrollment {
	switch {
	case strings.HasPrefix(code, selfCodePrefix):
		return EnrollSelf
	case strings.HasPrefix(code, approveCodePrefix):
		return EnrollApprove
	}
	return EnrollAdmin
}

// issuePromptActivation issues an activation code from the prompt for
// user, marked with the site's enrollment choice.
func (g *Gate) issuePromptActivation(ctx context.Context, user string, now time.Time) (string, error) {
	prefix := selfCodePrefix
	if g.cfg.Device.Enrollment == EnrollApprove {
		prefix = approveCodePrefix
	}
	code := prefix + secret.Token()
	err := g.cfg.Store.CreateActivation(ctx, store.Activation{
		CodeHash: secret.Hash(code),
		User:     user,
		Realm:    g.deviceRealm,
		Created:  now,
		Expires:  now.Add(g.cfg.Device.ActivationTTL),
	})
	if err != nil {
		return "", fmt.Errorf("storing activation: %w", err)
	}
	return code, nil
}

// promptOffersEnrollment reports whether the prompt offers an activation
// code to a person with active devices.
func (g *Gate) promptOffersEnrollment(active int) bool {
	switch g.cfg.Device.Enrollment {
	case EnrollSelf:
		return active == 0
	case EnrollApprove:
		return active > 0
	}
	return false
}

// checkEnrollment validates the enrollment settings of d, whose defaults
// are filled in.
func (d DeviceTrust) checkEnrollment() error {
	switch d.Enrollment {
	case EnrollAdmin, EnrollApprove:
	case EnrollSelf:
		if d.Policy.Mode == policy.ModeBlock && !d.EnrollmentInBlockMode {
			return fmt.Errorf("enrollment self in mode block lets whoever knows a password enroll a device and be trusted: " +
				"allow it on purpose (enrollment self block_mode), or use enrollment approve or admin")
		}
	default:
		_, err := ParseEnrollment(string(d.Enrollment))
		return err
	}
	return nil
}

// ActivationQR draws link (an activation link) as a QR code, as a data:
// URI for an img element.
func ActivationQR(link string) (template.URL, error) {
	return qrCodeDataURI(link)
}

// submitEnroll issues a fresh activation code from the prompt, where the
// site's enrollment choice offers one to this person, and shows the prompt
// with it: under enrollment approve the prompt offers the code only on
// request ("Add a new device"), and a code used up by a refused device
// is replaced this way.
func (g *Gate) submitEnroll(w http.ResponseWriter, r *http.Request) {
	f, ok := g.postedPendingForm(w, r)
	if !ok {
		return
	}
	p := f.Pending
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	devices, err := g.activeDevices(ctx, p.User)
	if err != nil {
		g.storeUnavailable(w, r, "reading devices", err)
		return
	}
	if !g.promptOffersEnrollment(len(devices)) {
		g.showPrompt(w, r, f, http.StatusForbidden, "Ask an administrator to activate a device for you.")
		return
	}
	code, err := g.issuePromptActivation(ctx, p.User, g.cfg.Now())
	if err != nil {
		g.storeUnavailable(w, r, "issuing activation code", err)
		return
	}
	p.Activation = code
	if err := g.setFlow(w, r, f); err != nil {
		g.internalError(w, r, "encoding login flow", err)
		return
	}
	web.NoStore(w)
	http.Redirect(w, r, pathVerify, http.StatusSeeOther)
}
