package sites

import (
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/session"
)

func TestActivationRealm(t *testing.T) {
	t.Parallel()
	var r Registry
	r.JoinRealm("realm:a", "users_file:/u", "")
	r.RegisterApplicationRealm("wiki", "realm:a")
	r.RegisterApplicationRealm("crm", "realm:a")
	r.RegisterApplicationRealm("crm", "realm:b")

	realm, id, err := r.ActivationRealm("wiki")
	if err != nil || realm != "realm:a" || id != session.RealmID("realm:a") {
		t.Errorf("wiki: %q %q %v, want realm:a and its ID", realm, id, err)
	}
	if _, _, err := r.ActivationRealm("crm"); err == nil || !strings.Contains(err.Error(), "different realms (realm:a, realm:b)") {
		t.Errorf("crm, in two realms: %v, want it refused as ambiguous", err)
	}
	if _, _, err := r.ActivationRealm("mail"); err == nil || !strings.Contains(err.Error(), "known: crm, wiki") {
		t.Errorf("mail, unknown: %v, want it refused naming the known applications", err)
	}
	// Without an application, the configuration's one realm.
	if realm, _, err := r.ActivationRealm(""); err != nil || realm != "realm:a" {
		t.Errorf("no application, one realm: %q %v, want realm:a", realm, err)
	}
	r.JoinRealm("realm:b", "users_file:/u", "")
	if realm, id, err := r.ActivationRealm(""); err != nil || realm != "" || id != "" {
		t.Errorf("no application, two realms: %q %q %v, want none", realm, id, err)
	}
}

func TestJoinRealmRefusesASecondLoginSource(t *testing.T) {
	t.Parallel()
	var r Registry
	if _, ok := r.JoinRealm("realm:a", "users_file:/u", "Caddyfile:3"); !ok {
		t.Fatal("the first site was refused")
	}
	if _, ok := r.JoinRealm("realm:a", "users_file:/u", "Caddyfile:9"); !ok {
		t.Error("a second site with the same source was refused")
	}
	first, ok := r.JoinRealm("realm:a", "oidc:https://idp|gw", "Caddyfile:15")
	if ok || first != (RealmSite{Source: "users_file:/u", DefinedAt: "Caddyfile:3"}) {
		t.Errorf("another source: %+v %v, want refused naming the first site", first, ok)
	}
	if got := r.RealmName(session.RealmID("realm:a")); got != "realm:a" {
		t.Errorf("RealmName = %q, want realm:a", got)
	}
}
