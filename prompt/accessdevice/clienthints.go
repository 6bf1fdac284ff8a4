package accessdevice

import (
	"net/http"
	"strings"
)

// iosHint returns the platform hint an iOS or iPadOS device would send, so
// that a hint of "iOS" agrees with an iPad's user agent too.
func iosHint(d Device) string {
	if d.Platform == "ios" {
		return "iOS"
	}
	return ""
}

func hasTouchHint(r *http.Request) bool {
	for _, name := range []string{TouchHintCookie, "__Host-" + TouchHintCookie} {
		if c, err := r.Cookie(name); err == nil && c.Value == TouchHintValue {
			return true
		}
	}
	return false
}

// clientHints holds the client hints that matter here, already checked.
type clientHints struct {
	mobile  string // "?1", "?0" or ""
	os      string // an Device.OS value, or "" when absent or unknown
	version string // digits and dots, trailing ".0"s trimmed, or ""
}

// hintPlatforms maps Sec-CH-UA-Platform values to Device.OS. Other
// values ("Unknown", "Fuchsia") leave the user agent in charge.
var hintPlatforms = map[string]string{
	"Android":     "Android",
	"iOS":         "iOS",
	"macOS":       "macOS",
	"Windows":     "Windows",
	"Linux":       "Linux",
	"Chrome OS":   "ChromeOS",
	"Chromium OS": "ChromeOS",
}

func readClientHints(h http.Header) clientHints {
	var hints clientHints
	if m := strings.TrimSpace(h.Get("Sec-CH-UA-Mobile")); m == "?1" || m == "?0" {
		hints.mobile = m
	}
	hints.os = hintPlatforms[hintString(h.Get("Sec-CH-UA-Platform"))]
	if hints.os == "" {
		return hints
	}
	v := hintString(h.Get("Sec-CH-UA-Platform-Version"))
	if v != "" && leadingVersion(v) == v && !strings.Contains(v, "_") {
		// Chromium always sends three parts ("14.0.0"); keep what carries
		// information, as a user agent would write it ("14").
		for strings.HasSuffix(v, ".0") {
			v = strings.TrimSuffix(v, ".0")
		}
		hints.version = v
	}
	return hints
}

// hintString returns the content of a structured-field string ("\"Android\"")
// that is short and has no escapes, or "".
func hintString(v string) string {
	v = strings.TrimSpace(v)
	if len(v) < 2 || len(v) > maxClientHint || v[0] != '"' || v[len(v)-1] != '"' {
		return ""
	}
	v = v[1 : len(v)-1]
	if strings.ContainsAny(v, "\"\\") {
		return ""
	}
	return v
}

// fromClientHints classifies a browser whose platform hint contradicts its
// user agent (an Android phone in "desktop site" mode, a desktop browser
// emulating a phone): the hints win, the browser stays as the user agent says.
func fromClientHints(hints clientHints, uaMobile bool, browser, browserVersion string) Device {
	mobile := uaMobile
	if hints.mobile != "" {
		mobile = hints.mobile == "?1"
	}
	d := Device{Kind: KindDesktop, OS: hints.os, Browser: browser, BrowserVersion: browserVersion}
	if hints.os != "Windows" {
		d.OSVersion = hints.version
	}
	switch hints.os {
	case "Android":
		d.Kind, d.Platform = androidKind(mobile), "android"
	case "iOS":
		d.Kind, d.OS = appleKind(mobile, hints.version)
		d.Platform = "ios"
	}
	return d
}
