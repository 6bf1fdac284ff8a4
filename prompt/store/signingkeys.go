package store

import (
	"context"
	"time"
)

// SigningKeyStore keeps the keys that sign the assertions handed to upstream
// applications. Every instance sharing a store signs with the same keys, so
// an upstream verifies a token whichever instance made it, and the keys
// survive restarts.
type SigningKeyStore interface {
	// SigningKeys returns every signing key, newest first.
	SigningKeys(ctx context.Context) ([]SigningKey, error)

	// InitSigningKeys stores candidate only if the store holds no signing
	// key yet, and returns the keys now stored, newest first. Two instances
	// that start at once on an empty store therefore agree on one key.
	InitSigningKeys(ctx context.Context, candidate SigningKey) ([]SigningKey, error)

	// AddSigningKey stores a new key, which becomes the newest whatever its
	// Created time says. It is how keys are rotated: older keys stay, and
	// the gateway keeps publishing them while tokens they signed are valid.
	AddSigningKey(ctx context.Context, key SigningKey) error
}

// SigningKey is one key that signs upstream assertions (ES256).
type SigningKey struct {
	// ID is the key ID (the JWT "kid"); unique within a store.
	ID string
	// PrivateKey is the ECDSA P-256 private key, PKCS #8 DER encoded. It is
	// stored as it is, like the cookie keys: whoever can read the store can
	// sign assertions.
	PrivateKey []byte
	// Created is when the key was made.
	Created time.Time
	// Activates is when the key starts signing: after Created by enough time
	// for every instance and every upstream's cached key set to learn it.
	// Until then it is only published.
	Activates time.Time
}
