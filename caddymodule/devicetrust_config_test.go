package caddymodule

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/gatetest"
)

const (
	testFingerprint  = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5"
	testFingerprint2 = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
)

// fullDeviceDirective uses every device option of the directive.
const fullDeviceDirective = `trusted_endpoints {
	login users_file users.yaml
	mode block
	mobile {
		enable groups pilot staff
		platforms ios android
		require screen_lock not_tampered
		warn    biometrics until 2027-01-15
		warn    disk_encryption
		min_os  ios 17.4
		min_os  android 14
		min_security_patch 2026-09-01
		min_security_patch max_age 90d
		min_app_version 1.2.0
		os_up_to_date ios 18.2 behind 1 unit major
		os_up_to_date android 15
	}
	trust_for    8h
	push_timeout 45s
	enrollment self block_mode
	unbound off
	app_links {
		apple ABCDE12345.com.example.trustgate
		android com.example.trustgate ` + testFingerprint + ` ` + testFingerprint2 + `
	}
	origins https://gw.example.com https://gw2.example.com:8443
	passcode_attempts 4
	activation_attempts 20
	push_limit 3 5m
	upstream_headers {
		trust     X-Device-Trust
		device_id -
	}
}`

func TestDirectiveParsesEveryDeviceOption(t *testing.T) {
	var h Handler
	if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(fullDeviceDirective)); err != nil {
		t.Fatal(err)
	}
	want := Handler{
		LoginRaw: usersFileLoginJSON("users.yaml"),
		Mode:     policy.ModeBlock,
		Mobile: &policy.Integration{
			State:     policy.Groups,
			Groups:    []string{"pilot", "staff"},
			Platforms: []policy.Platform{policy.IOS, policy.Android},
		},
		Requirements: &policy.Requirements{
			ScreenLock:     policy.Rule{Level: policy.Require},
			NotTampered:    policy.Rule{Level: policy.Require},
			Biometrics:     policy.Rule{Level: policy.Warn, Until: time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)},
			DiskEncryption: policy.Rule{Level: policy.Warn},
			MinOS: policy.MinOS{
				Rule:     policy.Rule{Level: policy.Require},
				Versions: map[policy.Platform]string{policy.IOS: "17.4", policy.Android: "14"},
			},
			MinSecurityPatch: policy.MinSecurityPatch{Rule: policy.Rule{Level: policy.Require}, Date: "2026-09-01", MaxAgeDays: 90},
			MinAppVersion:    policy.MinAppVersion{Rule: policy.Rule{Level: policy.Require}, Version: "1.2.0"},
			OSUpToDate: policy.OSUpToDate{
				Rule: policy.Rule{Level: policy.Require},
				Latest: map[policy.Platform]policy.Latest{
					policy.IOS:     {Version: "18.2", Behind: 1, Unit: policy.Major},
					policy.Android: {Version: "15"},
				},
			},
		},
		TrustFor:            caddy.Duration(8 * time.Hour),
		PushTimeout:         caddy.Duration(45 * time.Second),
		Enrollment:          "self",
		EnrollmentBlockMode: true,
		Unbound:             false,
		AppLinks: &AppLinks{
			AppleAppIDs: []string{"ABCDE12345.com.example.trustgate"},
			Android: []AndroidAppLink{{
				Package:                "com.example.trustgate",
				SHA256CertFingerprints: []string{testFingerprint, testFingerprint2},
			}},
		},
		Origins:            []string{"https://gw.example.com", "https://gw2.example.com:8443"},
		PasscodeAttempts:   4,
		ActivationAttempts: 20,
		PushLimit:          3,
		PushWindow:         caddy.Duration(5 * time.Minute),
		UpstreamHeaders:    &UpstreamHeaders{Trust: "X-Device-Trust", DeviceID: "-"},
	}
	if !reflect.DeepEqual(h, want) {
		got, _ := json.MarshalIndent(h, "", "  ")
		exp, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("parsed\n%s\nwant\n%s", got, exp)
	}
	if err := h.Validate(); err != nil {
		t.Fatalf("the parsed configuration does not validate: %v", err)
	}
	names := h.identityHeaders()
	if names.Trust != "X-Device-Trust" || names.DeviceID != "" || names.User != "X-Trustgate-User" {
		t.Fatalf("identity headers %+v", names)
	}
}

// parseMobileBlock parses a directive whose mobile block holds lines.
func parseMobileBlock(lines string) (Handler, error) {
	var h Handler
	err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(
		"trusted_endpoints {\n login users_file u\n mode check\n mobile {\n" + lines + "\n }\n}"))
	return h, err
}

func TestMobileBlockSetsRequirementLevels(t *testing.T) {
	require := policy.Rule{Level: policy.Require}
	warn := policy.Rule{Level: policy.Warn}
	cases := []struct {
		name  string
		lines string
		want  *policy.Requirements // nil: the block names no requirement
		state policy.State
	}{
		{
			name:  "enable only",
			lines: "enable all",
			state: policy.All,
		},
		{
			name:  "enable disabled",
			lines: "enable disabled",
			state: policy.Disabled,
		},
		{
			name:  "value line alone implies require",
			lines: "enable all\nmin_os android 14",
			want:  &policy.Requirements{MinOS: policy.MinOS{Rule: require, Versions: map[policy.Platform]string{policy.Android: "14"}}},
			state: policy.All,
		},
		{
			name:  "warn before value line keeps warn",
			lines: "warn min_app_version\nmin_app_version 2.0",
			want:  &policy.Requirements{MinAppVersion: policy.MinAppVersion{Rule: warn, Version: "2.0"}},
		},
		{
			name:  "warn after value line keeps warn",
			lines: "min_app_version 2.0\nwarn min_app_version",
			want:  &policy.Requirements{MinAppVersion: policy.MinAppVersion{Rule: warn, Version: "2.0"}},
		},
		{
			name:  "same level twice is fine",
			lines: "require screen_lock\nrequire screen_lock biometrics",
			want:  &policy.Requirements{ScreenLock: require, Biometrics: require},
		},
		{
			name:  "warn until RFC 3339 time is kept in UTC",
			lines: "warn screen_lock until 2027-01-15T09:30:00+02:00",
			want: &policy.Requirements{ScreenLock: policy.Rule{
				Level: policy.Warn, Until: time.Date(2027, 1, 15, 7, 30, 0, 0, time.UTC),
			}},
		},
		{
			name:  "warn until a date means midnight UTC",
			lines: "warn screen_lock biometrics until 2027-01-15",
			want: &policy.Requirements{
				ScreenLock: policy.Rule{Level: policy.Warn, Until: time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)},
				Biometrics: policy.Rule{Level: policy.Warn, Until: time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)},
			},
		},
		{
			name:  "security patch max age without the d",
			lines: "warn min_security_patch\nmin_security_patch max_age 30",
			want:  &policy.Requirements{MinSecurityPatch: policy.MinSecurityPatch{Rule: warn, MaxAgeDays: 30}},
		},
		{
			name:  "security patch month",
			lines: "min_security_patch 2026-09",
			want:  &policy.Requirements{MinSecurityPatch: policy.MinSecurityPatch{Rule: require, Date: "2026-09"}},
		},
		{
			name:  "os up to date with minor unit",
			lines: "os_up_to_date ios 18.2 unit minor behind 2",
			want: &policy.Requirements{OSUpToDate: policy.OSUpToDate{Rule: require, Latest: map[policy.Platform]policy.Latest{
				policy.IOS: {Version: "18.2", Behind: 2, Unit: policy.Minor},
			}}},
		},
		{
			name:  "platforms are case-insensitive",
			lines: "platforms iOS",
			want:  nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parseMobileBlock(tc.lines)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(h.Requirements, tc.want) {
				got, _ := json.Marshal(h.Requirements)
				exp, _ := json.Marshal(tc.want)
				t.Fatalf("requirements\n%s\nwant\n%s", got, exp)
			}
			if h.Mobile == nil || h.Mobile.State != tc.state {
				t.Fatalf("integration %+v, want state %q", h.Mobile, tc.state)
			}
			if err := h.Validate(); err != nil {
				t.Fatalf("does not validate: %v", err)
			}
		})
	}
}

func TestDirectiveRejectsBadDeviceOptions(t *testing.T) {
	top := func(lines string) string {
		return "trusted_endpoints {\n login users_file u\n" + lines + "\n}"
	}
	mobile := func(lines string) string {
		return top("mobile {\n" + lines + "\n}")
	}
	cases := []struct {
		name, input string
		mention     string // the error must contain this
	}{
		{"unknown mode", top("mode strict"), `"strict"`},
		{"mode twice", top("mode check\nmode block"), "mode already specified"},
		{"mode without value", top("mode"), "wrong argument count"},
		{"bad trust_for", top("trust_for forever"), `"forever"`},
		{"zero push_timeout", top("push_timeout 0s"), `"0s"`},
		{"enrollment maybe", top("enrollment maybe"), `"maybe"`},
		{"unbound yes", top("unbound yes"), `"yes"`},
		{"enrollment two args", top("enrollment on off"), "wrong argument count"},
		{"bad origin path", top("origins https://gw.example.com/app"), `"https://gw.example.com/app"`},
		{"bad origin scheme", top("origins ftp://gw.example.com"), `"ftp://gw.example.com"`},
		{"origin with slash", top("origins https://gw.example.com/"), `"https://gw.example.com/"`},
		{"origins empty", top("origins"), "wrong argument count"},
		{"passcode attempts zero", top("passcode_attempts 0"), `"0"`},
		{"activation attempts word", top("activation_attempts lots"), `"lots"`},
		{"push limit count", top("push_limit many 10m"), `"many"`},
		{"unknown fail_mode", top("fail_mode open"), `"open"`},
		{"fail_mode without value", top("fail_mode"), "wrong argument count"},
		{"push limit window", top("push_limit 5 soon"), `"soon"`},
		{"push limit one arg", top("push_limit 5"), "wrong argument count"},
		{"mobile twice", top("mobile {\n enable all\n}\nmobile {\n enable all\n}"), "mobile already specified"},
		{"mobile inline arg", top("mobile all {\n}"), "wrong argument count"},
		{"app_links unknown", top("app_links {\n windows x\n}"), `"windows"`},
		{"app_links empty", top("app_links {\n}"), "names no app"},
		{"apple bad id", top("app_links {\n apple com.example.app\n}"), `"com.example.app"`},
		{"android bad package", top("app_links {\n android example " + testFingerprint + "\n}"), `"example"`},
		{"android bad fingerprint", top("app_links {\n android com.example.app AB:CD\n}"), `"AB:CD"`},
		{"android no fingerprint", top("app_links {\n android com.example.app\n}"), "fingerprint"},

		{"mobile unknown option", mobile("colour blue"), `"colour"`},
		{"enable unknown state", mobile("enable some"), `"some"`},
		{"enable groups without names", mobile("enable groups"), "at least one group"},
		{"enable all with names", mobile("enable all pilot"), `"pilot"`},
		{"enable twice", mobile("enable all\nenable disabled"), "enable already specified"},
		{"unknown platform", mobile("platforms ios windows"), `"windows"`},
		{"platform twice", mobile("platforms ios ios"), `"ios" listed twice`},
		{"platforms empty", mobile("platforms"), "wrong argument count"},
		{"require unknown kind", mobile("require screen_lock face_id"), `"face_id"`},
		{"require nothing", mobile("require"), "at least one requirement"},
		{"require until", mobile("require screen_lock until 2027-01-01"), "until is only allowed with warn"},
		{"warn bad date", mobile("warn screen_lock until 15/01/2027"), `"15/01/2027"`},
		{"warn until without date", mobile("warn screen_lock until"), "until takes exactly one deadline"},
		{"warn until in the middle", mobile("warn screen_lock until 2027-01-01 biometrics"), "until takes exactly one deadline"},
		{"warn until only", mobile("warn until 2027-01-01"), "at least one requirement"},
		{"conflicting levels", mobile("require screen_lock\nwarn screen_lock"), `"screen_lock" is already set to require`},
		{"conflicting deadlines", mobile("warn biometrics until 2027-01-01\nwarn biometrics until 2027-02-01"), `"biometrics" is already set to warn until 2027-01-01`},
		{"level without value", mobile("require min_os"), "no min_os line"},
		{"min_os bad platform", mobile("min_os blackberry 10"), `"blackberry"`},
		{"min_os bad version", mobile("min_os ios latest"), `"latest"`},
		{"min_os one arg", mobile("min_os 17.4"), "wrong argument count"},
		{"min_os twice", mobile("min_os ios 17\nmin_os ios 18"), "ios already has a minimum version"},
		{"patch bad date", mobile("min_security_patch September"), `"September"`},
		{"patch bad max age", mobile("min_security_patch max_age 3w"), `"3w"`},
		{"patch zero max age", mobile("min_security_patch max_age 0d"), `"0d"`},
		{"patch unknown option", mobile("min_security_patch min_age 3"), `"min_age"`},
		{"patch date twice", mobile("min_security_patch 2026-01-01\nmin_security_patch 2026-02-01"), "date already specified"},
		{"app version bad", mobile("min_app_version beta"), `"beta"`},
		{"app version twice", mobile("min_app_version 1\nmin_app_version 2"), "already specified"},
		{"up to date bad platform", mobile("os_up_to_date symbian 3"), `"symbian"`},
		{"up to date bad version", mobile("os_up_to_date ios newest"), `"newest"`},
		{"up to date bad behind", mobile("os_up_to_date ios 18.2 behind -1"), `"-1"`},
		{"up to date bad unit", mobile("os_up_to_date ios 18.2 unit patch"), `"patch"`},
		{"up to date unknown option", mobile("os_up_to_date ios 18.2 within 2"), `"within"`},
		{"up to date dangling option", mobile("os_up_to_date ios 18.2 behind"), "wrong argument count"},
		{"up to date twice", mobile("os_up_to_date ios 18\nos_up_to_date ios 17"), "ios already has a latest version"},
		{"upstream header trust invalid", top("upstream_headers {\n trust \"X Trust\"\n}"), `"X Trust"`},
	}
	fileLine := regexp.MustCompile(`Testfile:\d+`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.input)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("error %q does not mention %s", err, tc.mention)
			}
			if !fileLine.MatchString(err.Error()) {
				t.Fatalf("error %q does not name the file and line", err)
			}
		})
	}
}

func TestGlobalOptionParsesTrustCacheSize(t *testing.T) {
	v, err := parseGlobalOption(caddyfile.NewTestDispenser("trusted_endpoints {\n trust_cache_size 5000\n}"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var app App
	if err := json.Unmarshal(v.(httpcaddyfile.App).Value, &app); err != nil {
		t.Fatal(err)
	}
	if app.TrustCacheSize != 5000 {
		t.Fatalf("trust_cache_size %d, want 5000", app.TrustCacheSize)
	}
	for _, bad := range []string{"0", "-3", "big"} {
		_, err := parseGlobalOption(caddyfile.NewTestDispenser("trusted_endpoints {\n trust_cache_size "+bad+"\n}"), nil)
		if err == nil || !strings.Contains(err.Error(), `"`+bad+`"`) {
			t.Fatalf("trust_cache_size %s: error %v, want one naming the value", bad, err)
		}
	}
}

// TestDeviceSettingsSurviveCaddyfileAdaptation adapts a whole Caddyfile, as
// `caddy adapt` does, and checks that the handler read back from the JSON is
// the handler the directive describes.
func TestDeviceSettingsSurviveCaddyfileAdaptation(t *testing.T) {
	input := "{\n\ttrusted_endpoints {\n\t\ttrust_cache_size 2000\n\t}\n}\nhttp://localhost:9080 {\n" +
		fullDeviceDirective + "\n\trespond ok\n}\n"
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(input), nil)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Apps struct {
			TrustedEndpoints App `json:"trusted_endpoints"`
			HTTP             struct {
				Servers map[string]struct {
					Routes []struct {
						Handle []struct {
							Routes []struct {
								Handle []json.RawMessage `json:"handle"`
							} `json:"routes"`
						} `json:"handle"`
					} `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Apps.TrustedEndpoints.TrustCacheSize != 2000 {
		t.Fatalf("app trust_cache_size %d in\n%s", cfg.Apps.TrustedEndpoints.TrustCacheSize, out)
	}
	var adapted *Handler
	for _, srv := range cfg.Apps.HTTP.Servers {
		for _, route := range srv.Routes[0].Handle[0].Routes {
			var probe struct {
				Handler string `json:"handler"`
			}
			if err := json.Unmarshal(route.Handle[0], &probe); err != nil {
				t.Fatal(err)
			}
			if probe.Handler == "trusted_endpoints" {
				adapted = new(Handler)
				dec := json.NewDecoder(strings.NewReader(string(route.Handle[0])))
				if err := dec.Decode(adapted); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if adapted == nil {
		t.Fatalf("no trusted_endpoints handler in\n%s", out)
	}
	var direct Handler
	if err := direct.UnmarshalCaddyfile(caddyfile.NewTestDispenser(fullDeviceDirective)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*adapted, direct) {
		got, _ := json.MarshalIndent(adapted, "", "  ")
		exp, _ := json.MarshalIndent(direct, "", "  ")
		t.Fatalf("adapted handler\n%s\nwant\n%s", got, exp)
	}
	for _, field := range []string{`"mode":"block"`, `"trust_for":`, `"push_timeout":`, `"enrollment":"self"`, `"enrollment_block_mode":true`,
		`"app_links":`, `"apple_app_ids":`, `"sha256_cert_fingerprints":`, `"origins":`, `"passcode_attempts":4`,
		`"activation_attempts":20`, `"push_limit":3`, `"push_window":`, `"until":"2027-01-15T00:00:00Z"`,
		`"state":"groups"`, `"device_id":"-"`} {
		if !strings.Contains(string(out), field) {
			t.Errorf("adapted JSON lacks %s:\n%s", field, out)
		}
	}
}

func TestValidateReportsBadDeviceSettings(t *testing.T) {
	cases := []struct {
		name, json, mention string
	}{
		{"unknown mode", `{"mode":"audit"}`, `"audit"`},
		{"groups without groups", `{"mode":"block","mobile":{"state":"groups"}}`, "names no groups"},
		{"unknown platform", `{"mode":"check","mobile":{"state":"all","platforms":["windows"]}}`, `"windows"`},
		{"until on require", `{"mode":"block","requirements":{"screen_lock":{"level":"require","until":"2027-01-01T00:00:00Z"}}}`, "only allowed with level warn"},
		{"unknown level", `{"mode":"block","requirements":{"biometrics":{"level":"must"}}}`, `"must"`},
		{"min_os without versions", `{"mode":"block","requirements":{"min_os":{"level":"require"}}}`, "no platform has a minimum version"},
		{"negative trust_for", `{"trust_for":-1000000000}`, "trust_for must not be negative"},
		{"negative push_timeout", `{"push_timeout":-1}`, "push_timeout must not be negative"},
		{"negative push_window", `{"push_window":-1}`, "push_window must not be negative"},
		{"negative push_limit", `{"push_limit":-1}`, "push_limit must not be negative"},
		{"negative passcode_attempts", `{"passcode_attempts":-2}`, "passcode_attempts must not be negative"},
		{"bad origin", `{"origins":["gw.example.com"]}`, `"gw.example.com"`},
		{"bad apple id", `{"app_links":{"apple_app_ids":["trustgate"]}}`, `"trustgate"`},
		{"android without fingerprint", `{"app_links":{"android":[{"package":"com.example.app"}]}}`, "no signing certificate fingerprint"},
		{"android bad fingerprint", `{"app_links":{"android":[{"package":"com.example.app","sha256_cert_fingerprints":["00"]}]}}`, `"00"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h Handler
			if err := json.Unmarshal([]byte(tc.json), &h); err != nil {
				t.Fatal(err)
			}
			err := h.Validate()
			if err == nil {
				t.Fatalf("accepted %s", tc.json)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("error %q does not mention %s", err, tc.mention)
			}
		})
	}
}

// provisionHandler provisions a handler configured by handlerJSON against
// a freshly provisioned trusted_endpoints app, as Caddy does on load, and
// returns both.
func provisionHandler(t *testing.T, handlerJSON string) (*Handler, *App) {
	t.Helper()
	h, app, err := provisionedHandler(t, handlerJSON)
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	if err := h.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return h, app
}

func TestProvisionWithModeOffConfiguresNoDeviceCheck(t *testing.T) {
	for _, mode := range []string{``, `"mode":"off",`} {
		// Mobile settings without a mode stay unused.
		h, _ := provisionHandler(t, `{`+mode+`"login":{"source":"users_file", "path":"USERS_FILE"},
			"mobile":{"state":"all"},"requirements":{"screen_lock":{"level":"require"}}}`)
		if h.device != nil {
			t.Fatalf("mode %q: device check configured: %+v", mode, h.device)
		}
		if h.gate == nil {
			t.Fatal("no gate")
		}
	}
}

func TestProvisionHandsBlockPolicyToGate(t *testing.T) {
	h, app := provisionHandler(t, `{
		"login": {"source": "users_file", "path": "USERS_FILE"},
		"mode": "block",
		"mobile": {"state": "groups", "groups": ["pilot"], "platforms": ["android"]},
		"managed": {"state": "all", "platforms": ["windows", "ios"], "match": "serial"},
		"requirements": {
			"screen_lock": {"level": "require"},
			"biometrics": {"level": "warn", "until": "2027-01-15T00:00:00Z"},
			"min_os": {"level": "require", "versions": {"android": "14"}}
		},
		"trust_for": "6h",
		"push_timeout": "30s",
		"enrollment": "self",
		"enrollment_block_mode": true,
		"unbound": true,
		"app_links": {
			"apple_app_ids": ["ABCDE12345.com.example.trustgate"],
			"android": [{"package": "com.example.trustgate", "sha256_cert_fingerprints": ["`+testFingerprint+`"]}]
		},
		"origins": ["https://gw.example.com"],
		"passcode_attempts": 3,
		"activation_attempts": 7,
		"push_limit": 2,
		"push_window": "15m"
	}`)
	d := h.device
	if d == nil {
		t.Fatal("mode block configured no device check")
	}
	wantPolicy := policy.Policy{
		Mode:        policy.ModeBlock,
		Integration: policy.Integration{State: policy.Groups, Groups: []string{"pilot"}, Platforms: []policy.Platform{policy.Android}},
		Managed:     policy.Managed{State: policy.All, Platforms: []policy.Platform{policy.Windows, policy.IOS}, Match: policy.MatchSerial},
		Requirements: policy.Requirements{
			ScreenLock: policy.Rule{Level: policy.Require},
			Biometrics: policy.Rule{Level: policy.Warn, Until: time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)},
			MinOS:      policy.MinOS{Rule: policy.Rule{Level: policy.Require}, Versions: map[policy.Platform]string{policy.Android: "14"}},
		},
	}
	if !reflect.DeepEqual(d.Policy, wantPolicy) {
		t.Fatalf("policy handed to the gate %+v, want %+v", d.Policy, wantPolicy)
	}
	if d.Cache == nil || d.Cache != app.TrustCache() {
		t.Fatal("the gate does not use the app's shared trust cache")
	}
	if d.Inventory == nil || d.Inventory != app.Inventory() {
		t.Fatal("the gate does not look certificates up in the app's shared inventory")
	}
	if d.TrustFor != 6*time.Hour || d.PushTimeout != 30*time.Second || d.Enrollment != device.EnrollSelf || !d.EnrollmentInBlockMode || !d.Unbound ||
		d.PasscodeAttempts != 3 || d.ActivationAttempts != 7 || d.PushLimit != 2 || d.PushWindow != 15*time.Minute {
		t.Fatalf("device settings %+v", d)
	}
	if !reflect.DeepEqual(d.Origins, []string{"https://gw.example.com"}) ||
		!reflect.DeepEqual(d.AppleAppIDs, []string{"ABCDE12345.com.example.trustgate"}) ||
		len(d.AndroidApps) != 1 || d.AndroidApps[0].Package != "com.example.trustgate" ||
		!reflect.DeepEqual(d.AndroidApps[0].Fingerprints, []string{testFingerprint}) {
		t.Fatalf("app links and origins %+v", d)
	}
	if h.gate == nil {
		t.Fatal("no gate")
	}
}

func TestProvisionRefusesInvalidPolicy(t *testing.T) {
	appJSON, _ := json.Marshal(map[string]any{"storage": map[string]string{"path": storePath(t)}})
	ctx, err := caddy.ProvisionContext(&caddy.Config{AppsRaw: caddy.ModuleMap{appName: appJSON}})
	if err != nil {
		t.Fatal(err)
	}
	appIface, err := ctx.App(appName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = appIface.(*App).Cleanup() })
	h := &Handler{
		LoginRaw: usersFileLoginJSON(gatetest.WriteUsersFile(t)),
		Mode:     policy.ModeBlock,
		Mobile: &policy.Integration{
			State: policy.Groups, // and no groups
		},
	}
	err = h.Provision(ctx)
	if err == nil || !strings.Contains(err.Error(), "names no groups") {
		t.Fatalf("provision error %v, want one about the missing groups", err)
	}
}

func TestAppTrustCacheSurvivesReloadAndResizes(t *testing.T) {
	path := storePath(t)
	provision := func(size int) *App {
		appJSON, _ := json.Marshal(map[string]any{"storage": map[string]string{"path": path}, "trust_cache_size": size})
		ctx, err := caddy.ProvisionContext(&caddy.Config{AppsRaw: caddy.ModuleMap{appName: appJSON}})
		if err != nil {
			t.Fatal(err)
		}
		app, err := ctx.App(appName)
		if err != nil {
			t.Fatal(err)
		}
		return app.(*App)
	}
	first := provision(10)
	cache := first.TrustCache()
	expires := time.Now().Add(time.Hour)
	for _, dev := range []string{"d1", "d2", "d3"} {
		cache.Put("alice", dev, "policy", device.TrustDecision{Status: "trusted", Expires: expires})
	}
	// A reload provisions the new config before cleaning up the old one.
	second := provision(2)
	if err := first.Cleanup(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Cleanup() })
	if second.TrustCache() != cache {
		t.Fatal("the reloaded app has a new trust cache")
	}
	if n := cache.Len(); n != 2 {
		t.Fatalf("after resizing to 2 the cache holds %d decisions", n)
	}
	if _, ok := cache.Get("alice", "d3", "policy"); !ok {
		t.Fatal("the most recent decision did not survive the reload")
	}
}

// TestConfiguredTrustHeadersAreStrippedFromRequests spoofs the renamed
// device headers, in the spellings a CGI backend folds together, and checks
// that none of them reaches the upstream.
func TestConfiguredTrustHeadersAreStrippedFromRequests(t *testing.T) {
	up := newUpstream(t)
	dbPath := storePath(t)
	startGateway(t, globalOptions(dbPath, "trust_cache_size 1000")+fmt.Sprintf(`
http://localhost:%d {
	trusted_endpoints {
		login users_file %s
		upstream_headers {
			trust     X-Device-Trust
			device_id X-Device-Id
		}
	}
	reverse_proxy %s
}
`, httpPort, gatetest.WriteUsersFile(t), up.hostPort()))
	b := newBrowser(t)
	b.login("alice", gatetest.Users["alice"].Password, "/")
	req, err := http.NewRequest(http.MethodGet, gateURL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Device-Trust", "trusted")
	req.Header["x_device_id"] = []string{"forged-device"}
	req.Header.Set("X-Trustgate-Device-Trust", "trusted")
	v := decodeUpstream(t, b.do(req))
	for name := range v.Headers {
		if n := strings.ToLower(strings.ReplaceAll(name, "_", "-")); n == "x-device-trust" || n == "x-device-id" || n == "x-trustgate-device-trust" {
			t.Errorf("spoofed header %s reached the upstream: %v", name, v.Headers[name])
		}
	}
	if got := v.Headers["X-Trustgate-User"]; len(got) != 1 || got[0] != "alice" {
		t.Fatalf("user header %v", got)
	}
	if runningState(t, dbPath).TrustCache() == nil {
		t.Fatal("no trust cache")
	}
}

func TestDirectiveParsesFailMode(t *testing.T) {
	for _, mode := range []string{"secure", "safe", "check"} {
		var h Handler
		d := caddyfile.NewTestDispenser("trusted_endpoints {\n login users_file u\n mode block\n fail_mode " + mode + "\n}")
		if err := h.UnmarshalCaddyfile(d); err != nil {
			t.Fatalf("fail_mode %s: %v", mode, err)
		}
		if h.FailMode != mode {
			t.Errorf("fail_mode %s parsed as %q", mode, h.FailMode)
		}
	}
	h := Handler{LoginRaw: usersFileLoginJSON("u"), FailMode: "open"}
	if err := h.Validate(); err == nil || !strings.Contains(err.Error(), `"open"`) {
		t.Errorf("Validate of JSON fail_mode open: %v", err)
	}
}

// A managed block given in JSON is checked as the Caddyfile's is: an
// unknown match, platform or state is refused with the setting named.
func TestManagedJSONRefusesMistakes(t *testing.T) {
	for managed, want := range map[string]string{
		`{"state": "all", "match": "thumbprint"}`: `managed: unknown match "thumbprint"`,
		`{"state": "all", "platforms": ["beos"]}`: `managed: unknown platform "beos"`,
		`{"state": "groups"}`:                     "managed: integration state groups names no groups",
	} {
		err := loadHandlerErr(t, `{"login": {"source": "users_file", "path": "USERS_FILE"}, "mode": "block", "managed": `+managed+`}`)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("managed %s: %v, want an error with %q", managed, err, want)
		}
	}
}
