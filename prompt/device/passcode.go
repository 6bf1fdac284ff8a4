package device

import (
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
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
