package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// maxProfileSize bounds a facts profile file.
const maxProfileSize = 64 << 10

// Facts are the health facts a device reports: the documented JSON of the
// report's "facts". A nil bool is a fact the device does not report.
type Facts struct {
	// Platform is "ios" or "android".
	Platform string `json:"platform"`
	// OSVersion is the operating system version, e.g. "17.4.1" or "14".
	OSVersion string `json:"os_version"`
	// SecurityPatch is the Android security patch level, "YYYY-MM-DD".
	SecurityPatch string `json:"security_patch,omitempty"`
	// ScreenLock is whether a passcode, PIN, pattern or password is set.
	ScreenLock *bool `json:"screen_lock,omitempty"`
	// Biometrics is whether Face ID, Touch ID or a fingerprint is enrolled.
	Biometrics *bool `json:"biometrics,omitempty"`
	// DiskEncryption is whether storage is encrypted.
	DiskEncryption *bool `json:"disk_encryption,omitempty"`
	// Tampered is whether the device is jailbroken or rooted.
	Tampered *bool `json:"tampered,omitempty"`
	// AppVersion is the version of the app.
	AppVersion string `json:"app_version"`
	// Model is the device model.
	Model string `json:"model,omitempty"`
}

// LoadProfile reads a JSON file of facts (a device profile), refusing
// unknown fields so that a misspelt fact is not silently left unreported.
func LoadProfile(path string) (Facts, error) {
	var f Facts
	file, err := os.Open(path)
	if err != nil {
		return f, fmt.Errorf("reading profile: %w", err)
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxProfileSize+1))
	if err != nil {
		return f, fmt.Errorf("reading profile %s: %w", path, err)
	}
	if len(data) > maxProfileSize {
		return f, fmt.Errorf("profile %s is larger than %d bytes", path, maxProfileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("profile %s: %w", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return f, fmt.Errorf("profile %s: trailing data after the JSON object", path)
	}
	if err := f.Validate(); err != nil {
		return f, fmt.Errorf("profile %s: %w", path, err)
	}
	return f, nil
}

// Override returns f with every fact that o reports replacing f's.
func (f Facts) Override(o Facts) Facts {
	str := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	boolean := func(dst **bool, v *bool) {
		if v != nil {
			b := *v
			*dst = &b
		}
	}
	str(&f.Platform, o.Platform)
	str(&f.OSVersion, o.OSVersion)
	str(&f.SecurityPatch, o.SecurityPatch)
	boolean(&f.ScreenLock, o.ScreenLock)
	boolean(&f.Biometrics, o.Biometrics)
	boolean(&f.DiskEncryption, o.DiskEncryption)
	boolean(&f.Tampered, o.Tampered)
	str(&f.AppVersion, o.AppVersion)
	str(&f.Model, o.Model)
	return f
}

// Validate checks what the gateway would refuse anyway, to say so
// clearly: the platform and the form of the patch date.
func (f Facts) Validate() error {
	if f.Platform != "ios" && f.Platform != "android" {
		return fmt.Errorf("facts: platform %q, want ios or android", f.Platform)
	}
	if f.SecurityPatch != "" {
		if _, err := time.Parse(time.DateOnly, f.SecurityPatch); err != nil {
			return fmt.Errorf("facts: security_patch %q, want YYYY-MM-DD", f.SecurityPatch)
		}
	}
	for name, v := range map[string]string{"os_version": f.OSVersion, "app_version": f.AppVersion, "model": f.Model} {
		if len(v) > maxValueSize {
			return fmt.Errorf("facts: %s longer than %d bytes", name, maxValueSize)
		}
	}
	return nil
}
