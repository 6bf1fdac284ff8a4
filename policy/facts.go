package policy

import (
	"fmt"
	"strings"
)

// Platform is a mobile operating system family.
type Platform string

// Platforms the mobile app runs on. Anything else cannot be verified.
const (
	IOS     Platform = "ios"
	Android Platform = "android"
)

// ParsePlatform parses "ios" or "android", ignoring case and surrounding
// spaces.
func ParsePlatform(s string) (Platform, error) {
	p := normalizePlatform(Platform(s))
	if !p.Supported() {
		return "", fmt.Errorf("unknown platform %q (want ios or android)", truncate(s))
	}
	return p, nil
}

// Supported reports whether p is a platform the mobile app can verify.
func (p Platform) Supported() bool { return p == IOS || p == Android }

// displayName is the platform as people write it, for fix hints.
func (p Platform) displayName() string {
	switch p {
	case IOS:
		return "iOS"
	case Android:
		return "Android"
	}
	return "the operating system"
}

func normalizePlatform(p Platform) Platform {
	return Platform(strings.ToLower(strings.TrimSpace(string(p))))
}

// Facts are the health facts a device reports about itself, signed by its
// device key. They arrive as JSON in the device API.
//
// The boolean facts are pointers so that a fact the device did not report is
// told apart from one reported false: a requirement on an unreported fact
// fails (reason invalid_facts) instead of passing by accident, which matters
// most for Tampered, where false is the healthy answer.
type Facts struct {
	// Platform is "ios" or "android".
	Platform Platform `json:"platform"`
	// OSVersion is the operating system version, e.g. "17.4.1" or "14".
	OSVersion string `json:"os_version"`
	// SecurityPatch is the Android security patch level, "YYYY-MM-DD".
	SecurityPatch string `json:"security_patch,omitempty"`
	// ScreenLock is whether a passcode, PIN, pattern or password is set.
	ScreenLock *bool `json:"screen_lock"`
	// Biometrics is whether Face ID, Touch ID or a fingerprint is enrolled.
	Biometrics *bool `json:"biometrics"`
	// DiskEncryption is whether storage is encrypted.
	DiskEncryption *bool `json:"disk_encryption"`
	// Tampered is whether the device is jailbroken or rooted.
	Tampered *bool `json:"tampered"`
	// AppVersion is the version of the trustgate mobile app.
	AppVersion string `json:"app_version"`
	// Model is the device model as the device names it. It is
	// attacker-controlled free text: policy never interprets it, and
	// whoever displays it must escape it.
	Model string `json:"model,omitempty"`
}
