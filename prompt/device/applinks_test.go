package device

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/protocol"
)

const testFingerprint = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5"

func TestAppleAppSiteAssociationClaimsOnlyAppLinkPaths(t *testing.T) {
	ids := []string{"ABCDE12345.com.example.trustgate", "ZYXWV98765.com.example.trustgate-beta"}
	data, err := AppleAppSiteAssociation(ids)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	want := map[string]any{
		"applinks": map[string]any{
			"details": []any{map[string]any{
				"appIDs": []any{ids[0], ids[1]},
				"components": []any{
					map[string]any{"/": protocol.VerifyLinkPath},
					map[string]any{"/": protocol.ActivateLinkPath},
				},
			}},
		},
		"webcredentials": map[string]any{"apps": []any{ids[0], ids[1]}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %s\nwant %s", data, jsonOf(t, want))
	}
}

func TestAppleAppSiteAssociationRefusesBadAppIDs(t *testing.T) {
	for _, ids := range [][]string{
		nil,
		{"ABCDE12345.com.example.app", "abcde12345.com.example.app"},
		{"com.example.app"},
	} {
		if data, err := AppleAppSiteAssociation(ids); err == nil {
			t.Errorf("AppleAppSiteAssociation(%q) = %s, want error", ids, data)
		}
	}
}

func TestAssetLinksDelegateURLHandling(t *testing.T) {
	apps := []AndroidApp{
		{Package: "com.example.trustgate", Fingerprints: []string{testFingerprint}},
		{Package: "com.example.trustgate_beta", Fingerprints: []string{testFingerprint, strings.Repeat("AB:", 31) + "AB"}},
	}
	data, err := AssetLinks(apps)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("not a JSON array of statements: %v\n%s", err, data)
	}
	if len(got) != len(apps) {
		t.Fatalf("%d statements, want %d:\n%s", len(got), len(apps), data)
	}
	for i, app := range apps {
		fps := make([]any, len(app.Fingerprints))
		for j, fp := range app.Fingerprints {
			fps[j] = fp
		}
		want := map[string]any{
			"relation": []any{"delegate_permission/common.handle_all_urls"},
			"target": map[string]any{
				"namespace":                "android_app",
				"package_name":             app.Package,
				"sha256_cert_fingerprints": fps,
			},
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("statement %d:\ngot  %s\nwant %s", i, jsonOf(t, got[i]), jsonOf(t, want))
		}
	}
}

func TestAssetLinksRefusesBadApps(t *testing.T) {
	for _, apps := range [][]AndroidApp{
		nil,
		{{Package: "com.example.app"}},
		{{Package: "com.example.app", Fingerprints: []string{strings.ToLower(testFingerprint)}}},
		{{Package: "app", Fingerprints: []string{testFingerprint}}},
	} {
		if data, err := AssetLinks(apps); err == nil {
			t.Errorf("AssetLinks(%+v) = %s, want error", apps, data)
		}
	}
}

func TestValidateAppLinksNamesTheBadValue(t *testing.T) {
	tests := []struct {
		name    string
		apple   []string
		android []AndroidApp
		want    []string // substrings of the error; none means no error
	}{
		{name: "empty"},
		{
			name:    "valid",
			apple:   []string{"ABCDE12345.com.example.app"},
			android: []AndroidApp{{Package: "com.example.app", Fingerprints: []string{testFingerprint}}},
		},
		{name: "lower-case team", apple: []string{"abcde12345.com.example.app"}, want: []string{`"abcde12345.com.example.app"`}},
		{
			name:    "bad package and fingerprint",
			android: []AndroidApp{{Package: "1com.example", Fingerprints: []string{"AA:BB"}}},
			want:    []string{`"1com.example"`, `"AA:BB"`},
		},
		{
			name:    "no fingerprint",
			android: []AndroidApp{{Package: "com.example.app"}},
			want:    []string{`"com.example.app"`, "no signing certificate fingerprint"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateAppLinks(tt.apple, tt.android)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("ValidateAppLinks: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("ValidateAppLinks accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

func TestValidAppleAppID(t *testing.T) {
	tests := map[string]bool{
		"ABCDE12345.com.example.app":      true,
		"ABCDE12345.com.example.app-beta": true,
		"ABCDE12345.App":                  true,
		"ABCDE12345":                      false,
		"ABCDE12345.":                     false,
		"ABCDE1234.com.example.app":       false,
		"ABCDE123456.com.example.app":     false,
		"abcde12345.com.example.app":      false,
		"ABCDE12345.com..app":             false,
		"ABCDE12345.com.example.app.":     false,
		"ABCDE12345.com.example/app":      false,
		"ABCDE12345.com.example_app":      false,
		"ABCDE12345.com.exämple.app":      false,
		"":                                false,
	}
	for id, want := range tests {
		if got := validAppleAppID(id); got != want {
			t.Errorf("validAppleAppID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestValidCertFingerprint(t *testing.T) {
	tests := map[string]bool{
		testFingerprint:                                 true,
		strings.ToLower(testFingerprint):                false,
		strings.ReplaceAll(testFingerprint, ":", ""):    false,
		testFingerprint + ":00":                         false,
		testFingerprint[3:]:                             false,
		strings.Replace(testFingerprint, "6D", "6G", 1): false,
		strings.Replace(testFingerprint, "6D", "6", 1):  false,
		"": false,
	}
	for fp, want := range tests {
		if got := validCertFingerprint(fp); got != want {
			t.Errorf("validCertFingerprint(%q) = %v, want %v", fp, got, want)
		}
	}
}

func TestVerifyLinksCarryOriginTransactionAndChallenge(t *testing.T) {
	tests := []struct {
		origin, tx, challenge string
		wantHTTPSPrefix       string
	}{
		{"https://gate.example.com", "tx1", "ch1", "https://gate.example.com" + protocol.VerifyLinkPath + "?"},
		{"http://127.0.0.1:9080/", "t x", "a+b/c=&d", "http://127.0.0.1:9080" + protocol.VerifyLinkPath + "?"},
	}
	for _, tt := range tests {
		app, https := VerifyLinks(tt.origin, tt.tx, tt.challenge)
		origin := strings.TrimSuffix(tt.origin, "/")

		u, err := url.Parse(app)
		if err != nil {
			t.Fatalf("app link %q: %v", app, err)
		}
		if u.Scheme != protocol.Scheme || u.Host != "verify" || u.Path != "" {
			t.Errorf("app link %q: want %s://verify?...", app, protocol.Scheme)
		}
		wantQuery := url.Values{
			protocol.ParamOrigin:      {origin},
			protocol.ParamTransaction: {tt.tx},
			protocol.ParamChallenge:   {tt.challenge},
		}
		if q := u.Query(); !reflect.DeepEqual(q, wantQuery) {
			t.Errorf("app link %q: query %v, want %v", app, q, wantQuery)
		}

		if !strings.HasPrefix(https, tt.wantHTTPSPrefix) {
			t.Errorf("HTTPS link %q: want prefix %q", https, tt.wantHTTPSPrefix)
		}
		h, err := url.Parse(https)
		if err != nil {
			t.Fatalf("HTTPS link %q: %v", https, err)
		}
		delete(wantQuery, protocol.ParamOrigin)
		if q := h.Query(); !reflect.DeepEqual(q, wantQuery) {
			t.Errorf("HTTPS link %q: query %v, want %v", https, q, wantQuery)
		}
	}
}

func TestIntentLinkOpensAppWithBrowserFallback(t *testing.T) {
	const link = "https://gate.example.com" + protocol.VerifyLinkPath + "?challenge=a%2Bb&tx=t1"
	tests := []struct {
		name, link, pkg, want string
	}{
		{
			name: "with package",
			link: link,
			pkg:  "com.example.trustgate",
			want: "intent://gate.example.com" + protocol.VerifyLinkPath + "?challenge=a%2Bb&tx=t1" +
				"#Intent;scheme=https;package=com.example.trustgate;S.browser_fallback_url=" + url.QueryEscape(link) + ";end",
		},
		{
			name: "without package",
			link: link,
			want: "intent://gate.example.com" + protocol.VerifyLinkPath + "?challenge=a%2Bb&tx=t1" +
				"#Intent;scheme=https;S.browser_fallback_url=" + url.QueryEscape(link) + ";end",
		},
		{
			name: "invalid package left out",
			link: link,
			pkg:  "com.example;S.evil=1",
			want: "intent://gate.example.com" + protocol.VerifyLinkPath + "?challenge=a%2Bb&tx=t1" +
				"#Intent;scheme=https;S.browser_fallback_url=" + url.QueryEscape(link) + ";end",
		},
		{
			name: "http with port, no query",
			link: "http://127.0.0.1:9080" + protocol.ActivateLinkPath,
			pkg:  "com.example.trustgate",
			want: "intent://127.0.0.1:9080" + protocol.ActivateLinkPath +
				"#Intent;scheme=http;package=com.example.trustgate;S.browser_fallback_url=" +
				url.QueryEscape("http://127.0.0.1:9080"+protocol.ActivateLinkPath) + ";end",
		},
		{name: "custom scheme refused", link: "trustgate://verify?tx=1", pkg: "com.example.trustgate", want: ""},
		{name: "relative refused", link: protocol.VerifyLinkPath, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IntentLink(tt.link, tt.pkg); got != tt.want {
				t.Errorf("IntentLink(%q, %q)\n got %s\nwant %s", tt.link, tt.pkg, got, tt.want)
			}
		})
	}
}

func jsonOf(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
