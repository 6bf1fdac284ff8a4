package caddymodule

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/web"
)

// AppLinks names the mobile apps allowed to open the gateway's HTTPS links.
type AppLinks struct {
	// AppleAppIDs are iOS app IDs, "TEAMID.bundle.id": a 10-character
	// team ID of upper-case letters and digits, a dot, a bundle ID.
	AppleAppIDs []string `json:"apple_app_ids,omitempty"`
	// Android are the Android apps; the first one's package also names the
	// app in intent: links.
	Android []AndroidAppLink `json:"android,omitempty"`
}

// AndroidAppLink is one Android app allowed to open the gateway's links.
type AndroidAppLink struct {
	// Package is the application ID, e.g. "com.example.trustgate".
	Package string `json:"package"`
	// SHA256CertFingerprints are the SHA-256 fingerprints of the app's
	// signing certificates, "AA:BB:..." (32 bytes in upper-case hex,
	// colon-separated, as assetlinks.json wants them; lower case is
	// refused, not converted).
	SHA256CertFingerprints []string `json:"sha256_cert_fingerprints,omitempty"`
}

// forGate returns the app links as prompt.DeviceTrust takes them.
func (l *AppLinks) forGate() (apple []string, android []device.AndroidApp) {
	for _, a := range l.Android {
		android = append(android, device.AndroidApp{Package: a.Package, Fingerprints: a.SHA256CertFingerprints})
	}
	return l.AppleAppIDs, android
}

// validate reports every bad app ID, package and fingerprint with
// prompt.ValidateAppLinks, the check the gate makes at provision, so the
// Caddyfile (line by line) and JSON refuse the same values in the same
// words.
func (l *AppLinks) validate() error {
	if err := device.ValidateAppLinks(l.forGate()); err != nil {
		return fmt.Errorf("app_links: %w", err)
	}
	return nil
}

// deviceMode returns the configured mode, off when unset.
func (h *Handler) deviceMode() policy.Mode {
	if h.Mode == "" {
		return policy.ModeOff
	}
	return h.Mode
}

// devicePolicy returns the policy the handler's settings describe.
func (h *Handler) devicePolicy() policy.Policy {
	p := policy.Policy{Mode: h.deviceMode()}
	if h.Mobile != nil {
		p.Integration = *h.Mobile
	}
	if h.Managed != nil {
		p.Managed = *h.Managed
	}
	if h.Requirements != nil {
		p.Requirements = *h.Requirements
	}
	return p
}

// deviceTrust returns the device check for the gate, or nil in mode off.
// cache is the trust cache and inv the inventory of managed devices that
// every site of the server shares.
func (h *Handler) deviceTrust(cache *device.TrustCache, inv *inventory.Active) (*prompt.DeviceTrust, error) {
	if err := h.validateDevice(); err != nil {
		return nil, err
	}
	if h.deviceMode() == policy.ModeOff {
		return nil, nil
	}
	d := &prompt.DeviceTrust{
		Policy:                h.devicePolicy(),
		TrustFor:              time.Duration(h.TrustFor),
		PushTimeout:           time.Duration(h.PushTimeout),
		Enrollment:            h.enrollment(),
		EnrollmentInBlockMode: h.EnrollmentBlockMode,
		Unbound:               h.Unbound,
		ActivationAttempts:    h.ActivationAttempts,
		PasscodeAttempts:      h.PasscodeAttempts,
		PushLimit:             h.PushLimit,
		PushWindow:            time.Duration(h.PushWindow),
		Origins:               h.Origins,
		Cache:                 cache,
		Inventory:             inv,
	}
	if h.AppLinks != nil {
		d.AppleAppIDs, d.AndroidApps = h.AppLinks.forGate()
	}
	return d, nil
}

// validateDevice reports every error in the device settings, JSON or
// Caddyfile alike.
func (h *Handler) validateDevice() error {
	var errs []error
	if h.FailMode != "" {
		if _, err := prompt.ParseFailMode(h.FailMode); err != nil {
			errs = append(errs, err)
		}
	}
	if err := h.devicePolicy().Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := h.validateEnrollment(); err != nil {
		errs = append(errs, err)
	}
	for _, c := range []struct {
		name  string
		value time.Duration
	}{
		{"trust_for", time.Duration(h.TrustFor)},
		{"push_timeout", time.Duration(h.PushTimeout)},
		{"push_window", time.Duration(h.PushWindow)},
	} {
		if c.value < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative, got %s", c.name, c.value))
		}
	}
	for _, c := range []struct {
		name  string
		value int
	}{
		{"passcode_attempts", h.PasscodeAttempts},
		{"activation_attempts", h.ActivationAttempts},
		{"push_limit", h.PushLimit},
	} {
		if c.value < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative, got %d", c.name, c.value))
		}
	}
	for _, o := range h.Origins {
		if err := web.CheckOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("origins: %w", err))
		}
	}
	if h.AppLinks != nil {
		if err := h.AppLinks.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// warnAboutDeviceSettings logs settings that are valid but probably not
// what the admin meant.
func (h *Handler) warnAboutDeviceSettings() {
	p := h.devicePolicy()
	switch {
	case p.Mode == policy.ModeOff && (h.Mobile != nil || h.Managed != nil || h.Requirements != nil):
		h.logger.Warn("device settings are ignored in mode off; set mode check or block to use them")
	case p.Mode == policy.ModeBlock && disabled(p.Integration.State) && disabled(p.Managed.State):
		h.logger.Warn("mode block with the mobile and managed integrations disabled: no device can be proven trusted, so every login is denied; enable one for groups or all",
			zap.String("mode", string(p.Mode)))
	}
}

// disabled reports whether an integration in state s is off.
func disabled(s policy.State) bool { return s == "" || s == policy.Disabled }
