package caddymodule

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// TestAppLinksCaddyfileAndJSONAgree checks that an app_links line and the
// same values in JSON are accepted or refused alike, in the same words
// (prompt.ValidateAppLinks's), and that the Caddyfile error names the file
// and the line.
func TestAppLinksCaddyfileAndJSONAgree(t *testing.T) {
	lower := strings.ToLower(testFingerprint)
	cases := []struct {
		name    string
		apple   []string // one apple line, or
		android []string // one android line: package, fingerprints
		ok      bool
		mention string // the refusal must contain this
	}{
		{name: "apple", apple: []string{"ABCDE12345.com.example.app"}, ok: true},
		{name: "apple two", apple: []string{"ABCDE12345.com.example.app", "FGHIJ67890.org.example-2"}, ok: true},
		{name: "apple lower-case team", apple: []string{"abcde12345.com.example.app"}, mention: `"abcde12345.com.example.app"`},
		{name: "apple empty bundle segment", apple: []string{"ABCDE12345.com..x"}, mention: `"ABCDE12345.com..x"`},
		{name: "apple trailing dot", apple: []string{"ABCDE12345.com.x."}, mention: `"ABCDE12345.com.x."`},
		{name: "apple short team", apple: []string{"ABCDE.com.x"}, mention: `"ABCDE.com.x"`},
		{name: "apple no bundle", apple: []string{"ABCDE12345"}, mention: `"ABCDE12345"`},
		{name: "apple bad among good", apple: []string{"ABCDE12345.com.x", "trustgate"}, mention: `"trustgate"`},
		{name: "android", android: []string{"com.example.app", testFingerprint}, ok: true},
		{name: "android two fingerprints", android: []string{"com.example.app_2", testFingerprint, testFingerprint2}, ok: true},
		{name: "android lower-case fingerprint", android: []string{"com.example.app", lower}, mention: `"` + lower + `"`},
		{name: "android short fingerprint", android: []string{"com.example.app", "AB:CD"}, mention: `"AB:CD"`},
		{name: "android fingerprint without colons", android: []string{"com.example.app", strings.ReplaceAll(testFingerprint, ":", "")}, mention: "certificate fingerprint"},
		{name: "android one segment", android: []string{"example", testFingerprint}, mention: `"example"`},
		{name: "android digit first", android: []string{"com.1example", testFingerprint}, mention: `"com.1example"`},
		{name: "android empty segment", android: []string{"com..example", testFingerprint}, mention: `"com..example"`},
		{name: "android no fingerprint", android: []string{"com.example.app"}, mention: "no signing certificate fingerprint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The app_links line is line 4 of the Caddyfile.
			line := "apple " + strings.Join(tc.apple, " ")
			links := AppLinks{AppleAppIDs: tc.apple}
			if tc.android != nil {
				line = "android " + strings.Join(tc.android, " ")
				links = AppLinks{Android: []AndroidAppLink{{Package: tc.android[0], SHA256CertFingerprints: tc.android[1:]}}}
			}
			var fromFile Handler
			fileErr := fromFile.UnmarshalCaddyfile(caddyfile.NewTestDispenser(
				"trusted_endpoints {\n login users_file u\n app_links {\n " + line + "\n }\n}"))

			raw, err := json.Marshal(map[string]any{"app_links": links})
			if err != nil {
				t.Fatal(err)
			}
			var fromJSON Handler
			if err := json.Unmarshal(raw, &fromJSON); err != nil {
				t.Fatal(err)
			}
			jsonErr := fromJSON.Validate()

			if tc.ok {
				if fileErr != nil || jsonErr != nil {
					t.Fatalf("Caddyfile: %v; JSON: %v", fileErr, jsonErr)
				}
				if fromFile.AppLinks == nil {
					t.Fatal("the Caddyfile set no app_links")
				}
				if err := fromFile.Validate(); err != nil {
					t.Fatalf("the parsed Caddyfile does not validate: %v", err)
				}
				return
			}
			if fileErr == nil || jsonErr == nil {
				t.Fatalf("Caddyfile: %v; JSON: %v (both must refuse)", fileErr, jsonErr)
			}
			if !strings.Contains(fileErr.Error(), "Testfile:4") {
				t.Errorf("the Caddyfile error does not name the file and line (Testfile:4): %v", fileErr)
			}
			if !strings.Contains(jsonErr.Error(), tc.mention) {
				t.Errorf("the JSON error does not mention %s: %v", tc.mention, jsonErr)
			}
			// The same words: the JSON error is the Caddyfile error
			// without the position.
			if !strings.HasPrefix(fileErr.Error(), jsonErr.Error()+", at ") {
				t.Errorf("the two paths word it differently:\nCaddyfile: %v\nJSON:      %v", fileErr, jsonErr)
			}
		})
	}
}
