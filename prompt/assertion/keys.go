package assertion

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/trustgate/trustgate/prompt/store"
)

// NewSigningKey makes a random ECDSA P-256 signing key created at created
// that signs from activates on: created for the first key of a store, and
// created + SigningKeyPropagationDelay for a rotation.
func NewSigningKey(created, activates time.Time) (store.SigningKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("generating signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("encoding signing key: %w", err)
	}
	id := make([]byte, 8)
	rand.Read(id) // never fails since Go 1.24
	return store.SigningKey{
		ID:         hex.EncodeToString(id),
		PrivateKey: der,
		Created:    created.UTC(),
		Activates:  activates.UTC(),
	}, nil
}

// SigningKeys is the set of keys that sign assertions: the newest key whose
// activation time has come signs, and every key is published until the
// tokens it may have signed have expired. It is safe for concurrent use and
// its keys can be replaced while it serves.
type SigningKeys struct {
	mu sync.RWMutex
	// keys are newest first, in the store's order.
	keys []*signingKey
}

// signingKey is one parsed key, ready to sign.
type signingKey struct {
	id         string
	activates  time.Time
	public     jose.JSONWebKey
	signer     jose.Signer
	privateDER []byte // to tell a changed key from an unchanged one
}

// NewSigningKeys returns a key set for keys, newest first.
func NewSigningKeys(keys []store.SigningKey) (*SigningKeys, error) {
	k := new(SigningKeys)
	if err := k.SetKeys(keys); err != nil {
		return nil, err
	}
	return k, nil
}

// SetKeys replaces the keys (newest first). Keys it already holds are
// reused, so refreshing from the store every few seconds costs little.
func (k *SigningKeys) SetKeys(keys []store.SigningKey) error {
	if len(keys) == 0 {
		return errors.New("no signing keys")
	}
	k.mu.RLock()
	held := make(map[string]*signingKey, len(k.keys))
	for _, sk := range k.keys {
		held[sk.id] = sk
	}
	k.mu.RUnlock()
	parsed := make([]*signingKey, 0, len(keys))
	for _, key := range keys {
		if sk := held[key.ID]; sk != nil && string(sk.privateDER) == string(key.PrivateKey) && sk.activates.Equal(key.Activates) {
			parsed = append(parsed, sk)
			continue
		}
		sk, err := parseSigningKey(key)
		if err != nil {
			return fmt.Errorf("signing key %s: %w", key.ID, err)
		}
		parsed = append(parsed, sk)
	}
	k.mu.Lock()
	k.keys = parsed
	k.mu.Unlock()
	return nil
}

func parseSigningKey(key store.SigningKey) (*signingKey, error) {
	if key.ID == "" {
		return nil, errors.New("no key ID")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(key.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 key")
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: key.ID, Algorithm: string(jose.ES256)}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("making signer: %w", err)
	}
	return &signingKey{
		id:         key.ID,
		activates:  key.Activates,
		public:     jose.JSONWebKey{Key: &priv.PublicKey, KeyID: key.ID, Algorithm: string(jose.ES256), Use: "sig"},
		signer:     signer,
		privateDER: key.PrivateKey,
	}, nil
}

// KeyIDs returns the IDs of every key held, newest first.
func (k *SigningKeys) KeyIDs() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ids := make([]string, len(k.keys))
	for i, sk := range k.keys {
		ids[i] = sk.id
	}
	return ids
}

// SigningKeyID returns the ID of the key that signs at now.
func (k *SigningKeys) SigningKeyID(now time.Time) string {
	return k.active(now).id
}

// active returns the newest key whose activation has come, or the oldest
// key when none has (a store whose keys all came from a clock running
// ahead).
func (k *SigningKeys) active(now time.Time) *signingKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	for _, sk := range k.keys {
		if !sk.activates.After(now) {
			return sk
		}
	}
	return k.keys[len(k.keys)-1]
}

// PublishedKeyIDs returns the IDs of the keys published at now, newest
// first.
func (k *SigningKeys) PublishedKeyIDs(now time.Time) []string {
	var ids []string
	for _, pk := range k.published(now) {
		ids = append(ids, pk.KeyID)
	}
	return ids
}

// published returns the public keys an upstream needs at now: those not
// active yet, the active one, and older ones while a token they signed may
// still be valid. An older key stopped signing once a newer one activated,
// so it is kept until the earliest activation among the newer keys plus
// MaxLifetime and SigningKeyPropagationDelay.
func (k *SigningKeys) published(now time.Time) []jose.JSONWebKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	keys := make([]jose.JSONWebKey, 0, len(k.keys))
	var replacedAt time.Time // earliest activation among newer keys
	for i, sk := range k.keys {
		if i == 0 || now.Before(replacedAt.Add(MaxLifetime+SigningKeyPropagationDelay)) {
			keys = append(keys, sk.public)
		}
		if i == 0 || sk.activates.Before(replacedAt) {
			replacedAt = sk.activates
		}
	}
	return keys
}

// JWKS returns the published public keys at now as a JSON Web Key Set.
func (k *SigningKeys) JWKS(now time.Time) ([]byte, error) {
	return json.Marshal(jose.JSONWebKeySet{Keys: k.published(now)})
}
