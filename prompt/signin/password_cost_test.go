package signin

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// verifications returns the parameters of each hash that one sign-in
// attempt computed.
func verifications(u *UsersFile, user, password string) []string {
	var got []string
	u.onVerify = func(params string) { got = append(got, params) }
	defer func() { u.onVerify = nil }()
	u.Authenticate(user, password)
	return got
}

// TestUnknownUserCostsTheSameHashWorkAsKnownUser counts the hash
// computations of a wrong password for each demo user and for unknown
// names: the same number, with the same parameters.
func TestUnknownUserCostsTheSameHashWorkAsKnownUser(t *testing.T) {
	u, err := LoadUsersFile(filepath.Join("..", "..", "docs", "demo", "users.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if w := u.Warnings(); len(w) != 0 {
		t.Errorf("the demo users file mixes costs: %q", w)
	}
	want := verifications(u, "alice", "wrong")
	if len(want) != 1 {
		t.Fatalf("a wrong password for alice computed %d hashes, want 1", len(want))
	}
	for _, user := range []string{"bob", "carol", "nobody", "ALICE2"} {
		if got := verifications(u, user, "wrong"); !slices.Equal(got, want) {
			t.Errorf("a wrong password for %s computed %q, alice %q", user, got, want)
		}
	}
	if got := verifications(u, "alice", "trustgate-demo"); !slices.Equal(got, want) {
		t.Errorf("the right password for alice computed %q, a wrong one %q", got, want)
	}
}

// TestUnknownUserHashTakesTheMajorityParameters checks that unknown names
// are checked against a hash with the parameters most users have, wherever
// those users stand in the file, and that the dummy is no user's hash.
func TestUnknownUserHashTakesTheMajorityParameters(t *testing.T) {
	for name, order := range map[string][]string{
		"majority first": {"bcrypt", "bcrypt", "argon2id"},
		"majority last":  {"argon2id", "bcrypt", "bcrypt"},
		"minority last":  {"bcrypt", "argon2id", "bcrypt"},
	} {
		t.Run(name, func(t *testing.T) {
			var doc strings.Builder
			doc.WriteString("users:\n")
			for i, alg := range order {
				hash := bcryptDemoHash
				if alg == "argon2id" {
					hash = argon2idDemoHash
				}
				doc.WriteString("  - username: user" + string(rune('a'+i)) + "\n    password_hash: \"" + hash + "\"\n")
			}
			u, err := ParseUsers([]byte(doc.String()), ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			got := verifications(u, "nobody", "trustgate-demo")
			if want := []string{"bcrypt cost=4"}; !slices.Equal(got, want) {
				t.Fatalf("unknown name computed %q, want %q", got, want)
			}
			if _, known, ok := u.Authenticate("nobody", "trustgate-demo"); ok || known {
				t.Fatal("an unknown name was accepted with a user's password")
			}
		})
	}
	// Every user with argon2id: the dummy has the same memory, passes,
	// threads and key length.
	u, err := ParseUsers([]byte(`{"users":[{"username":"a","password_hash":"`+argon2idDemoHash+`"}]}`), ".json")
	if err != nil {
		t.Fatal(err)
	}
	want := "argon2id m=1024,t=1,p=1,keylen=32"
	if got := verifications(u, "nobody", "x"); !slices.Equal(got, []string{want}) {
		t.Fatalf("unknown name computed %q, want %q", got, want)
	}
	if d := u.dummy.(*argon2idHash); len(d.salt) != 16 || string(d.salt) == "saltsaltsaltsalt" {
		t.Fatalf("dummy salt %q: want 16 fresh random bytes", d.salt)
	}
}

// TestUsersFileWithMixedCostsWarns checks the warning a file with mixed
// algorithms or costs gets: it names the users of each kind and never a
// hash; a file with one kind gets none.
func TestUsersFileWithMixedCostsWarns(t *testing.T) {
	doc := "users:\n" +
		"  - username: alice\n    password_hash: \"" + argon2idDemoHash + "\"\n" +
		"  - username: bob\n    password_hash: \"" + bcryptDemoHash + "\"\n" +
		"  - username: carol\n    password_hash: \"" + bcryptDemoHash + "\"\n"
	u, err := ParseUsers([]byte(doc), ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := u.Warnings()
	if len(w) != 1 {
		t.Fatalf("warnings: %q, want one", w)
	}
	for _, want := range []string{"mixes", "argon2id m=1024,t=1,p=1,keylen=32: 1 user (alice)", "bcrypt cost=4: 2 users (bob, carol)", "checked against bcrypt cost=4"} {
		if !strings.Contains(w[0], want) {
			t.Errorf("warning lacks %q: %s", want, w[0])
		}
	}
	for _, secret := range []string{bcryptDemoHash, bcryptDemoHash[7:29], "c2FsdHNhbHRzYWx0c2FsdA", "$argon2id$", "$2a$"} {
		if strings.Contains(w[0], secret) {
			t.Errorf("warning shows a hash or salt (%q): %s", secret, w[0])
		}
	}

	uniform := "users:\n  - username: bob\n    password_hash: \"" + bcryptDemoHash + "\"\n  - username: carol\n    password_hash: \"" + bcryptDemoHash + "\"\n"
	if u, err = ParseUsers([]byte(uniform), ".yaml"); err != nil {
		t.Fatal(err)
	}
	if w := u.Warnings(); len(w) != 0 {
		t.Errorf("a file with one algorithm and cost warned: %q", w)
	}

	var many strings.Builder
	many.WriteString("users:\n  - username: odd\n    password_hash: \"" + argon2idDemoHash + "\"\n")
	for i := range 7 {
		many.WriteString("  - username: u" + string(rune('0'+i)) + "\n    password_hash: \"" + bcryptDemoHash + "\"\n")
	}
	if u, err = ParseUsers([]byte(many.String()), ".yaml"); err != nil {
		t.Fatal(err)
	}
	if w := u.Warnings(); len(w) != 1 || !strings.Contains(w[0], "7 users (u0, u1, u2, u3, u4 and 2 more)") {
		t.Errorf("warning for many users: %q", w)
	}
}
