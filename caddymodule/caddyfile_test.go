package caddymodule

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/trustgate/trustgate/caddymodule/login"
)

func TestDirectiveParsesEveryOption(t *testing.T) {
	input := `trusted_endpoints {
		application legacy-crm
		login oidc {
			issuer        https://idp.example.com
			client_id     crm
			client_secret {env.OIDC_SECRET}
			scopes        openid email groups
			groups_claim  roles
			user_claim    email
			redirect_url  https://crm.example.com/.trustgate/oidc/callback
			timeout       5s
		}
		session_lifetime 12h
		session_cache_size 5000
		lockout 7 30m
		upstream_headers {
			user   Remote-User
			email  -
			groups X-Groups
		}
	}`
	var h Handler
	if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input)); err != nil {
		t.Fatal(err)
	}
	want := Handler{
		Application: "legacy-crm",
		LoginRaw: caddyconfig.JSONModuleObject(&login.OIDCLogin{
			Issuer: "https://idp.example.com", ClientID: "crm", ClientSecret: "{env.OIDC_SECRET}",
			Scopes: []string{"openid", "email", "groups"}, GroupsClaim: "roles", UserClaim: "email",
			RedirectURL: "https://crm.example.com/.trustgate/oidc/callback", Timeout: caddy.Duration(5e9),
		}, "source", "oidc", nil),
		SessionLifetime:  caddy.Duration(12 * 3600e9),
		SessionCacheSize: 5000,
		LockoutAttempts:  7,
		LockoutWindow:    caddy.Duration(30 * 60e9),
		UpstreamHeaders:  &UpstreamHeaders{User: "Remote-User", Email: "-", Groups: "X-Groups"},
	}
	if !reflect.DeepEqual(h, want) {
		got, _ := json.Marshal(h)
		exp, _ := json.Marshal(want)
		t.Fatalf("parsed\n%s\nwant\n%s", got, exp)
	}

	var u Handler
	if err := u.UnmarshalCaddyfile(caddyfile.NewTestDispenser("trusted_endpoints {\n login users_file /etc/trustgate/users.yaml\n}")); err != nil {
		t.Fatal(err)
	}
	if got := parsedLogin[login.UsersFileLogin](t, u.LoginRaw, "users_file"); got.Path != "/etc/trustgate/users.yaml" {
		t.Fatalf("users_file: %s", u.LoginRaw)
	}

	var off Handler
	if err := off.UnmarshalCaddyfile(caddyfile.NewTestDispenser("trusted_endpoints {\n login users_file u\n session_cache_size off\n}")); err != nil {
		t.Fatal(err)
	}
	if off.SessionCacheSize != -1 {
		t.Fatalf("session_cache_size off: got %d, want -1", off.SessionCacheSize)
	}
}

func TestDirectiveErrorsNameFileAndLine(t *testing.T) {
	cases := map[string]string{
		"no login":               "trusted_endpoints {\n application x\n}",
		"no block":               "trusted_endpoints",
		"inline argument":        "trusted_endpoints foo {\n login users_file u\n}",
		"unknown option":         "trusted_endpoints {\n login users_file u\n colour blue\n}",
		"unknown login kind":     "trusted_endpoints {\n login ldap x\n}",
		"two logins":             "trusted_endpoints {\n login users_file u\n login users_file v\n}",
		"users_file no path":     "trusted_endpoints {\n login users_file\n}",
		"users_file extra":       "trusted_endpoints {\n login users_file a b\n}",
		"oidc without issuer":    "trusted_endpoints {\n login oidc {\n client_id x\n }\n}",
		"oidc without client":    "trusted_endpoints {\n login oidc {\n issuer https://i\n }\n}",
		"oidc unknown field":     "trusted_endpoints {\n login oidc {\n issuer https://i\n client_id x\n audience y\n }\n}",
		"oidc empty scopes":      "trusted_endpoints {\n login oidc {\n issuer https://i\n client_id x\n scopes\n }\n}",
		"oidc bad timeout":       "trusted_endpoints {\n login oidc {\n issuer https://i\n client_id x\n timeout soon\n }\n}",
		"oidc inline arg":        "trusted_endpoints {\n login oidc https://i\n}",
		"bad session lifetime":   "trusted_endpoints {\n login users_file u\n session_lifetime forever\n}",
		"zero session lifetime":  "trusted_endpoints {\n login users_file u\n session_lifetime 0s\n}",
		"negative lifetime":      "trusted_endpoints {\n login users_file u\n session_lifetime -1h\n}",
		"lockout one arg":        "trusted_endpoints {\n login users_file u\n lockout 5\n}",
		"session cache zero":     "trusted_endpoints {\n login users_file u\n session_cache_size 0\n}",
		"session cache words":    "trusted_endpoints {\n login users_file u\n session_cache_size lots\n}",
		"session cache two args": "trusted_endpoints {\n login users_file u\n session_cache_size 5 6\n}",
		"lockout bad attempts":   "trusted_endpoints {\n login users_file u\n lockout many 15m\n}",
		"lockout zero attempts":  "trusted_endpoints {\n login users_file u\n lockout 0 15m\n}",
		"lockout bad window":     "trusted_endpoints {\n login users_file u\n lockout 5 later\n}",
		"application no name":    "trusted_endpoints {\n login users_file u\n application\n}",
		"header unknown field":   "trusted_endpoints {\n login users_file u\n upstream_headers {\n device X-D\n }\n}",
		"header invalid name":    "trusted_endpoints {\n login users_file u\n upstream_headers {\n user \"X User\"\n }\n}",
		"header missing name":    "trusted_endpoints {\n login users_file u\n upstream_headers {\n user\n }\n}",
		"header inline argument": "trusted_endpoints {\n login users_file u\n upstream_headers X {\n }\n}",
	}
	refusedWithFileLine(t, cases)
}

func TestGlobalOptionParsesEveryOption(t *testing.T) {
	key := "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=" // 32 bytes
	input := "trusted_endpoints {\n storage sqlite /var/lib/trustgate/tg.db\n cookie_key " + key + " " + key +
		"\n cookie_key {env.TG_HASH} {env.TG_BLOCK}\n}"
	v, err := parseGlobalOption(caddyfile.NewTestDispenser(input), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := v.(httpcaddyfile.App)
	if got.Name != "trusted_endpoints" {
		t.Fatalf("app name %q", got.Name)
	}
	var app App
	if err := json.Unmarshal(got.Value, &app); err != nil {
		t.Fatal(err)
	}
	want := App{
		StorageRaw: json.RawMessage(`{"backend":"sqlite","path":"/var/lib/trustgate/tg.db"}`),
		CookieKeys: []CookieKeyConfig{
			{HashKey: key, BlockKey: key},
			{HashKey: "{env.TG_HASH}", BlockKey: "{env.TG_BLOCK}"},
		},
	}
	if !reflect.DeepEqual(app, want) {
		t.Fatalf("parsed %+v, want %+v", app, want)
	}
}

func TestGlobalOptionErrorsNameFileAndLine(t *testing.T) {
	short := "c2hvcnQ=" // "short"
	cases := map[string]string{
		"unknown option":   "trusted_endpoints {\n colour blue\n}",
		"unknown backend":  "trusted_endpoints {\n storage redis\n}",
		"storage no args":  "trusted_endpoints {\n storage\n}",
		"storage too many": "trusted_endpoints {\n storage sqlite a b\n}",
		"storage twice":    "trusted_endpoints {\n storage sqlite\n storage sqlite\n}",
		"cookie key one":   "trusted_endpoints {\n cookie_key abc\n}",
		"cookie key short": "trusted_endpoints {\n cookie_key " + short + " " + short + "\n}",
		"cookie key bad64": "trusted_endpoints {\n cookie_key !!!! ????\n}",
		"inline argument":  "trusted_endpoints sqlite",
	}
	fileLine := regexp.MustCompile(`Testfile:\d+`)
	for name, input := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseGlobalOption(caddyfile.NewTestDispenser(input), nil)
			if err == nil {
				t.Fatalf("accepted:\n%s", input)
			}
			if !fileLine.MatchString(err.Error()) {
				t.Fatalf("error %q does not name the file and line", err)
			}
		})
	}
}

// TestDirectiveOrderPutsGateBeforeHandleAndProxy adapts a Caddyfile whose
// proxied route is inside a handle block and checks that the gate's route
// comes first in the adapted JSON.
func TestDirectiveOrderPutsGateBeforeHandleAndProxy(t *testing.T) {
	input := `http://localhost:9080 {
	handle /app/* {
		reverse_proxy 127.0.0.1:9
	}
	respond /hello "hi"
	route /r {
		respond "r"
	}
	reverse_proxy 127.0.0.1:9
	trusted_endpoints {
		login users_file users.yaml
	}
}`
	adapter := caddyconfig.GetAdapter("caddyfile")
	out, warnings, err := adapter.Adapt([]byte(input), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = warnings // the input is deliberately in an odd order
	type route struct {
		Match  json.RawMessage `json:"match"`
		Handle []struct {
			Handler string  `json:"handler"`
			Routes  []route `json:"routes"`
		} `json:"handle"`
	}
	var cfg struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Routes []route `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	for _, srv := range cfg.Apps.HTTP.Servers {
		// One route for the site, whose subroute holds the directives in
		// their final order.
		site := srv.Routes[0].Handle[0]
		if site.Handler != "subroute" || len(site.Routes) < 5 {
			t.Fatalf("unexpected site shape: %s", out)
		}
		first := site.Routes[0]
		if first.Match != nil || first.Handle[0].Handler != "trusted_endpoints" {
			t.Fatalf("first route of the site is %s (match %s), want the gate for every request:\n%s",
				first.Handle[0].Handler, first.Match, out)
		}
		for _, r := range site.Routes[1:] {
			if r.Handle[0].Handler == "trusted_endpoints" {
				t.Fatal("the gate appears twice")
			}
		}
		return
	}
	t.Fatal("no server in adapted config")
}

func TestGlobalOptionParsesRetention(t *testing.T) {
	day := caddy.Duration(24 * time.Hour)
	good := []struct {
		input string
		want  *RetentionConfig
	}{
		{"trusted_endpoints {\n retention {\n  auth_log 365d\n  inactive_devices 14d\n }\n}",
			&RetentionConfig{AuthLog: 365 * day, InactiveDevices: 14 * day}},
		{"trusted_endpoints {\n retention {\n  auth_log 2160h\n }\n}",
			&RetentionConfig{AuthLog: caddy.Duration(2160 * time.Hour)}},
		{"trusted_endpoints {\n retention {\n  auth_log forever\n  inactive_devices forever\n }\n}",
			&RetentionConfig{AuthLog: -1, InactiveDevices: -1}},
		{"trusted_endpoints {\n storage sqlite\n}", nil},
	}
	for _, tt := range good {
		v, err := parseGlobalOption(caddyfile.NewTestDispenser(tt.input), nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.input, err)
		}
		var app App
		if err := json.Unmarshal(v.(httpcaddyfile.App).Value, &app); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(app.Retention, tt.want) {
			t.Errorf("%s:\nparsed retention %+v, want %+v", tt.input, app.Retention, tt.want)
		}
	}

	bad := map[string]struct{ input, message string }{
		"no unit":         {"trusted_endpoints {\n retention {\n  auth_log 30\n }\n}", `retention auth_log must be a positive duration such as 30d, or forever; got "30"`},
		"zero":            {"trusted_endpoints {\n retention {\n  inactive_devices 0d\n }\n}", `retention inactive_devices must be a positive duration`},
		"negative":        {"trusted_endpoints {\n retention {\n  inactive_devices -5d\n }\n}", `retention inactive_devices must be a positive duration`},
		"not a duration":  {"trusted_endpoints {\n retention {\n  auth_log never\n }\n}", `got "never"`},
		"missing value":   {"trusted_endpoints {\n retention {\n  auth_log\n }\n}", "wrong argument count"},
		"two values":      {"trusted_endpoints {\n retention {\n  auth_log 30d 60d\n }\n}", "wrong argument count"},
		"unknown option":  {"trusted_endpoints {\n retention {\n  sessions 30d\n }\n}", `unknown retention option "sessions" (want auth_log or inactive_devices)`},
		"option twice":    {"trusted_endpoints {\n retention {\n  auth_log 30d\n  auth_log 60d\n }\n}", "retention auth_log already specified"},
		"block twice":     {"trusted_endpoints {\n retention {\n  auth_log 30d\n }\n retention {\n  inactive_devices 5d\n }\n}", "retention already specified"},
		"inline argument": {"trusted_endpoints {\n retention 30d\n}", "wrong argument count"},
	}
	fileLine := regexp.MustCompile(`Testfile:\d+`)
	for name, tt := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := parseGlobalOption(caddyfile.NewTestDispenser(tt.input), nil)
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.input)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not say %q", err, tt.message)
			}
			if !fileLine.MatchString(err.Error()) {
				t.Errorf("error %q does not name the file and line", err)
			}
		})
	}
}

// refusedWithFileLine checks that the directive refuses each case's input
// with an error that names the file and line.
func refusedWithFileLine(t *testing.T, cases map[string]string) {
	t.Helper()
	fileLine := regexp.MustCompile(`Testfile:\d+`)
	for name, input := range cases {
		t.Run(name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input))
			if err == nil {
				t.Fatalf("accepted:\n%s", input)
			}
			if !fileLine.MatchString(err.Error()) {
				t.Fatalf("error %q does not name the file and line", err)
			}
		})
	}
}
