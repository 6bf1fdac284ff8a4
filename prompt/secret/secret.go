// Package secret holds the few primitives every part of the gateway uses
// for one-time values: making an unguessable token, hashing a secret for
// storage, and comparing secrets in constant time. It imports nothing of
// the gateway, so any package may use it without an import cycle.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// Token returns 32 random bytes, base64url-encoded without padding, for
// values that must be unguessable and used once: state, nonce, CSRF
// tokens, session IDs.
func Token() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash returns the hash under which a one-time secret (activation code,
// return code) is stored, so that the store never holds a usable one:
// SHA-256, base64url-encoded without padding.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Equal compares two secrets in constant time; an empty one never
// matches.
func Equal(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
