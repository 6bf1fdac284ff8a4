package caddymodule

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/prompt/gatetest"
)

// TestSettingsCaddyfileAndJSONAgree checks, for settings that both a
// Caddyfile and JSON can get wrong, that each is refused by one check: the
// Caddyfile's error is the JSON's (from loading the handler, as `caddy
// validate` does) followed by the line.
func TestSettingsCaddyfileAndJSONAgree(t *testing.T) {
	cases := []struct {
		name  string
		lines string // after the login line (line 2); the bad one is line 3
		json  string // the same setting in JSON
	}{
		{"allow empty user", `allow users alice ""`, `"allow": {"users": ["alice", ""]}`},
		{"allow bad email", "allow emails alice@*.example.com", `"allow": {"emails": ["alice@*.example.com"]}`},
		{"unknown mode", "mode strict", `"mode": "strict"`},
		{"unknown fail_mode", "fail_mode open", `"fail_mode": "open"`},
		{"bad origin", "origins https://gw.example.com/app", `"origins": ["https://gw.example.com/app"]`},
		{"upstream header", "upstream_headers {\n user \"X User\"\n}", `"upstream_headers": {"user": "X User"}`},
		{"assertion header", "upstream_assertion {\n header X:Bad\n}", `"upstream_assertion": {"header": "X:Bad"}`},
		{"assertion lifetime", "upstream_assertion {\n lifetime 2h\n}", `"upstream_assertion": {"lifetime": 7200000000000}`},
		{"session_realm", "session_realm \"a b\"", `"session_realm": "a b"`},
		{"enrollment self in mode block", "enrollment self\nmode block\nmobile {\n enable all\n}",
			`"enrollment": "self", "mode": "block", "mobile": {"state": "all"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var fromFile Handler
			fileErr := fromFile.UnmarshalCaddyfile(caddyfile.NewTestDispenser(
				"trusted_endpoints {\n login users_file u\n" + tc.lines + "\n}"))
			jsonErr := loadHandlerErr(t, `{"login": {"source": "users_file", "path": "USERS_FILE"}, `+tc.json+`}`)
			if fileErr == nil || jsonErr == nil {
				t.Fatalf("Caddyfile: %v; JSON: %v (both must refuse)", fileErr, jsonErr)
			}
			if want := jsonErr.Error() + ", at Testfile:"; !strings.HasPrefix(fileErr.Error(), want) {
				t.Errorf("the two paths word it differently:\nCaddyfile: %v\nJSON:      %v", fileErr, jsonErr)
			}
		})
	}
}

// loadHandlerErr provisions and then validates a handler configured by
// handlerJSON, as Caddy loads one, and returns the first error.
func loadHandlerErr(t *testing.T, handlerJSON string) error {
	t.Helper()
	h, _, err := provisionedHandler(t, handlerJSON)
	if err != nil {
		return err
	}
	return h.Validate()
}

// provisionedHandler provisions a handler configured by handlerJSON (with
// USERS_FILE replaced by a users file's path) against a freshly
// provisioned trusted_endpoints app, as Caddy does on load, and returns
// both, or the handler's provisioning error.
func provisionedHandler(t *testing.T, handlerJSON string) (*Handler, *App, error) {
	t.Helper()
	appJSON, _ := json.Marshal(map[string]any{"storage": map[string]string{"path": storePath(t)}})
	ctx, err := caddy.ProvisionContext(&caddy.Config{AppsRaw: caddy.ModuleMap{appName: appJSON}})
	if err != nil {
		t.Fatal(err)
	}
	appIface, err := ctx.App(appName)
	if err != nil {
		t.Fatal(err)
	}
	app := appIface.(*App)
	t.Cleanup(func() { _ = app.Cleanup() })
	h := new(Handler)
	if err := json.Unmarshal([]byte(strings.ReplaceAll(handlerJSON, "USERS_FILE", gatetest.WriteUsersFile(t))), h); err != nil {
		return nil, nil, err
	}
	return h, app, h.Provision(ctx)
}
