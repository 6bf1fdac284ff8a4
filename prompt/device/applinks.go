package device

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/trustgate/trustgate/prompt/protocol"
)

// The gateway's HTTPS links open the mobile app only when the gateway
// vouches for the app: iOS reads /.well-known/apple-app-site-association,
// Android /.well-known/assetlinks.json. Both claim only the app link paths
// (protocol.VerifyLinkPath, protocol.ActivateLinkPath), so no other page of
// a protected site is ever diverted into the app.

// AndroidApp is an Android app allowed to open the gateway's links.
type AndroidApp struct {
	// Package is the application ID, e.g. "com.example.trustgate".
	Package string
	// Fingerprints are the SHA-256 fingerprints of its signing
	// certificates, "AA:BB:...".
	Fingerprints []string
}

// appLinkPaths are the paths the app may open.
var appLinkPaths = []string{protocol.VerifyLinkPath, protocol.ActivateLinkPath}

// ValidateAppLinks checks the iOS app IDs and Android apps that may open
// the gateway's links, naming every bad value.
func ValidateAppLinks(apple []string, android []AndroidApp) error {
	var errs []error
	for _, id := range apple {
		if !validAppleAppID(id) {
			errs = append(errs, fmt.Errorf("apple app ID %q: want TEAMID.bundle.id, a 10-character upper-case team ID, a dot and a bundle ID", id))
		}
	}
	for _, app := range android {
		if !validAndroidPackage(app.Package) {
			errs = append(errs, fmt.Errorf("android package %q: want an application ID like com.example.app", app.Package))
		}
		if len(app.Fingerprints) == 0 {
			errs = append(errs, fmt.Errorf("android package %q: no signing certificate fingerprint", app.Package))
		}
		for _, fp := range app.Fingerprints {
			if !validCertFingerprint(fp) {
				errs = append(errs, fmt.Errorf("android package %q: certificate fingerprint %q: want 32 colon-separated upper-case hex bytes (SHA-256), like 14:6D:E9:…:5F", app.Package, fp))
			}
		}
	}
	return errors.Join(errs...)
}

// AppleAppSiteAssociation returns the apple-app-site-association file
// letting the iOS apps appIDs open the app link paths as universal links
// and use the gateway's web credentials.
func AppleAppSiteAssociation(appIDs []string) ([]byte, error) {
	if len(appIDs) == 0 {
		return nil, errors.New("apple-app-site-association: no app IDs")
	}
	if err := ValidateAppLinks(appIDs, nil); err != nil {
		return nil, err
	}
	type component struct {
		Path string `json:"/"`
	}
	type detail struct {
		AppIDs     []string    `json:"appIDs"`
		Components []component `json:"components"`
	}
	var components []component
	for _, p := range appLinkPaths {
		components = append(components, component{Path: p})
	}
	var aasa struct {
		AppLinks struct {
			Details []detail `json:"details"`
		} `json:"applinks"`
		WebCredentials struct {
			Apps []string `json:"apps"`
		} `json:"webcredentials"`
	}
	aasa.AppLinks.Details = []detail{{AppIDs: appIDs, Components: components}}
	aasa.WebCredentials.Apps = appIDs
	return json.Marshal(aasa)
}

// AssetLinks returns the Digital Asset Links statements (assetlinks.json)
// letting apps handle the gateway's HTTPS links.
func AssetLinks(apps []AndroidApp) ([]byte, error) {
	if len(apps) == 0 {
		return nil, errors.New("assetlinks.json: no Android apps")
	}
	if err := ValidateAppLinks(nil, apps); err != nil {
		return nil, err
	}
	type target struct {
		Namespace    string   `json:"namespace"`
		PackageName  string   `json:"package_name"`
		Fingerprints []string `json:"sha256_cert_fingerprints"`
	}
	type statement struct {
		Relation []string `json:"relation"`
		Target   target   `json:"target"`
	}
	statements := make([]statement, 0, len(apps))
	for _, app := range apps {
		statements = append(statements, statement{
			Relation: []string{"delegate_permission/common.handle_all_urls"},
			Target:   target{Namespace: "android_app", PackageName: app.Package, Fingerprints: app.Fingerprints},
		})
	}
	return json.Marshal(statements)
}

// VerifyLinks returns the custom-scheme and HTTPS deep links that open a
// verification transaction in the app, for the gateway at origin
// (scheme://host[:port]). The HTTPS link's own origin tells the app which
// gateway to talk to; the custom-scheme link says so in its query.
func VerifyLinks(origin, tx, challenge string) (app, https string) {
	origin = strings.TrimSuffix(origin, "/")
	app = protocol.Scheme + "://verify?" + url.Values{
		protocol.ParamOrigin:      {origin},
		protocol.ParamTransaction: {tx},
		protocol.ParamChallenge:   {challenge},
	}.Encode()
	https = origin + protocol.VerifyLinkPath + "?" + url.Values{
		protocol.ParamTransaction: {tx},
		protocol.ParamChallenge:   {challenge},
	}.Encode()
	return app, https
}

// IntentLink returns an Android intent: link that opens httpsLink in the
// app androidPackage, or in the browser when the app is not installed
// (S.browser_fallback_url). Without a package Android offers every app that
// handles the link. A package that is not a valid application ID is left
// out rather than let it break out of the intent's fields; ValidateAppLinks
// refuses such packages at provision. It returns "" if httpsLink is not an
// absolute http(s) URL.
func IntentLink(httpsLink, androidPackage string) string {
	u, err := url.Parse(httpsLink)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("intent://")
	b.WriteString(u.Host)
	b.WriteString(u.EscapedPath())
	if u.RawQuery != "" {
		b.WriteString("?")
		b.WriteString(u.RawQuery)
	}
	b.WriteString("#Intent;scheme=")
	b.WriteString(u.Scheme)
	b.WriteString(";")
	if validAndroidPackage(androidPackage) {
		b.WriteString("package=")
		b.WriteString(androidPackage)
		b.WriteString(";")
	}
	b.WriteString("S.browser_fallback_url=")
	b.WriteString(url.QueryEscape(httpsLink))
	b.WriteString(";end")
	return b.String()
}

// validAppleAppID reports whether s is an iOS app ID: a 10-character team
// ID of upper-case letters and digits, a dot, and a bundle ID of letters,
// digits, hyphens and dots.
func validAppleAppID(s string) bool {
	team, bundle, ok := strings.Cut(s, ".")
	if !ok || len(team) != 10 || bundle == "" || len(s) > 255 {
		return false
	}
	for _, c := range team {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	for part := range strings.SplitSeq(bundle, ".") {
		if part == "" {
			return false
		}
		for _, c := range part {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validAndroidPackage reports whether s is an Android application ID: two
// or more dot-separated segments, each a letter followed by letters,
// digits and underscores.
func validAndroidPackage(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(s) > 255 {
		return false
	}
	for _, part := range parts {
		if part == "" {
			return false
		}
		for i, c := range part {
			letter := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
			if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '_')) {
				return false
			}
		}
	}
	return true
}

// validCertFingerprint reports whether s is a SHA-256 certificate
// fingerprint as assetlinks.json wants it: 32 colon-separated bytes in
// upper-case hex.
func validCertFingerprint(s string) bool {
	bytes := strings.Split(s, ":")
	if len(bytes) != 32 {
		return false
	}
	for _, b := range bytes {
		if len(b) != 2 {
			return false
		}
		for _, c := range b {
			if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
