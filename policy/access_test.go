package policy

import (
	"strings"
	"testing"
)

func TestAccessAllows(t *testing.T) {
	type person struct {
		user, email string
		groups      []string
	}
	tests := []struct {
		name  string
		rules *AccessRules
		who   person
		want  bool
	}{
		{"no rules let everyone in", nil, person{"bob", "", nil}, true},
		{"user listed", &AccessRules{Users: []string{"alice", "carol"}}, person{"carol", "", nil}, true},
		{"user not listed", &AccessRules{Users: []string{"alice"}}, person{"bob", "bob@example.com", []string{"staff"}}, false},
		{"user matches case included", &AccessRules{Users: []string{"alice"}}, person{"Alice", "", nil}, false},
		{"user is not a group", &AccessRules{Groups: []string{"alice"}}, person{"alice", "", nil}, false},
		{"group listed", &AccessRules{Groups: []string{"pilot"}}, person{"bob", "", []string{"staff", "pilot"}}, true},
		{"group not listed", &AccessRules{Groups: []string{"pilot"}}, person{"bob", "", []string{"staff"}}, false},
		{"no groups", &AccessRules{Groups: []string{"pilot"}}, person{"bob", "", nil}, false},
		{"group matches case included", &AccessRules{Groups: []string{"pilot"}}, person{"bob", "", []string{"Pilot"}}, false},
		{"group is not a user", &AccessRules{Users: []string{"pilot"}}, person{"bob", "", []string{"pilot"}}, false},
		{"email listed", &AccessRules{Emails: []string{"alice@example.com"}}, person{"a", "alice@example.com", nil}, true},
		{"email case-insensitive", &AccessRules{Emails: []string{"Alice@Example.com"}}, person{"a", "ALICE@example.COM", nil}, true},
		{"email other person", &AccessRules{Emails: []string{"alice@example.com"}}, person{"a", "mallory@example.com", nil}, false},
		{"email is not a user name", &AccessRules{Emails: []string{"alice@example.com"}}, person{"alice@example.com", "", nil}, false},
		{"no email", &AccessRules{Emails: []string{"*@example.com"}}, person{"alice", "", nil}, false},
		{"domain", &AccessRules{Emails: []string{"*@example.com"}}, person{"a", "anyone@example.com", nil}, true},
		{"domain case-insensitive", &AccessRules{Emails: []string{"*@EXAMPLE.com"}}, person{"a", "Anyone@Example.Com", nil}, true},
		{"domain leaves out subdomains", &AccessRules{Emails: []string{"*@example.com"}}, person{"a", "a@mail.example.com", nil}, false},
		{"domain leaves out look-alike suffix", &AccessRules{Emails: []string{"*@example.com"}}, person{"a", "a@evil-example.com", nil}, false},
		{"domain leaves out a longer domain", &AccessRules{Emails: []string{"*@example.com"}}, person{"a", "a@example.com.evil.net", nil}, false},
		{"domain leaves out a trailing dot", &AccessRules{Emails: []string{"*@example.com"}}, person{"a", "a@example.com.", nil}, false},
		{"domain is after the last @", &AccessRules{Emails: []string{"*@example.com"}}, person{"a", `"x@example.com"@evil.net`, nil}, false},
		{"quoted local part with @", &AccessRules{Emails: []string{"*@example.com"}}, person{"a", `"x@evil.net"@example.com`, nil}, true},
		{"email without @", &AccessRules{Emails: []string{"*@example.com"}}, person{"a", "example.com", nil}, false},
		{"email that is only the domain part", &AccessRules{Emails: []string{"*@example.com"}}, person{"a", "@example.com", nil}, false},
		{"subdomain rule leaves out parent", &AccessRules{Emails: []string{"*@mail.example.com"}}, person{"a", "a@example.com", nil}, false},
		{"any one rule: user", &AccessRules{Users: []string{"carol"}, Groups: []string{"pilot"}, Emails: []string{"*@example.org"}}, person{"carol", "c@example.com", nil}, true},
		{"any one rule: group", &AccessRules{Users: []string{"carol"}, Groups: []string{"pilot"}, Emails: []string{"*@example.org"}}, person{"bob", "b@example.com", []string{"pilot"}}, true},
		{"any one rule: email", &AccessRules{Users: []string{"carol"}, Groups: []string{"pilot"}, Emails: []string{"*@example.org"}}, person{"bob", "b@example.org", []string{"staff"}}, true},
		{"any one rule: none", &AccessRules{Users: []string{"carol"}, Groups: []string{"pilot"}, Emails: []string{"*@example.org"}}, person{"bob", "b@example.com", []string{"staff"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAccess(tt.rules)
			if err != nil {
				t.Fatalf("NewAccess: %v", err)
			}
			if got := a.Allows(tt.who.user, tt.who.email, tt.who.groups); got != tt.want {
				t.Errorf("Allows(%q, %q, %q) = %v, want %v", tt.who.user, tt.who.email, tt.who.groups, got, tt.want)
			}
		})
	}
}

func TestAccessRulesValidate(t *testing.T) {
	good := []string{"alice@example.com", "*@example.com", "*@sub.example.co.uk", "first.last+tag@example.com", "ALICE@EXAMPLE.COM", "a@localhost"}
	for _, p := range good {
		if err := ValidateEmailPattern(p); err != nil {
			t.Errorf("ValidateEmailPattern(%q) = %v, want nil", p, err)
		}
	}
	bad := map[string]string{
		"*@":                "no domain",
		"@x":                "nothing before",
		"a@":                "no domain",
		"a@*":               "wildcard",
		"*@*":               "wildcard",
		"*@*.example.com":   "wildcard",
		"*a@example.com":    "only wildcard",
		"a*@example.com":    "only wildcard",
		"*":                 "not an email",
		"example.com":       "not an email",
		"":                  "not an email",
		"a@b@c":             "more than one @",
		"*@a@b":             "more than one @",
		"a@.example.com":    "malformed domain",
		"*@example..com":    "malformed domain",
		"*@example.com.":    "malformed domain",
		"a b@example.com":   "space",
		"a@exa\tmple.com":   "control",
		"*@exa mple.com":    "space",
		"a@example.com\x7f": "control",
	}
	for p, want := range bad {
		err := ValidateEmailPattern(p)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateEmailPattern(%q) = %v, want an error saying %q", p, err, want)
		}
	}

	rules := map[string]*AccessRules{
		"names no":              {},
		"empty user":            {Users: []string{""}},
		"empty group":           {Groups: []string{" "}},
		"allow emails: \"a@*\"": {Emails: []string{"alice@example.com", "a@*"}},
	}
	for want, r := range rules {
		if _, err := NewAccess(r); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewAccess(%+v) = %v, want an error saying %q", r, err, want)
		}
	}
	if a, err := NewAccess(nil); a != nil || err != nil {
		t.Errorf("NewAccess(nil) = %v, %v; want nil, nil (everyone)", a, err)
	}
}

func TestAccessAllowsLowerCaseEmailWithoutAllocating(t *testing.T) {
	a, err := NewAccess(&AccessRules{Groups: []string{"pilot"}, Emails: []string{"*@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	groups := []string{"staff", "eng"}
	if n := testing.AllocsPerRun(100, func() { a.Allows("bob", "bob@example.org", groups) }); n != 0 {
		t.Errorf("Allows allocates %v times per call, want 0", n)
	}
}

// BenchmarkAccessAllows measures the request path's check with a person let
// in only by the last rule checked (their email's domain).
func BenchmarkAccessAllows(b *testing.B) {
	a, err := NewAccess(&AccessRules{
		Users:  []string{"carol", "dave"},
		Groups: []string{"ops", "admins"},
		Emails: []string{"erin@example.org", "*@example.com"},
	})
	if err != nil {
		b.Fatal(err)
	}
	groups := []string{"staff", "pilot"}
	b.ReportAllocs()
	for b.Loop() {
		if !a.Allows("alice", "alice@example.com", groups) {
			b.Fatal("refused")
		}
	}
}
