package main

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// benchPassword is every bench user's password.
const benchPassword = "bench-password"

// userName is the name of bench user i.
func userName(i int) string { return fmt.Sprintf("user%05d", i) }

// writeUsersFile writes n users in the pilot group, all with benchPassword
// hashed with bcrypt at its minimum cost: the runs measure the gateway, not
// the password hash an operator picks (an argon2id hash as in the users
// file of docs/caddyfile.md costs tens of milliseconds per sign-in on its
// own).
func writeUsersFile(path string, n int) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(benchPassword), bcrypt.MinCost)
	if err != nil {
		return fmt.Errorf("hashing the bench password: %w", err)
	}
	var b strings.Builder
	b.WriteString("users:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - username: %s\n    password_hash: %q\n    groups: [pilot]\n", userName(i), hash)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("writing the users file: %w", err)
	}
	return nil
}
