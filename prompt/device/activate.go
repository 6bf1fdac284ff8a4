package device

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
)

// Activation is a device asking to be activated: the request it sent, the
// platform read from it, and the key its proof carried.
type Activation struct {
	protocol.ActivateRequest
	Platform policy.Platform
	DeviceID string
	Key      *ecdsa.PublicKey
}

// ParseActivation reads an activation request's platform and refuses one
// without a code or with a field too long.
func ParseActivation(req protocol.ActivateRequest) (policy.Platform, error) {
	platform, err := policy.ParsePlatform(req.Platform)
	if err != nil {
		return "", BadRequest(err.Error())
	}
	if req.Code == "" || len(req.Code) > 128 || len(req.Model) > MaxFreeText || len(req.OSVersion) > MaxFreeText || len(req.AppVersion) > MaxFreeText {
		return "", BadRequest("code missing, or a field is too long")
	}
	return platform, nil
}

// Activate binds a new device key to the user of an activation code. A
// device waiting for another device's approval (enrollment approve) is
// answered with resp.Approval set; it is created only once approved.
func (s *Service) Activate(ctx context.Context, c Caller, a Activation) (protocol.ActivateResponse, error) {
	act, err := s.consumeCode(ctx, c, a.Code)
	if err != nil {
		return protocol.ActivateResponse{}, err
	}
	pending, err := s.admit(ctx, a.Code, act)
	if err != nil {
		return protocol.ActivateResponse{}, err
	}
	passcodeSecret, uri, err := NewPasscodeSecret("trustgate", act.User)
	if err != nil {
		return protocol.ActivateResponse{}, s.unavailable("making passcode secret", err)
	}
	jwk, err := protocol.PublicJWK(a.Key)
	if err != nil {
		return protocol.ActivateResponse{}, s.unavailable("encoding device key", err)
	}
	now := s.now()
	d := store.Device{
		ID: a.DeviceID, User: act.User, Realm: act.Realm, PublicKey: jwk,
		Platform: string(a.Platform), Model: a.Model, OSVersion: a.OSVersion, AppVersion: a.AppVersion,
		PasscodeSecret: passcodeSecret, Created: now, LastSeen: now,
	}
	resp := s.activateResponse(c, d, uri)
	if pending {
		return s.startEnrollment(ctx, c, d, resp)
	}
	err = s.st.CreateDevice(ctx, d)
	if errors.Is(err, store.ErrConflict) {
		return protocol.ActivateResponse{}, refuse(CodeConflict, "this device key is already activated")
	}
	if err != nil {
		return protocol.ActivateResponse{}, s.unavailable("storing device", err)
	}
	s.log.Info("device activated", zap.String("user", act.User), zap.String("device_id", d.ID), zap.String("platform", string(a.Platform)), zap.String("realm", s.realmName(act.Realm)))
	return resp, nil
}

// consumeCode uses the activation code up. Failed activations count
// against the address, so codes cannot be guessed at speed. Only failures
// count: many people activating at once from one address (an office
// behind NAT) must not lock it, and a success must not wipe an attacker's
// count. Guesses made in parallel may pass the limit by their number,
// which is harmless against 256-bit codes; the limit is there to stop
// guessing, not to make it possible.
func (s *Service) consumeCode(ctx context.Context, c Caller, code string) (store.Activation, error) {
	lockKey := "activate:" + c.IP
	failed, err := s.st.CountFailures(ctx, lockKey, s.now().Add(-s.cfg.LockoutWindow))
	if err != nil {
		return store.Activation{}, s.unavailable("counting activation attempts", err)
	}
	if failed >= s.cfg.ActivationAttempts {
		return store.Activation{}, refuse(CodeTooManyRequests, "too many failed activations from this address; try again later")
	}
	act, err := s.st.ConsumeActivation(ctx, secret.Hash(code), s.now())
	if errors.Is(err, store.ErrNotFound) {
		if err := s.st.AddFailure(ctx, lockKey, s.now()); err != nil {
			return store.Activation{}, s.unavailable("counting activation attempts", err)
		}
		return store.Activation{}, refuse(CodeNotFound, "the activation code is unknown, used or expired")
	}
	if err != nil {
		return store.Activation{}, s.unavailable("using activation code", err)
	}
	return act, nil
}

// activateResponse tells a device activated through c who it belongs to;
// uri is its passcode secret's otpauth URI.
func (s *Service) activateResponse(c Caller, d store.Device, uri string) protocol.ActivateResponse {
	origins := s.cfg.Origins
	if len(origins) == 0 {
		origins = []string{c.Origin}
	}
	return protocol.ActivateResponse{
		DeviceID: d.ID,
		User:     d.User,
		Origins:  origins,
		Passcode: protocol.PasscodeSetup{
			Secret: d.PasscodeSecret, URI: uri,
			Digits: int(PasscodeDigits), Period: int(PasscodePeriod / time.Second), Algorithm: "SHA1",
		},
	}
}

// admit decides whether a consumed activation code may activate a device
// for its user under the site's enrollment choice. A code the prompt
// issued counts only under the choice it was issued for: a site that has
// moved to admin refuses the codes its prompt handed out before. pending
// says the device waits for approval.
func (s *Service) admit(ctx context.Context, code string, act store.Activation) (pending bool, err error) {
	user := act.User
	source := CodeSource(code)
	if source == EnrollAdmin {
		return false, nil
	}
	if source != s.cfg.Enrollment {
		s.log.Warn("activation code from the prompt refused: the site's enrollment changed",
			zap.String("user", user), zap.String("code_from", string(source)), zap.String("enrollment", string(s.cfg.Enrollment)))
		return false, refuse(CodeEnrollmentRefused, "this site does not take activation codes from the sign-in page; ask an administrator for one")
	}
	// The person's devices are counted in the realm the code was issued
	// in: a device of another site's alice is not this alice's.
	devices, err := s.ActiveDevices(ctx, user, s.codeRealm(act.Realm))
	if err != nil {
		return false, s.unavailable("reading devices", err)
	}
	switch {
	case source == EnrollSelf && len(devices) > 0:
		// The person got the code while they had no device, and has one
		// now: a further device needs an administrator.
		return false, refuse(CodeEnrollmentRefused, "you already have an activated device; ask an administrator to add another")
	case source == EnrollApprove && len(devices) == 0:
		// Nobody is left to approve it.
		return false, refuse(CodeEnrollmentRefused, "you have no activated device to approve this one; ask an administrator")
	}
	return source == EnrollApprove, nil
}

// IssuePromptActivation issues an activation code from the prompt for
// user, marked with the site's enrollment choice and bound to the realm
// the prompt binds devices to.
func (s *Service) IssuePromptActivation(ctx context.Context, user string, now time.Time) (string, error) {
	code := NewPromptCode(s.cfg.Enrollment)
	err := s.st.CreateActivation(ctx, store.Activation{
		CodeHash: secret.Hash(code),
		User:     user,
		Realm:    s.cfg.DeviceRealm,
		Created:  now,
		Expires:  now.Add(s.cfg.ActivationTTL),
	})
	if err != nil {
		return "", fmt.Errorf("storing activation: %w", err)
	}
	return code, nil
}
