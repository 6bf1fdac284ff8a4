package prompt

import (
	"errors"
	"fmt"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/inventory"
)

// DeviceTrust configures the device check of a Gate: who must prove their
// phone healthy, against which requirements, and what happens to devices
// that do not.
type DeviceTrust struct {
	// Policy is the mode, the integrations' scopes (mobile and managed)
	// and the requirements.
	Policy policy.Policy
	// Inventory is the active inventory of managed devices, shared by
	// every site and kept current by the runtime; a request's verified
	// client certificate is looked up in it when Policy.Managed applies.
	// Nil: no device is managed.
	Inventory *inventory.Active
	// TrustFor is how long a device check counts before the next request
	// checks again. Default: 12h.
	TrustFor time.Duration
	// PushTimeout is how long a login request waits for the person's
	// answer in the app. Default: 60s.
	PushTimeout time.Duration
	// Enrollment says who may start a device's activation: EnrollAdmin
	// (only admins issue codes), EnrollSelf (the prompt, for a person with
	// no active device) or EnrollApprove (the prompt, for a person with an
	// active device, which must approve the new one). Default: EnrollAdmin.
	Enrollment device.Enrollment
	// EnrollmentInBlockMode allows EnrollSelf in mode block, where it
	// trusts a password alone to enroll a trusted device. Without it that
	// combination is refused.
	EnrollmentInBlockMode bool
	// Unbound lets the waiting page complete a check by itself once the
	// app approved, without the phone's browser coming back through the
	// app's return link. Only for browsers the app cannot return to
	// (embedded web views); such logins are marked unbound in the auth log.
	Unbound bool
	// ActivationTTL is how long an activation code stays valid.
	// Default: 10m.
	ActivationTTL time.Duration
	// ActivationAttempts is how many failed activations one IP address may
	// make within LockoutWindow. Default: 10.
	ActivationAttempts int
	// PasscodeAttempts is how many wrong passcodes one user may enter within
	// LockoutWindow before passcodes are refused. Default: 5.
	PasscodeAttempts int
	// PushLimit is how many login requests one user may be sent within
	// PushWindow, against push fatigue. Default: 5 per 10m.
	PushLimit  int
	PushWindow time.Duration
	// AppleAppIDs are the iOS app IDs ("TEAMID.bundle.id") that may open
	// the gateway's HTTPS links, for /.well-known/apple-app-site-association.
	AppleAppIDs []string
	// AndroidApps are the Android apps that may open them, for
	// /.well-known/assetlinks.json; the first one's package also names the
	// app in intent: links.
	AndroidApps []device.AndroidApp
	// Origins are the gateway origins (scheme://host[:port]) an app
	// activated here may act for. Default: the origin the activation came
	// through.
	Origins []string
	// Cache holds trust decisions so a signed-in request reads no storage.
	// Required; share one between the sites of a server.
	Cache *device.TrustCache
}

// Defaults of DeviceTrust.
const (
	defaultTrustFor           = 12 * time.Hour
	defaultPushTimeout        = 60 * time.Second
	defaultActivationAttempts = 10
	defaultPasscodeAttempts   = 5
	defaultPushLimit          = 5
	defaultPushWindow         = 10 * time.Minute
)

// withDefaults checks d and fills in its defaults.
func (d DeviceTrust) withDefaults() (DeviceTrust, error) {
	if err := d.Policy.Validate(); err != nil {
		return d, fmt.Errorf("device policy: %w", err)
	}
	if d.Cache == nil {
		return d, errors.New("device trust: no trust cache")
	}
	if d.TrustFor <= 0 {
		d.TrustFor = defaultTrustFor
	}
	if d.PushTimeout <= 0 {
		d.PushTimeout = defaultPushTimeout
	}
	if d.ActivationTTL <= 0 {
		d.ActivationTTL = device.DefaultActivationTTL
	}
	if d.ActivationAttempts <= 0 {
		d.ActivationAttempts = defaultActivationAttempts
	}
	if d.PasscodeAttempts <= 0 {
		d.PasscodeAttempts = defaultPasscodeAttempts
	}
	if d.PushLimit <= 0 {
		d.PushLimit = defaultPushLimit
	}
	if d.PushWindow <= 0 {
		d.PushWindow = defaultPushWindow
	}
	if d.Enrollment == "" {
		d.Enrollment = device.EnrollAdmin
	}
	if err := d.checkEnrollment(); err != nil {
		return d, err
	}
	for _, a := range d.AndroidApps {
		if a.Package == "" {
			return d, errors.New("device trust: an Android app needs a package name")
		}
	}
	return d, nil
}
