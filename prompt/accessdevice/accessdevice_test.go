package accessdevice

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// Real user agents, as browsers send them.
const (
	uaIPhoneSafari   = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
	uaIPadDesktop    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
	uaAndroidReduced = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
	uaMacChrome      = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	uaWindowsChrome  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	uaLinuxChrome    = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)

// hints builds the client hints a Chromium browser sends.
func hints(mobile, platform, version string) map[string]string {
	h := map[string]string{"Sec-CH-UA-Mobile": mobile, "Sec-CH-UA-Platform": `"` + platform + `"`}
	if version != "" {
		h["Sec-CH-UA-Platform-Version"] = `"` + version + `"`
	}
	return h
}

func TestClassifyAccessDevice(t *testing.T) {
	unknown := Device{Kind: KindUnknown}
	tests := []struct {
		name    string
		ua      string
		headers map[string]string
		cookie  string
		want    Device
	}{
		// iPhone and iPad.
		{
			name: "iPhone Safari 17",
			ua:   uaIPhoneSafari,
			want: Device{KindIPhone, "ios", "iOS", "17.4.1", "Safari", "17.4.1"},
		},
		{
			name: "iPhone Safari 26 with the frozen OS version",
			ua:   "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1",
			want: Device{KindIPhone, "ios", "iOS", "18.6", "Safari", "26.0"},
		},
		{
			name: "iPhone Chrome",
			ua:   "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/123.0.6312.52 Mobile/15E148 Safari/604.1",
			want: Device{KindIPhone, "ios", "iOS", "17.4", "Chrome", "123.0.6312.52"},
		},
		{
			name: "iPhone Firefox",
			ua:   "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/124.0 Mobile/15E148 Safari/605.1.15",
			want: Device{KindIPhone, "ios", "iOS", "17.4", "Firefox", "124.0"},
		},
		{
			name: "iPhone Edge",
			ua:   "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) EdgiOS/122.0.2365.86 Version/17.0 Mobile/15E148 Safari/604.1",
			want: Device{KindIPhone, "ios", "iOS", "17.3.1", "Edge", "122.0.2365.86"},
		},
		{
			name: "iPhone in-app web view names no browser",
			ua:   "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
			want: Device{KindIPhone, "ios", "iOS", "16.6", "", ""},
		},
		{
			name: "iPod touch",
			ua:   "Mozilla/5.0 (iPod touch; CPU iPhone OS 15_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6.1 Mobile/15E148 Safari/604.1",
			want: Device{KindIPhone, "ios", "iOS", "15.7", "Safari", "15.6.1"},
		},
		{
			name: "iPad Safari before iPadOS",
			ua:   "Mozilla/5.0 (iPad; CPU OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1",
			want: Device{KindIPad, "ios", "iOS", "12.5.7", "Safari", "12.1.2"},
		},
		{
			name: "iPad Chrome names the iPad",
			ua:   "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/123.0.6312.52 Mobile/15E148 Safari/604.1",
			want: Device{KindIPad, "ios", "iPadOS", "17.4", "Chrome", "123.0.6312.52"},
		},
		{
			name: "iPadOS desktop mode without the touch hint looks like a Mac",
			ua:   uaIPadDesktop,
			want: Device{KindDesktop, "", "macOS", "10.15.7", "Safari", "17.4"},
		},
		{
			name:   "iPadOS desktop mode with the touch hint",
			ua:     uaIPadDesktop,
			cookie: "tg_touch=1",
			want:   Device{KindIPad, "ios", "iPadOS", "", "Safari", "17.4"},
		},
		{
			name:   "iPadOS desktop mode with the prefixed touch hint on HTTPS",
			ua:     uaIPadDesktop,
			cookie: "other=x; __Host-tg_touch=1",
			want:   Device{KindIPad, "ios", "iPadOS", "", "Safari", "17.4"},
		},
		{
			name:   "touch hint with another value is no hint",
			ua:     uaIPadDesktop,
			cookie: "tg_touch=0",
			want:   Device{KindDesktop, "", "macOS", "10.15.7", "Safari", "17.4"},
		},

		// Android.
		{
			name: "Android Chrome phone, full user agent",
			ua:   "Mozilla/5.0 (Linux; Android 13; SM-S901B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Mobile Safari/537.36",
			want: Device{KindAndroidPhone, "android", "Android", "13", "Chrome", "112.0.0.0"},
		},
		{
			name: "Android Chrome phone, reduced user agent without hints names no version",
			ua:   uaAndroidReduced,
			want: Device{KindAndroidPhone, "android", "Android", "", "Chrome", "124.0.0.0"},
		},
		{
			name:    "Android Chrome phone, reduced user agent with hints",
			ua:      uaAndroidReduced,
			headers: hints("?1", "Android", "14.0.0"),
			want:    Device{KindAndroidPhone, "android", "Android", "14", "Chrome", "124.0.0.0"},
		},
		{
			name:    "Android Chrome tablet, reduced user agent with hints",
			ua:      "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			headers: hints("?0", "Android", "13.0.0"),
			want:    Device{KindAndroidTablet, "android", "Android", "13", "Chrome", "124.0.0.0"},
		},
		{
			name:    "Android mobile hint wins over the user agent",
			ua:      uaAndroidReduced,
			headers: hints("?0", "Android", ""),
			want:    Device{KindAndroidTablet, "android", "Android", "", "Chrome", "124.0.0.0"},
		},
		{
			name:    "Android Chrome in desktop-site mode is still Android",
			ua:      uaLinuxChrome,
			headers: hints("?0", "Android", "14.0.0"),
			want:    Device{KindAndroidTablet, "android", "Android", "14", "Chrome", "124.0.0.0"},
		},
		{
			name: "Android tablet",
			ua:   "Mozilla/5.0 (Linux; Android 12; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.5481.153 Safari/537.36",
			want: Device{KindAndroidTablet, "android", "Android", "12", "Chrome", "110.0.5481.153"},
		},
		{
			name: "Samsung Internet",
			ua:   "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/21.0 Chrome/110.0.5481.154 Mobile Safari/537.36",
			want: Device{KindAndroidPhone, "android", "Android", "13", "Samsung Internet", "21.0"},
		},
		{
			name: "Firefox Android phone",
			ua:   "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
			want: Device{KindAndroidPhone, "android", "Android", "14", "Firefox", "125.0"},
		},
		{
			name: "Firefox Android tablet",
			ua:   "Mozilla/5.0 (Android 13; Tablet; rv:124.0) Gecko/124.0 Firefox/124.0",
			want: Device{KindAndroidTablet, "android", "Android", "13", "Firefox", "124.0"},
		},
		{
			name: "Edge Android",
			ua:   uaAndroidReduced + " EdgA/124.0.2478.64",
			want: Device{KindAndroidPhone, "android", "Android", "", "Edge", "124.0.2478.64"},
		},
		{
			name: "Opera Android",
			ua:   "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Mobile Safari/537.36 OPR/81.1.4292.78446",
			want: Device{KindAndroidPhone, "android", "Android", "", "Opera", "81.1.4292.78446"},
		},
		{
			name: "Android WebView",
			ua:   "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36",
			want: Device{KindAndroidPhone, "android", "Android", "13", "Android WebView", "116.0.0.0"},
		},
		{
			name: "a phone brand containing bot is no crawler",
			ua:   "Mozilla/5.0 (Linux; Android 11; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36",
			want: Device{KindAndroidPhone, "android", "Android", "11", "Chrome", "119.0.6045.163"},
		},

		// Desktops.
		{
			name:    "Windows Chrome keeps the NT version over the hint",
			ua:      uaWindowsChrome,
			headers: hints("?0", "Windows", "15.0.0"),
			want:    Device{KindDesktop, "", "Windows", "10.0", "Chrome", "124.0.0.0"},
		},
		{
			name: "Windows Edge",
			ua:   uaWindowsChrome + " Edg/124.0.2478.80",
			want: Device{KindDesktop, "", "Windows", "10.0", "Edge", "124.0.2478.80"},
		},
		{
			name: "Windows legacy Edge",
			ua:   "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041",
			want: Device{KindDesktop, "", "Windows", "10.0", "Edge", "18.19041"},
		},
		{
			name: "Windows Firefox",
			ua:   "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
			want: Device{KindDesktop, "", "Windows", "10.0", "Firefox", "125.0"},
		},
		{
			name: "Windows Opera",
			ua:   uaWindowsChrome + " OPR/109.0.0.0",
			want: Device{KindDesktop, "", "Windows", "10.0", "Opera", "109.0.0.0"},
		},
		{
			name: "macOS Safari",
			ua:   "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
			want: Device{KindDesktop, "", "macOS", "10.15.7", "Safari", "17.4.1"},
		},
		{
			name:    "macOS Chrome takes the version from the hint and ignores a touch hint",
			ua:      uaMacChrome,
			headers: hints("?0", "macOS", "14.4.1"),
			cookie:  "tg_touch=1",
			want:    Device{KindDesktop, "", "macOS", "14.4.1", "Chrome", "124.0.0.0"},
		},
		{
			name:   "macOS Chrome without hints is no iPad even with a touch hint",
			ua:     uaMacChrome,
			cookie: "tg_touch=1",
			want:   Device{KindDesktop, "", "macOS", "10.15.7", "Chrome", "124.0.0.0"},
		},
		{
			name: "macOS Firefox",
			ua:   "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0",
			want: Device{KindDesktop, "", "macOS", "10.15", "Firefox", "125.0"},
		},
		{
			name: "Linux Firefox",
			ua:   "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
			want: Device{KindDesktop, "", "Linux", "", "Firefox", "125.0"},
		},
		{
			name:    "Linux Chrome",
			ua:      uaLinuxChrome,
			headers: hints("?0", "Linux", ""),
			want:    Device{KindDesktop, "", "Linux", "", "Chrome", "124.0.0.0"},
		},
		{
			name: "ChromeOS",
			ua:   "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			want: Device{KindDesktop, "", "ChromeOS", "14541.0.0", "Chrome", "124.0.0.0"},
		},
		{
			name:    "desktop Chrome emulating a phone is what its hints say",
			ua:      uaIPhoneSafari,
			headers: hints("?0", "Windows", "15.0.0"),
			want:    Device{KindDesktop, "", "Windows", "", "Safari", "17.4.1"},
		},

		// Not a browser the mobile app can vouch for.
		{
			name: "Windows Phone",
			ua:   "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063",
			want: unknown,
		},
		{
			name: "Windows Phone 8.1 pretending to be an iPhone",
			ua:   "Mozilla/5.0 (Mobile; Windows Phone 8.1; Android 4.0; ARM; Trident/7.0; Touch; rv:11.0; IEMobile/11.0; NOKIA; Lumia 635) like iPhone OS 7_0_3 Mac OS X AppleWebKit/537 (KHTML, like Gecko) Mobile Safari/537",
			want: unknown,
		},
		{
			name: "Xbox",
			ua:   "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36 Edge/44.18363.8131",
			want: unknown,
		},
		{
			name: "Samsung smart TV",
			ua:   "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36",
			want: unknown,
		},
		{name: "curl", ua: "curl/8.5.0", want: unknown},
		{name: "Go client", ua: "Go-http-client/1.1", want: unknown},
		{name: "Dalvik", ua: "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230805.001)", want: unknown},
		{
			name: "Googlebot smartphone",
			ua:   "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			want: unknown,
		},
		{name: "Googlebot", ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", want: unknown},
		{
			name: "bingbot",
			ua:   "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
			want: unknown,
		},
		{name: "empty", ua: "", want: unknown},
		{name: "empty with client hints", ua: "", headers: hints("?1", "Android", "14.0.0"), want: unknown},
		{name: "garbage", ua: "\x00\xff((;;)) Mozilla", want: unknown},
		{name: "Mozilla without system information", ua: "Mozilla/5.0", want: unknown},
		{name: "unclosed system information", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4", want: unknown},

		// Bounded work and hostile hints.
		{
			name: "only the first KiB is read",
			ua:   uaIPhoneSafari + strings.Repeat(" x", 2<<10),
			want: Device{KindIPhone, "ios", "iOS", "17.4.1", "Safari", "17.4.1"},
		},
		{
			name: "a crawler mark past the first KiB is not seen",
			ua:   uaAndroidReduced + strings.Repeat(" ", 1<<10) + "Googlebot/2.1",
			want: Device{KindAndroidPhone, "android", "Android", "", "Chrome", "124.0.0.0"},
		},
		{
			name: "system information past the first KiB is not seen",
			ua:   "Mozilla/5.0 " + strings.Repeat("x", 1<<10) + " (iPhone; CPU iPhone OS 17_4 like Mac OS X)",
			want: unknown,
		},
		{
			name: "malformed hints are ignored",
			ua:   uaAndroidReduced,
			headers: map[string]string{
				"Sec-CH-UA-Mobile":           "yes",
				"Sec-CH-UA-Platform":         "Windows",
				"Sec-CH-UA-Platform-Version": `"14.0.0"`,
			},
			want: Device{KindAndroidPhone, "android", "Android", "", "Chrome", "124.0.0.0"},
		},
		{
			name:    "a hinted version that is no version is ignored",
			ua:      uaAndroidReduced,
			headers: hints("?1", "Android", "14<script>"),
			want:    Device{KindAndroidPhone, "android", "Android", "", "Chrome", "124.0.0.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{Header: http.Header{}}
			r.Header.Set("User-Agent", tt.ua)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			if tt.cookie != "" {
				r.Header.Set("Cookie", tt.cookie)
			}
			if got := Classify(r); got != tt.want {
				t.Errorf("Classify(%.80q)\n got  %+v\n want %+v", tt.ua, got, tt.want)
			}
		})
	}
}

func TestClassifyAccessDeviceOfNilRequestIsUnknown(t *testing.T) {
	if got := Classify(nil); got != (Device{Kind: KindUnknown}) {
		t.Errorf("Classify(nil) = %+v, want unknown", got)
	}
	if got := Classify(&http.Request{}); got != (Device{Kind: KindUnknown}) {
		t.Errorf("ClassifyAccessDevice of a request without headers = %+v, want unknown", got)
	}
}

// FuzzClassifyAccessDevice checks that whatever a client sends, the
// classification is one of the documented values, a platform is claimed only
// for a phone or tablet the app can verify, and nothing past the first KiB of
// the user agent counts.
func FuzzClassifyAccessDevice(f *testing.F) {
	f.Add(uaIPhoneSafari, "", "", "", "")
	f.Add(uaIPadDesktop, "", "", "", "tg_touch=1")
	f.Add(uaAndroidReduced, "?1", `"Android"`, `"14.0.0"`, "")
	f.Add(uaWindowsChrome, "?0", `"Windows"`, `"15.0.0"`, "")
	f.Add("curl/8.5.0", "", "", "", "")
	kinds := []string{KindIPhone, KindIPad, KindAndroidPhone, KindAndroidTablet, KindDesktop, KindUnknown}
	oses := []string{"iOS", "iPadOS", "Android", "Windows", "macOS", "Linux", "ChromeOS", ""}
	platformOf := map[string]string{KindIPhone: "ios", KindIPad: "ios", KindAndroidPhone: "android", KindAndroidTablet: "android"}
	classify := func(ua, mobile, platform, version, cookie string) Device {
		r := &http.Request{Header: http.Header{
			"User-Agent":                 {ua},
			"Sec-Ch-Ua-Mobile":           {mobile},
			"Sec-Ch-Ua-Platform":         {platform},
			"Sec-Ch-Ua-Platform-Version": {version},
			"Cookie":                     {cookie},
		}}
		return Classify(r)
	}
	f.Fuzz(func(t *testing.T, ua, mobile, platform, version, cookie string) {
		d := classify(ua, mobile, platform, version, cookie)
		if !slices.Contains(kinds, d.Kind) {
			t.Fatalf("Kind %q is not a documented kind (%+v)", d.Kind, d)
		}
		if d.Platform != platformOf[d.Kind] {
			t.Fatalf("Platform %q for kind %q (%+v)", d.Platform, d.Kind, d)
		}
		if !slices.Contains(oses, d.OS) {
			t.Fatalf("OS %q is not a documented OS (%+v)", d.OS, d)
		}
		if d.Kind == KindUnknown && d != (Device{Kind: KindUnknown}) {
			t.Fatalf("unknown device with details: %+v", d)
		}
		for _, v := range []string{d.OSVersion, d.BrowserVersion} {
			if strings.Trim(v, "0123456789.") != "" || len(v) > maxVersion {
				t.Fatalf("version %q is not digits and dots (%+v)", v, d)
			}
		}
		if len(ua) > maxUserAgentScan {
			if cut := classify(ua[:maxUserAgentScan], mobile, platform, version, cookie); cut != d {
				t.Fatalf("classification depends on bytes past the first KiB: %+v, cut %+v", d, cut)
			}
		}
	})
}
