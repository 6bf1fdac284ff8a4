package agent

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// errNoPasscode: the gateway provisioned no passcode secret.
var errNoPasscode = errors.New("the gateway provisioned no passcode for this device")

// Passcode returns the device's offline passcode at now: the RFC 6238 TOTP
// code of the secret provisioned at activation.
func (a *Agent) Passcode(now time.Time) (string, error) {
	act, err := a.activated()
	if err != nil {
		return "", err
	}
	return a.passcode(act, now)
}

// PasscodeValidFor returns how long the passcode at now stays valid.
func (a *Agent) PasscodeValidFor(now time.Time) (time.Duration, error) {
	act, err := a.activated()
	if err != nil {
		return 0, err
	}
	opts, err := passcodeOptions(act.PasscodeDigits, act.PasscodePeriod, act.PasscodeAlgorithm)
	if err != nil {
		return 0, err
	}
	period := time.Duration(opts.Period) * time.Second
	return period - time.Duration(now.UnixNano())%period, nil
}

func (a *Agent) passcode(act Activation, now time.Time) (string, error) {
	if act.PasscodeSecret == "" {
		return "", errNoPasscode
	}
	opts, err := passcodeOptions(act.PasscodeDigits, act.PasscodePeriod, act.PasscodeAlgorithm)
	if err != nil {
		return "", err
	}
	code, err := totp.GenerateCodeCustom(act.PasscodeSecret, now, opts)
	if err != nil {
		return "", fmt.Errorf("passcode: %w", err)
	}
	return code, nil
}

// passcodeOptions checks the passcode parameters the gateway provisioned;
// zero values mean the RFC 6238 defaults (6 digits, 30 s, SHA1).
func passcodeOptions(digits, period int, algorithm string) (totp.ValidateOpts, error) {
	opts := totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	switch digits {
	case 0, 6:
	case 8:
		opts.Digits = otp.DigitsEight
	default:
		return opts, fmt.Errorf("passcode digits %d: want 6 or 8", digits)
	}
	switch {
	case period == 0:
	case period >= 10 && period <= 300:
		opts.Period = uint(period)
	default:
		return opts, fmt.Errorf("passcode period %ds: want 10 to 300", period)
	}
	switch strings.ToUpper(algorithm) {
	case "", "SHA1":
	case "SHA256":
		opts.Algorithm = otp.AlgorithmSHA256
	case "SHA512":
		opts.Algorithm = otp.AlgorithmSHA512
	default:
		return opts, fmt.Errorf("passcode algorithm %q: want SHA1", algorithm)
	}
	return opts, nil
}
