package signin

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// passwordHash is a parsed password hash from the users file. Hashes are
// parsed once when the file is loaded so that a malformed hash is an error at
// startup rather than a failed login.
type passwordHash interface {
	// matches reports whether password hashes to this value.
	matches(password string) bool
	hashCost // see password_cost.go
}

// parsePasswordHash accepts the two formats that `trustgate hash-password`
// writes: bcrypt ($2a$, $2b$, $2y$) and argon2id in PHC string form
// ($argon2id$v=19$m=...,t=...,p=...$salt$key).
func parsePasswordHash(s string) (passwordHash, error) {
	switch {
	case strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"), strings.HasPrefix(s, "$2y$"):
		if _, err := bcrypt.Cost([]byte(s)); err != nil {
			return nil, fmt.Errorf("malformed bcrypt hash: %w", err)
		}
		return bcryptHash(s), nil
	case strings.HasPrefix(s, "$argon2id$"):
		return parseArgon2id(s)
	case s == "":
		return nil, errors.New("empty password hash")
	default:
		return nil, errors.New("unsupported password hash: want bcrypt ($2a$...) or argon2id ($argon2id$...); make one with 'trustgate hash-password'")
	}
}

type bcryptHash string

func (h bcryptHash) matches(password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(h), []byte(password)) == nil
}

type argon2idHash struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// Bounds on argon2id parameters, so that a hash in the users file cannot make
// every login allocate gigabytes.
const (
	maxArgon2Memory = 1 << 20 // KiB, 1 GiB
	maxArgon2Time   = 64
	maxArgon2KeyLen = 128
)

func parseArgon2id(s string) (*argon2idHash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 {
		return nil, errors.New("malformed argon2id hash: want $argon2id$v=19$m=...,t=...,p=...$salt$key")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, fmt.Errorf("unsupported argon2id version %q", parts[2])
	}
	var h argon2idHash
	for _, param := range strings.Split(parts[3], ",") {
		name, value, ok := strings.Cut(param, "=")
		if !ok {
			return nil, fmt.Errorf("malformed argon2id parameter %q", param)
		}
		n, err := strconv.ParseUint(value, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("malformed argon2id parameter %q: %w", param, err)
		}
		switch name {
		case "m":
			h.memory = uint32(n)
		case "t":
			h.time = uint32(n)
		case "p":
			if n > 255 {
				return nil, fmt.Errorf("argon2id parallelism %d out of range", n)
			}
			h.threads = uint8(n)
		default:
			return nil, fmt.Errorf("unknown argon2id parameter %q", name)
		}
	}
	if h.memory == 0 || h.time == 0 || h.threads == 0 {
		return nil, errors.New("argon2id hash needs m, t and p greater than zero")
	}
	if h.memory > maxArgon2Memory || h.time > maxArgon2Time {
		return nil, fmt.Errorf("argon2id parameters too large (m=%d KiB, t=%d)", h.memory, h.time)
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return nil, fmt.Errorf("malformed argon2id salt: %w", err)
	}
	if h.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil {
		return nil, fmt.Errorf("malformed argon2id key: %w", err)
	}
	if len(h.key) < 16 || len(h.key) > maxArgon2KeyLen {
		return nil, fmt.Errorf("argon2id key length %d out of range", len(h.key))
	}
	return &h, nil
}

func (h *argon2idHash) matches(password string) bool {
	key := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1
}
