package accessdevice

import (
	"net/http"
	"strings"
)

// Device describes the device a request comes from, as far as the
// request tells. Everything in it comes from headers the client chose to send:
// it routes the person to the right prompt and fills the auth log, but it
// proves nothing. Whether a phone is healthy is proven by the mobile app, and
// the return link binds that proof to the browser (DESIGN section 4), so a
// desktop that claims to be a phone gains nothing.
type Device struct {
	// Kind is "iphone", "ipad", "android_phone", "android_tablet",
	// "desktop" or "unknown".
	Kind string
	// Platform is "ios" or "android" when the mobile app can verify the
	// device, and "" otherwise (desktop, unknown).
	Platform string
	// OS is "iOS", "iPadOS", "Android", "Windows", "macOS", "Linux",
	// "ChromeOS", or "" when unknown.
	OS string
	// OSVersion is the version the request states, e.g. "17.4.1" or "14",
	// and "" when it states none. It is what the client says, not the truth:
	// Safari froze the iOS version in its user agent from iOS 26 on, and
	// Chrome's reduced user agent names no Android version at all.
	OSVersion string
	// Browser is "Safari", "Chrome", "Firefox", "Edge", "Samsung Internet",
	// "Opera", "Android WebView", ..., or "" when unknown.
	Browser        string
	BrowserVersion string
}

// Access device kinds, as in Device.Kind.
const (
	KindIPhone        = "iphone"
	KindIPad          = "ipad"
	KindAndroidPhone  = "android_phone"
	KindAndroidTablet = "android_tablet"
	KindDesktop       = "desktop"
	KindUnknown       = "unknown"
)

// TouchHintCookie names the cookie that the gateway's own pages set, with
// TouchHintValue, when the browser reports navigator.maxTouchPoints > 1. On
// HTTPS it may carry the __Host- prefix like every gateway cookie.
//
// iPadOS 13 and later browse in "desktop mode" by default: Safari (and the
// other iPad browsers, which all run WebKit) then sends a Macintosh user agent
// identical to macOS Safari's and no client hints, so the server alone cannot
// tell an iPad from a Mac. Macs have no touch screen, so a page script that
// sees several touch points is the one signal left.
const (
	TouchHintCookie = "tg_touch"
	TouchHintValue  = "1"
)

// AcceptClientHints is the Accept-CH response header value that asks Chromium
// browsers for the client hints Classify reads.
// Sec-CH-UA-Platform-Version is a high-entropy hint: browsers send it only to
// an origin that asked for it, so pages that lead to a device check should set
// this header.
const AcceptClientHints = "Sec-CH-UA-Mobile, Sec-CH-UA-Platform, Sec-CH-UA-Platform-Version"

// maxUserAgentScan bounds the work spent on a user agent: real ones are a few
// hundred bytes, and anything past this is ignored.
const maxUserAgentScan = 1 << 10

// maxClientHint bounds a client hint value; real ones are a few dozen bytes.
const maxClientHint = 64

// Classify classifies r from its User-Agent, its User-Agent Client
// Hints (Sec-CH-UA-Mobile, Sec-CH-UA-Platform, Sec-CH-UA-Platform-Version) and
// the touch hint of TouchHintCookie. It is the only place that classifies
// access devices.
//
// A request is a browser's only if its user agent starts with "Mozilla/" and
// names a known system in parentheses; anything else (curl, libraries,
// garbage, an empty user agent), crawlers, and platforms the mobile app does
// not cover (Windows Phone, consoles, TVs) are "unknown". For a browser, client hints
// take precedence over the user agent for the platform, phone or tablet, and
// the OS version: Chrome's reduced user agent says "Android 10; K" on every
// Android device. Windows is the exception for the version: its hint carries
// an API contract version, not the release people know, so the user agent's
// NT version is kept. Only the first KiB of the user agent is read.
func Classify(r *http.Request) Device {
	unknown := Device{Kind: KindUnknown}
	if r == nil {
		return unknown
	}
	ua := r.Header.Get("User-Agent")
	if len(ua) > maxUserAgentScan {
		ua = ua[:maxUserAgentScan]
	}
	system, ok := systemInfo(ua)
	if !ok || isCrawler(ua) || unverifiablePlatform(ua) {
		return unknown
	}

	d := fromUserAgent(ua, system)
	if d.Kind == KindUnknown {
		return unknown
	}
	d.Browser, d.BrowserVersion = browserOf(ua, d.Platform == "ios")

	hints := readClientHints(r.Header)
	switch hints.os {
	case "":
		// No usable platform hint: the user agent stands, and only then does
		// the touch hint matter, since Chromium on a Mac sends a platform hint
		// and iPad browsers send none.
		if d.OS == "macOS" && hasTouchHint(r) && !blinkOrGecko(ua) {
			d = Device{Kind: KindIPad, Platform: "ios", OS: "iPadOS",
				Browser: d.Browser, BrowserVersion: d.BrowserVersion}
		}
		if d.Platform == "android" && hints.mobile != "" {
			d.Kind = androidKind(hints.mobile == "?1")
		}
	case d.OS, iosHint(d):
		if hints.mobile != "" {
			switch d.Platform {
			case "android":
				d.Kind = androidKind(hints.mobile == "?1")
			case "ios":
				d.Kind, d.OS = appleKind(hints.mobile == "?1", d.OSVersion)
			}
		}
		if hints.version != "" && d.OS != "Windows" {
			d.OSVersion = hints.version
		}
	default:
		d = fromClientHints(hints, strings.Contains(ua, "Mobile"), d.Browser, d.BrowserVersion)
	}
	return d
}
