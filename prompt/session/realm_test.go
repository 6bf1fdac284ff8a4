package session

import (
	"strings"
	"testing"
)

func TestRealmIDIsShortAndDistinct(t *testing.T) {
	a, b := RealmID("users_file:/a.yaml"), RealmID("users_file:/b.yaml")
	if len(a) != 22 || a == b || RealmID("users_file:/a.yaml") != a {
		t.Fatalf("realm IDs %q, %q", a, b)
	}
	if got := OIDCRealm("https://idp.example.com", "gw"); got != "oidc:https://idp.example.com#gw" {
		t.Fatalf("OIDCRealm: %q", got)
	}
	if got, err := UsersFileRealm("users.yaml"); err != nil || !strings.HasPrefix(got, "users_file:/") || !strings.HasSuffix(got, "/users.yaml") {
		t.Fatalf("UsersFileRealm: %q, %v", got, err)
	}
}
