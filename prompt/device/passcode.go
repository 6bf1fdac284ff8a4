package device

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/trustgate/trustgate/prompt/store"
)

// Passcodes are RFC 6238 TOTP codes with the parameters every authenticator
// understands: HMAC-SHA-1, six digits, a new code every 30 seconds. The
// gateway accepts the code of the current step and of one step either side,
// for clock drift and typing time.
const (
	PasscodePeriod = 30 * time.Second
	PasscodeDigits = otp.DigitsSix
	passcodeSkew   = 1
)

// NewPasscodeSecret makes a TOTP secret for a device and the otpauth:// URI
// that provisions it, labelled with issuer and account.
func NewPasscodeSecret(issuer, account string) (secret, uri string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      uint(PasscodePeriod / time.Second),
		Digits:      PasscodeDigits,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", "", fmt.Errorf("making passcode secret: %w", err)
	}
	return key.Secret(), key.URL(), nil
}

// PasscodeAt returns the passcode for secret at t; the reference agent uses
// it to show the current code.
func PasscodeAt(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, passcodeOpts())
}

// MatchPasscode reports whether code is secret's passcode at now, within
// the allowed skew, and which time step it belongs to: the caller records
// the step as used, so one code cannot be replayed within its window.
func MatchPasscode(secret, code string, now time.Time) (step int64, ok bool) {
	if len(code) != int(PasscodeDigits) {
		return 0, false
	}
	current := now.Unix() / int64(PasscodePeriod/time.Second)
	for delta := int64(-passcodeSkew); delta <= passcodeSkew; delta++ {
		s := current + delta
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*int64(PasscodePeriod/time.Second), 0), passcodeOpts())
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

func passcodeOpts() totp.ValidateOpts {
	return totp.ValidateOpts{
		Period:    uint(PasscodePeriod / time.Second),
		Digits:    PasscodeDigits,
		Algorithm: otp.AlgorithmSHA1,
	}
}

// CheckPasscode returns the device of devices whose passcode code is now,
// or nil when there is none. A code counts once: its time step is
// recorded as used, so it cannot be replayed within its window. It fails
// only when the use cannot be recorded.
func (s *Service) CheckPasscode(ctx context.Context, devices []store.Device, code string) (*store.Device, error) {
	now := s.now()
	for i := range devices {
		d := &devices[i]
		if d.PasscodeSecret == "" {
			continue
		}
		step, ok := MatchPasscode(d.PasscodeSecret, code, now)
		if !ok {
			continue
		}
		fresh, err := s.st.UseOnce(ctx, fmt.Sprintf("passcode:%s:%d", d.ID, step), now.Add(3*PasscodePeriod))
		if err != nil {
			return nil, err
		}
		if fresh {
			return d, nil
		}
		return nil, nil
	}
	return nil, nil
}
