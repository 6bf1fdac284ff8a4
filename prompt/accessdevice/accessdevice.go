package accessdevice

import (
	"net/http"
	"strconv"
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

// iosHint returns the platform hint an iOS or iPadOS device would send, so
// that a hint of "iOS" agrees with an iPad's user agent too.
func iosHint(d Device) string {
	if d.Platform == "ios" {
		return "iOS"
	}
	return ""
}

// systemInfo returns the system information of a browser's user agent: the
// first parenthesized part after "Mozilla/x.y".
func systemInfo(ua string) (string, bool) {
	if !strings.HasPrefix(ua, "Mozilla/") {
		return "", false
	}
	open := strings.IndexByte(ua, '(')
	if open < 0 {
		return "", false
	}
	end := strings.IndexByte(ua[open:], ')')
	if end < 0 {
		return "", false
	}
	return ua[open+1 : open+end], true
}

// crawlerMarks identify crawlers and link previewers, which often borrow a
// phone's user agent and add their name (Googlebot smartphone says
// "Android 6.0.1 ... Mobile Safari ... Googlebot/2.1"). "bot" alone would
// catch the Cubot phone brand.
var crawlerMarks = []string{"bot/", "bot;", "bot)", "crawler", "spider", "slurp", "+http", "facebookexternalhit", "mediapartners-google"}

func isCrawler(ua string) bool {
	return containsAnyFold(ua, crawlerMarks)
}

// unverifiableMarks identify platforms whose user agents borrow Android,
// iPhone or Windows tokens although the mobile app cannot run there.
var unverifiableMarks = []string{"windows phone", "iemobile", "windows mobile", "kaios", "tizen", "blackberry", "bb10", "webos", "playstation", "xbox", "nintendo", "smart-tv", "smarttv"}

func unverifiablePlatform(ua string) bool {
	return containsAnyFold(ua, unverifiableMarks)
}

// containsAnyFold reports whether s contains any of marks, which are lower case.
func containsAnyFold(s string, marks []string) bool {
	lower := strings.ToLower(s)
	for _, m := range marks {
		if strings.Contains(lower, m) {
			return true
		}
	}
	return false
}

// fromUserAgent classifies the system information of a browser's user agent.
func fromUserAgent(ua, system string) Device {
	switch {
	case hasSystemToken(system, "iPhone"), hasSystemToken(system, "iPod"):
		// An iPod touch runs iOS and the app, and is held like a phone.
		return Device{Kind: KindIPhone, Platform: "ios", OS: "iOS", OSVersion: appleOSVersion(system)}
	case hasSystemToken(system, "iPad"):
		v := appleOSVersion(system)
		kind, osName := appleKind(false, v)
		return Device{Kind: kind, Platform: "ios", OS: osName, OSVersion: v}
	case strings.Contains(system, "Android"):
		return Device{Kind: androidKind(strings.Contains(ua, "Mobile")), Platform: "android", OS: "Android",
			OSVersion: androidVersion(system)}
	case strings.Contains(system, "CrOS"):
		return Device{Kind: KindDesktop, OS: "ChromeOS", OSVersion: chromeOSVersion(system)}
	case strings.Contains(system, "Macintosh"):
		return Device{Kind: KindDesktop, OS: "macOS", OSVersion: versionAfter(system, "Mac OS X ")}
	case strings.Contains(system, "Windows NT"):
		return Device{Kind: KindDesktop, OS: "Windows", OSVersion: versionAfter(system, "Windows NT ")}
	case strings.Contains(system, "Linux"):
		return Device{Kind: KindDesktop, OS: "Linux"}
	case strings.Contains(system, "X11"):
		// BSDs and other Unix desktops: a desktop, whose OS we do not name.
		return Device{Kind: KindDesktop}
	}
	return Device{Kind: KindUnknown}
}

// hasSystemToken reports whether one of the ";"-separated tokens of the
// system information starts with name ("iPad", "iPhone", "iPod touch").
func hasSystemToken(system, name string) bool {
	for tok := range strings.SplitSeq(system, ";") {
		if strings.HasPrefix(strings.TrimSpace(tok), name) {
			return true
		}
	}
	return false
}

func androidKind(mobile bool) string {
	if mobile {
		return KindAndroidPhone
	}
	return KindAndroidTablet
}

// appleKind returns the kind and OS name of an Apple mobile device: an iPad
// runs "iPadOS" from version 13, when Apple gave the iPad's iOS its own name.
func appleKind(phone bool, version string) (kind, osName string) {
	if phone {
		return KindIPhone, "iOS"
	}
	major, _, _ := strings.Cut(version, ".")
	if n, err := strconv.Atoi(major); err == nil && n < 13 {
		return KindIPad, "iOS"
	}
	return KindIPad, "iPadOS"
}

// appleOSVersion reads "CPU iPhone OS 17_4_1 like Mac OS X" or
// "CPU OS 12_5 like Mac OS X" as "17.4.1" or "12.5".
func appleOSVersion(system string) string {
	for rest := system; ; {
		i := strings.Index(rest, "OS ")
		if i < 0 {
			return ""
		}
		rest = rest[i+len("OS "):]
		if v := leadingVersion(rest); v != "" {
			return v
		}
	}
}

// reducedAndroid is the fixed system information of Chrome's reduced user
// agent, the same on every Android device: its "10" says nothing.
const reducedAndroid = "Linux; Android 10; K"

func androidVersion(system string) string {
	if system == reducedAndroid {
		return ""
	}
	return versionAfter(system, "Android ")
}

// chromeOSVersion reads "X11; CrOS x86_64 14541.0.0" as "14541.0.0", the
// platform version that ChromeOS puts last.
func chromeOSVersion(system string) string {
	_, rest, _ := strings.Cut(system, "CrOS ")
	if i := strings.LastIndexByte(rest, ' '); i >= 0 {
		return leadingVersion(rest[i+1:])
	}
	return ""
}

// versionAfter returns the version that follows the first prefix in s.
func versionAfter(s, prefix string) string {
	_, rest, ok := strings.Cut(s, prefix)
	if !ok {
		return ""
	}
	return leadingVersion(rest)
}

// maxVersion bounds a version string; real ones are under twenty bytes.
const maxVersion = 32

// leadingVersion returns the dotted version at the start of s (digits,
// separated by single dots), reading "_" as "." since Apple writes 17_4_1. It
// returns "" if s does not start with a digit.
func leadingVersion(s string) string {
	end := 0
	for i := 0; i < len(s) && i < maxVersion; i++ {
		switch {
		case isDigit(s[i]):
			end = i + 1
		case (s[i] == '.' || s[i] == '_') && end == i && i > 0:
			// A separator counts once a digit follows it.
		default:
			return strings.ReplaceAll(s[:end], "_", ".")
		}
	}
	return strings.ReplaceAll(s[:end], "_", ".")
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// browserMarks are the product tokens that name a browser, most specific
// first: Edge, Opera and Samsung Internet also say "Chrome/", and every iOS
// browser also says "Safari/".
var browserMarks = []struct{ token, name string }{
	{"SamsungBrowser/", "Samsung Internet"},
	{"EdgiOS/", "Edge"},
	{"EdgA/", "Edge"},
	{"Edg/", "Edge"},
	{"Edge/", "Edge"},
	{"OPR/", "Opera"},
	{"OPiOS/", "Opera"},
	{"OPT/", "Opera"},
	{"YaBrowser/", "Yandex Browser"},
	{"UCBrowser/", "UC Browser"},
	{"MiuiBrowser/", "MIUI Browser"},
	{"CriOS/", "Chrome"},
	{"FxiOS/", "Firefox"},
	{"Firefox/", "Firefox"},
}

// browserOf names the browser of a user agent and its version.
func browserOf(ua string, ios bool) (name, version string) {
	for _, m := range browserMarks {
		if v, ok := tokenVersion(ua, m.token); ok {
			return m.name, v
		}
	}
	if !ios {
		if v, ok := tokenVersion(ua, "Chrome/"); ok {
			if strings.Contains(ua, "; wv)") {
				return "Android WebView", v
			}
			return "Chrome", v
		}
	}
	if strings.Contains(ua, "Safari/") {
		if v, ok := tokenVersion(ua, "Version/"); ok {
			return "Safari", v
		}
	}
	// An app's embedded web view or a browser we do not know.
	return "", ""
}

// tokenVersion returns the version after a product token such as "Chrome/".
func tokenVersion(ua, token string) (string, bool) {
	_, rest, ok := strings.Cut(ua, token)
	if !ok {
		return "", false
	}
	return leadingVersion(rest), true
}

// blinkOrGecko reports whether a user agent comes from a Chromium or Firefox
// engine, which no iPad browser runs: the touch hint cannot make it an iPad.
func blinkOrGecko(ua string) bool {
	return strings.Contains(ua, "Chrome/") || strings.Contains(ua, "Firefox/")
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
