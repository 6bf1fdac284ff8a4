package accessdevice

import (
	"strconv"
	"strings"
)

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
