package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestUsersFileWithMixedCostsWarnsAtStart checks that a users file whose
// hashes differ in cost is reported in the log when the configuration
// loads, naming the users and never a hash.
func TestUsersFileWithMixedCostsWarnsAtStart(t *testing.T) {
	dir := t.TempDir()
	var users strings.Builder
	users.WriteString("users:\n")
	var hashes []string
	for _, u := range []struct {
		name string
		cost int
	}{{"alice", bcrypt.MinCost}, {"bob", bcrypt.MinCost}, {"carol", bcrypt.MinCost + 1}} {
		h, err := bcrypt.GenerateFromPassword([]byte("s3cret-pass"), u.cost)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, string(h))
		fmt.Fprintf(&users, "  - username: %s\n    password_hash: %q\n", u.name, h)
	}
	usersPath := filepath.Join(dir, "users.yaml")
	cfgPath := filepath.Join(dir, "Caddyfile")
	cfg := fmt.Sprintf("http://localhost:%d {\n\ttrusted_endpoints {\n\t\tlogin users_file %s\n\t}\n\trespond ok\n}\n", freePort(t), usersPath)
	for path, data := range map[string]string{usersPath: users.String(), cfgPath: cfg} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(binary, "validate", "--config", cfgPath, "--adapter", "caddyfile")
	cmd.Dir, cmd.Env = dir, isolatedEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("validate: %v\n%s", err, out)
	}
	log := string(out)
	for _, want := range []string{`"level":"warn"`, "mixes password hash algorithms or costs", "bcrypt cost=4: 2 users (alice, bob)", "bcrypt cost=5: 1 user (carol)", usersPath} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	for _, h := range hashes {
		if strings.Contains(log, h[7:29]) {
			t.Errorf("log shows a hash's salt:\n%s", log)
		}
	}
}
