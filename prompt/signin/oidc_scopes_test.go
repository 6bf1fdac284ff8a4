package signin

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestOIDCScopesAddToTheDefaults(t *testing.T) {
	p := startProvider(t, "")
	for _, tt := range []struct {
		configured []string
		want       string
	}{
		{nil, "openid profile email"},
		{[]string{"groups"}, "openid profile email groups"},
		{[]string{"email", "groups", "openid", "groups", "offline_access"}, "openid profile email groups offline_access"},
	} {
		o := p.login(t, OIDCConfig{Scopes: tt.configured})
		raw, err := o.AuthCodeURL(context.Background(), testRedirectURI, "state", "nonce", NewPKCEVerifier())
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(raw)
		if got := u.Query().Get("scope"); got != tt.want {
			t.Errorf("scopes %q: authorization request asks for %q, want %q", tt.configured, got, tt.want)
		}
	}
}

func TestOIDCWarnsOnceWhenUserNameFallsBackToSub(t *testing.T) {
	p := startProvider(t, "")
	core, logs := observer.New(zap.WarnLevel)
	o := p.login(t, OIDCConfig{Logger: zap.New(core)})

	// A name from preferred_username is no cause for a warning.
	if _, err := p.signIn(t, o, claimsUser{"s1", map[string]any{"preferred_username": "bob"}}).exchange(o); err != nil {
		t.Fatal(err)
	}
	if n := logs.Len(); n != 0 {
		t.Fatalf("%d warnings for a named user", n)
	}
	for range 2 {
		id, err := p.signIn(t, o, claimsUser{"opaque-248289761001", map[string]any{}}).exchange(o)
		if err != nil || id.User != "opaque-248289761001" {
			t.Fatalf("identity %+v, %v", id, err)
		}
	}
	warnings := logs.FilterMessageSnippet("sub").All()
	if len(warnings) != 1 || !strings.Contains(warnings[0].Message, "user_claim") {
		t.Fatalf("want one warning naming the fallback and user_claim, got %+v", logs.All())
	}
}
