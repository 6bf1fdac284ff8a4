package caddymodule

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"golang.org/x/crypto/bcrypt"

	"github.com/trustgate/trustgate/caddymodule/login"
	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/signin"
)

func init() {
	caddy.RegisterModule(rosterLogin{})
}

// rosterLogin is a login source as a third party would write one, outside
// the built-in ones: the trusted_endpoints.login.test_roster module, whose
// users and passwords are written in the configuration itself:
//
//	login test_roster {
//		<user> <password> [<group>...]
//	}
type rosterLogin struct {
	Users map[string]rosterUser `json:"users,omitempty"`
}

type rosterUser struct {
	Password string   `json:"password"`
	Groups   []string `json:"groups,omitempty"`
}

func (rosterLogin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "trusted_endpoints.login.test_roster",
		New: func() caddy.Module { return new(rosterLogin) },
	}
}

func (r *rosterLogin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the source's name
	r.Users = map[string]rosterUser{}
	for d.NextBlock(0) {
		name := d.Val()
		args := d.RemainingArgs()
		if len(args) == 0 {
			return d.ArgErr()
		}
		r.Users[name] = rosterUser{Password: args[0], Groups: args[1:]}
	}
	return nil
}

// ConfigureGate hands the gate the roster as a users file.
func (r *rosterLogin) ConfigureGate(cfg *prompt.Config) error {
	var b strings.Builder
	b.WriteString("users:\n")
	for name, u := range r.Users {
		hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.MinCost)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "  - username: %s\n    password_hash: %q\n    groups: [%s]\n", name, hash, strings.Join(u.Groups, ", "))
	}
	users, err := signin.ParseUsers([]byte(b.String()), ".yaml")
	if err != nil {
		return err
	}
	cfg.Users = users
	return nil
}

func (r *rosterLogin) Realm() (string, error) {
	return "test_roster:" + strings.Join(slices.Sorted(maps.Keys(r.Users)), ","), nil
}

var (
	_ login.Login           = (*rosterLogin)(nil)
	_ caddyfile.Unmarshaler = (*rosterLogin)(nil)
)

// parsedLogin decodes a handler's login object, which must name source,
// into the source's settings.
func parsedLogin[T any](t *testing.T, raw json.RawMessage, source string) T {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("login %s: %v", raw, err)
	}
	if got := string(fields["source"]); got != `"`+source+`"` {
		t.Fatalf("login source %s, want %q in %s", got, source, raw)
	}
	delete(fields, "source")
	rest, _ := json.Marshal(fields)
	var settings T
	if err := caddy.StrictUnmarshalJSON(rest, &settings); err != nil {
		t.Fatalf("login %s: %v", raw, err)
	}
	return settings
}

// usersFileLoginJSON is the login object of a users file at path.
func usersFileLoginJSON(path string) json.RawMessage {
	return caddyconfig.JSONModuleObject(&login.UsersFileLogin{Path: path}, "source", "users_file", nil)
}

func TestThirdPartyLoginSourceSignsPeopleIn(t *testing.T) {
	up := newUpstream(t)
	password := gatetest.Users["alice"].Password
	startGateway(t, globalOptions(storePath(t), "")+fmt.Sprintf(`
http://localhost:%d {
	trusted_endpoints {
		application legacy
		login test_roster {
			alice %q staff pilot
		}
	}
	reverse_proxy %s
}
`, httpPort, password, up.hostPort()))
	b := newBrowser(t)
	back := b.login("alice", password, "/wiki")
	v := decodeUpstream(t, b.get(gateURL+back))
	if got := v.Headers["X-Trustgate-User"]; len(got) != 1 || got[0] != "alice" {
		t.Fatalf("upstream user header %q, want alice", got)
	}
	if got := v.Headers["X-Trustgate-Groups"]; len(got) != 1 || got[0] != "staff,pilot" {
		t.Fatalf("upstream groups header %q, want staff,pilot", got)
	}
}

func TestThirdPartyLoginSourceFromJSON(t *testing.T) {
	h, _ := provisionHandler(t, `{"login": {"source": "test_roster", "users": {"bob": {"password": "pw"}}}}`)
	if _, ok := h.login.(*rosterLogin); !ok {
		t.Fatalf("loaded login %T, want the roster", h.login)
	}
	if h.gate == nil {
		t.Fatal("no gate")
	}
}

// TestLoginJSONNamesItsSource checks the refusals of a login object that
// names no source, or an unknown one, or settings the source does not have.
func TestLoginJSONNamesItsSource(t *testing.T) {
	cases := []struct{ name, login, mention string }{
		{"none", ``, "no primary login configured (users_file, oidc or test_roster)"},
		{"empty", `"login": {},`, `name the source with "source"`},
		{"old users_file", `"login": {"users_file": "u.yaml"},`, `{"source": "users_file", "path": <path>}`},
		{"old oidc", `"login": {"oidc": {"issuer": "https://i", "client_id": "c"}},`, `{"source": "oidc"`},
		{"old both", `"login": {"users_file": "u.yaml", "oidc": {}},`, "choose users_file or oidc, not both"},
		{"unknown source", `"login": {"source": "ldap"},`, "ldap"},
		{"unknown setting", `"login": {"source": "users_file", "path": "u", "file": "v"},`, `unknown field "file"`},
		{"users_file without path", `"login": {"source": "users_file"},`, "login users_file: the path is required"},
		{"oidc without issuer", `"login": {"source": "oidc", "client_id": "c"},`, "login oidc: issuer is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := provisionHandlerErr(t, `{`+tc.login+`"mode": "off"}`)
			if err == nil || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("provision: %v, want an error mentioning %s", err, tc.mention)
			}
		})
	}
}

// TestLoginCaddyfileAndJSONAgree checks that the OIDC settings a Caddyfile
// and JSON can both get wrong are refused in the same words, the
// Caddyfile's with its line.
func TestLoginCaddyfileAndJSONAgree(t *testing.T) {
	cases := []struct{ name, line, json string }{
		{"logout_redirect relative", "logout_redirect /bye", `"logout_redirect": "/bye"`},
		{"prompt none", "prompt none", `"prompt": "none"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var fromFile Handler
			fileErr := fromFile.UnmarshalCaddyfile(caddyfile.NewTestDispenser(
				"trusted_endpoints {\n login oidc {\n issuer https://i\n client_id x\n " + tc.line + "\n }\n}"))
			var o login.OIDCLogin
			if err := json.Unmarshal([]byte(`{"issuer": "https://i", "client_id": "x", `+tc.json+`}`), &o); err != nil {
				t.Fatal(err)
			}
			jsonErr := o.Validate()
			if fileErr == nil || jsonErr == nil {
				t.Fatalf("Caddyfile: %v; JSON: %v (both must refuse)", fileErr, jsonErr)
			}
			if !strings.HasPrefix(fileErr.Error(), jsonErr.Error()+", at Testfile:5") {
				t.Errorf("the two paths word it differently:\nCaddyfile: %v\nJSON:      %v", fileErr, jsonErr)
			}
		})
	}
}
