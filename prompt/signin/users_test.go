package signin

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Hashes of "trustgate-demo" in the formats `trustgate hash-password`
// writes, made with cheap parameters so the tests stay fast under -race
// (the binary's own output is checked in cmd/trustgate).
var (
	argon2idDemoHash = func() string {
		salt := []byte("saltsaltsaltsalt")
		key := argon2.IDKey([]byte("trustgate-demo"), salt, 1, 1024, 1, 32)
		return "$argon2id$v=19$m=1024,t=1,p=1$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(key)
	}()
	bcryptDemoHash = func() string {
		h, err := bcrypt.GenerateFromPassword([]byte("trustgate-demo"), bcrypt.MinCost)
		if err != nil {
			panic(err)
		}
		return string(h)
	}()
)

func TestUsersFileAcceptsArgon2idAndBcryptInYAMLAndJSON(t *testing.T) {
	yamlDoc := "users:\n  - username: alice\n    password_hash: \"" + argon2idDemoHash + "\"\n    email: alice@example.com\n    groups: [staff, pilot]\n" +
		"  - username: bob\n    password_hash: \"" + bcryptDemoHash + "\"\n"
	jsonDoc := `{"users":[{"username":"alice","password_hash":"` + argon2idDemoHash + `","email":"alice@example.com","groups":["staff","pilot"]},` +
		`{"username":"bob","password_hash":"` + bcryptDemoHash + `"}]}`
	for name, doc := range map[string]struct{ data, ext string }{
		"yaml": {yamlDoc, ".yaml"}, "json": {jsonDoc, ".json"}, "json sniffed": {jsonDoc, ""}, "yaml sniffed": {yamlDoc, ".txt"},
	} {
		t.Run(name, func(t *testing.T) {
			u, err := ParseUsers([]byte(doc.data), doc.ext)
			if err != nil {
				t.Fatal(err)
			}
			id, known, ok := u.Authenticate("Alice", "trustgate-demo")
			if !ok || !known || id.User != "alice" || id.Email != "alice@example.com" || strings.Join(id.Groups, ",") != "staff,pilot" {
				t.Fatalf("alice: %+v known=%v ok=%v", id, known, ok)
			}
			if _, known, ok := u.Authenticate("bob", "trustgate-demo"); !ok || !known {
				t.Fatal("bob's bcrypt hash refused the right password")
			}
			if _, known, ok := u.Authenticate("bob", "wrong"); ok || !known {
				t.Fatal("wrong password accepted")
			}
			if _, known, ok := u.Authenticate("carol", "trustgate-demo"); ok || known {
				t.Fatal("unknown user accepted")
			}
		})
	}
}

func TestUsersFileRefusesMalformedEntries(t *testing.T) {
	cases := map[string]string{
		"empty":             ``,
		"no users":          `users: []`,
		"unknown field":     "users:\n  - username: a\n    password: plain\n",
		"empty username":    "users:\n  - username: \"\"\n    password_hash: \"" + bcryptDemoHash + "\"\n",
		"duplicate user":    "users:\n  - username: a\n    password_hash: \"" + bcryptDemoHash + "\"\n  - username: A\n    password_hash: \"" + bcryptDemoHash + "\"\n",
		"plaintext hash":    "users:\n  - username: a\n    password_hash: secret\n",
		"truncated bcrypt":  "users:\n  - username: a\n    password_hash: \"$2a$10$abc\"\n",
		"bad argon2 params": "users:\n  - username: a\n    password_hash: \"$argon2id$v=19$m=0,t=1,p=1$c2FsdA$a2V5a2V5a2V5a2V5a2V5\"\n",
		"huge argon2 memory": "users:\n  - username: a\n    password_hash: \"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$" +
			"a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5\"\n",
		"comma in group":    "users:\n  - username: a\n    password_hash: \"" + bcryptDemoHash + "\"\n    groups: [\"a,b\"]\n",
		"space in username": "users:\n  - username: \" a\"\n    password_hash: \"" + bcryptDemoHash + "\"\n",
		"not yaml":          "users: [",
	}
	for name, doc := range cases {
		if _, err := ParseUsers([]byte(doc), ".yaml"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	valid := `{"users":[{"username":"a","password_hash":"` + bcryptDemoHash + `"}]}`
	if _, err := ParseUsers([]byte(valid), ".json"); err != nil {
		t.Fatalf("valid JSON refused: %v", err)
	}
	for _, trailing := range []string{"}", "]", " {}", "x"} {
		if _, err := ParseUsers([]byte(valid+trailing), ".json"); err == nil {
			t.Errorf("JSON with trailing %q accepted", trailing)
		}
	}
}

func TestLoadUsersFileNamesTheFileInErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(path, []byte(`{"users":[{"username":"a","password_hash":"x"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadUsersFile(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"a"`) {
		t.Fatalf("error %v should name the file and the user", err)
	}
	if _, err := LoadUsersFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("missing file accepted")
	}
}
