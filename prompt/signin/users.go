package signin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// UsersFile is the embedded primary login: a file of users with password
// hashes, email and groups, in JSON or YAML:
//
//	users:
//	  - username: alice
//	    password_hash: "$argon2id$v=19$m=47104,t=1,p=1$..."
//	    email: alice@example.com
//	    groups: [staff, pilot]
//
// The file is read once when the configuration loads; reload the
// configuration to pick up changes.
type UsersFile struct {
	users map[string]fileUser
	// dummy is compared against when the user does not exist, so that a
	// wrong user name costs as much time as a wrong password and timing does
	// not reveal which user names exist. It is a hash of a random password
	// made at load time with the algorithm and parameters most of the
	// file's users have (see password_cost.go).
	dummy passwordHash
	// warnings are what a person should know about the file, e.g. that it
	// mixes hash costs (see Warnings).
	warnings []string
	// onVerify, when set (by tests), is called with the parameters of each
	// hash a password is checked against.
	onVerify func(params string)
}

type fileUser struct {
	identity Identity
	hash     passwordHash
}

type usersDocument struct {
	Users []userRecord `json:"users" yaml:"users"`
}

type userRecord struct {
	Username     string   `json:"username" yaml:"username"`
	PasswordHash string   `json:"password_hash" yaml:"password_hash"`
	Email        string   `json:"email" yaml:"email"`
	Groups       []string `json:"groups" yaml:"groups"`
}

// LoadUsersFile reads and checks a users file. A file with a malformed entry
// is refused whole, with the entry named, so that a typo never silently
// locks a user out or lets one in.
func LoadUsersFile(path string) (*UsersFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading users file: %w", err)
	}
	users, err := ParseUsers(data, filepath.Ext(path))
	if err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	return users, nil
}

// ParseUsers parses the contents of a users file. ext (".json", ".yaml",
// ".yml") selects the format; any other value tries JSON, then YAML.
func ParseUsers(data []byte, ext string) (*UsersFile, error) {
	var doc usersDocument
	var err error
	switch strings.ToLower(ext) {
	case ".json":
		err = decodeStrictJSON(data, &doc)
	case ".yaml", ".yml":
		err = decodeStrictYAML(data, &doc)
	default:
		if err = decodeStrictJSON(data, &doc); err != nil {
			err = decodeStrictYAML(data, &doc)
		}
	}
	if err != nil {
		return nil, err
	}
	if len(doc.Users) == 0 {
		return nil, fmt.Errorf("no users defined (want a top-level \"users\" list)")
	}
	u := &UsersFile{users: make(map[string]fileUser, len(doc.Users))}
	names := make([]string, 0, len(doc.Users))
	hashes := make([]passwordHash, 0, len(doc.Users))
	for i, rec := range doc.Users {
		name := strings.TrimSpace(rec.Username)
		if name == "" {
			return nil, fmt.Errorf("user #%d: empty username", i+1)
		}
		if name != rec.Username || strings.ContainsAny(name, "\r\n\t,") {
			return nil, fmt.Errorf("user #%d (%q): username must not contain spaces at either end, tabs, newlines or commas", i+1, rec.Username)
		}
		key := strings.ToLower(name)
		if _, dup := u.users[key]; dup {
			return nil, fmt.Errorf("user #%d: duplicate username %q", i+1, name)
		}
		hash, err := parsePasswordHash(rec.PasswordHash)
		if err != nil {
			return nil, fmt.Errorf("user #%d (%q): %w", i+1, name, err)
		}
		for _, g := range rec.Groups {
			if g == "" || strings.ContainsAny(g, "\r\n,") {
				return nil, fmt.Errorf("user #%d (%q): group names must be non-empty and contain no commas or newlines", i+1, name)
			}
		}
		names, hashes = append(names, name), append(hashes, hash)
		u.users[key] = fileUser{
			identity: Identity{User: name, Email: rec.Email, Groups: rec.Groups},
			hash:     hash,
		}
	}
	groups := groupByCost(names, hashes)
	common := majority(groups)
	if u.dummy, err = common.first.dummy(); err != nil {
		return nil, err
	}
	if w := mixedCostWarning(groups, common.params); w != "" {
		u.warnings = append(u.warnings, w)
	}
	return u, nil
}

// Warnings returns what the operator should be told about the file when it
// loads: today, that its users' hashes mix algorithms or costs, which lets
// sign-in timing tell them apart. A warning names users, never hashes.
func (u *UsersFile) Warnings() []string { return u.warnings }

func decodeStrictJSON(data []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("parsing JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("parsing JSON: trailing data after the users object")
	}
	return nil
}

func decodeStrictYAML(data []byte, v any) error {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("parsing YAML: %w", err)
	}
	return nil
}

// Authenticate checks a user name (case-insensitive) and password. ok is
// false for an unknown user and for a wrong password alike; known tells them
// apart for the auth log only.
func (u *UsersFile) Authenticate(username, password string) (id Identity, known, ok bool) {
	user, known := u.users[strings.ToLower(strings.TrimSpace(username))]
	if !known {
		u.verify(u.dummy, password)
		return Identity{}, false, false
	}
	if !u.verify(user.hash, password) {
		return Identity{}, true, false
	}
	return user.identity, true, true
}

// verify checks password against h, telling onVerify.
func (u *UsersFile) verify(h passwordHash, password string) bool {
	if u.onVerify != nil {
		u.onVerify(h.params())
	}
	return h.matches(password)
}

// Len returns the number of users in the file.
func (u *UsersFile) Len() int { return len(u.users) }
