package caddymodule

import (
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestDirectiveParsesSessionRealm(t *testing.T) {
	input := "trusted_endpoints {\n login users_file u\n\n session_realm corp.example\n}"
	var h Handler
	if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input)); err != nil {
		t.Fatal(err)
	}
	if h.SessionRealm != "corp.example" || h.RealmDefinedAt != "Testfile:4" {
		t.Fatalf("session_realm %q defined at %q, want corp.example at Testfile:4", h.SessionRealm, h.RealmDefinedAt)
	}
}

func TestSessionRealmDirectiveErrorsNameFileAndLine(t *testing.T) {
	cases := map[string]string{
		"no name":     "trusted_endpoints {\n login users_file u\n session_realm\n}",
		"two names":   "trusted_endpoints {\n login users_file u\n session_realm a b\n}",
		"twice":       "trusted_endpoints {\n login users_file u\n session_realm a\n session_realm a\n}",
		"empty name":  "trusted_endpoints {\n login users_file u\n session_realm \"\"\n}",
		"space":       "trusted_endpoints {\n login users_file u\n session_realm \"a b\"\n}",
		"control":     "trusted_endpoints {\n login users_file u\n session_realm \"a\tb\"\n}",
		"long":        "trusted_endpoints {\n login users_file u\n session_realm " + strings.Repeat("r", 101) + "\n}",
		"block given": "trusted_endpoints {\n login users_file u\n session_realm {\n }\n}",
	}
	refusedWithFileLine(t, cases)
}
