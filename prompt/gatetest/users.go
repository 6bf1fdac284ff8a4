package gatetest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// User is a person of the test users file.
type User struct {
	Password string
	Email    string
	Groups   []string
}

// Users are the people of the test users file: alice is in the pilot
// group that PilotPolicy checks, bob is not.
var Users = map[string]User{
	"alice": {"correct horse battery", "alice@example.com", []string{"staff", "pilot"}},
	"bob":   {"hunter2hunter2", "bob@example.com", []string{"staff"}},
}

// WriteUsersFile writes Users as a YAML users file (bcrypt cost 4, to
// keep tests fast) in a temporary directory and returns its path.
func WriteUsersFile(t testing.TB) string {
	t.Helper()
	names := make([]string, 0, len(Users))
	for name := range Users {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("users:\n")
	for _, name := range names {
		u := Users[name]
		hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  - username: %s\n    password_hash: %q\n    email: %s\n    groups: [%s]\n",
			name, hash, u.Email, strings.Join(u.Groups, ", "))
	}
	path := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
