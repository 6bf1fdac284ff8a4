package caddymodule

import (
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/caddymodule/login"
)

func TestOIDCSessionOptionsParse(t *testing.T) {
	var h Handler
	err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(`trusted_endpoints {
		login oidc {
			issuer          https://idp.example.com
			client_id       crm
			logout_redirect https://idp.example.com/signed-out
			prompt          login
			revalidate      15m
		}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	o := parsedLogin[login.OIDCLogin](t, h.LoginRaw, "oidc")
	if o.LogoutRedirect != "https://idp.example.com/signed-out" || o.Prompt != "login" || o.Revalidate != caddy.Duration(15*time.Minute) {
		t.Fatalf("parsed %+v", o)
	}
}

func TestOIDCSessionOptionErrorsNameFileAndLine(t *testing.T) {
	oidc := func(line string) string {
		return "trusted_endpoints {\n login oidc {\n issuer https://i\n client_id x\n " + line + "\n }\n}"
	}
	cases := map[string]string{
		"logout_redirect missing":  oidc("logout_redirect"),
		"logout_redirect relative": oidc("logout_redirect /bye"),
		"logout_redirect two":      oidc("logout_redirect https://a https://b"),
		"prompt none":              oidc("prompt none"),
		"prompt missing":           oidc("prompt"),
		"revalidate zero":          oidc("revalidate 0s"),
		"revalidate negative":      oidc("revalidate -5m"),
		"revalidate words":         oidc("revalidate often"),
	}
	refusedWithFileLine(t, cases)
}
