package runtime

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/assertion"
	"github.com/trustgate/trustgate/prompt/store"
)

// signingKeys is the shared state's part for upstream assertions: the keys,
// kept in the store like the cookie keys so that every instance signs with
// the same ones, and the automatic rotation period of the latest
// configuration.
type signingKeys struct {
	keys *assertion.SigningKeys

	mu       sync.Mutex
	rotation time.Duration // 0: never
}

// loadSigningKeys stores a first signing key if the store has none, and
// returns the stored keys. The first key signs at once: no upstream knows
// any key yet.
func loadSigningKeys(ctx context.Context, st store.SigningKeyStore) (*signingKeys, error) {
	now := time.Now()
	candidate, err := assertion.NewSigningKey(now, now)
	if err != nil {
		return nil, err
	}
	stored, err := st.InitSigningKeys(ctx, candidate)
	if err != nil {
		return nil, fmt.Errorf("initialising signing keys: %w", err)
	}
	keys, err := assertion.NewSigningKeys(stored)
	if err != nil {
		return nil, fmt.Errorf("loading signing keys: %w", err)
	}
	return &signingKeys{keys: keys}, nil
}

// SigningKeys returns the keys that sign upstream assertions.
func (s *Shared) SigningKeys() *assertion.SigningKeys { return s.signing.keys }

// SetSigningKeyRotation makes period the automatic rotation period of the
// signing key: MaintainSigningKeys rotates once the newest key is that
// old. Zero never rotates automatically.
func (s *Shared) SetSigningKeyRotation(period time.Duration) {
	s.signing.mu.Lock()
	s.signing.rotation = period
	s.signing.mu.Unlock()
}

// refreshSigningKeys rereads the signing keys, so that a key rotated on
// another instance is published here too, well before it signs.
func (s *Shared) refreshSigningKeys(ctx context.Context) error {
	stored, err := s.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("loading signing keys: %w", err)
	}
	return s.signing.keys.SetKeys(stored)
}

// MaintainSigningKeys refreshes the signing keys and, when the newest one
// is older than the rotation period at now, rotates. Instances sharing a
// store may rotate at the same moment; the extra key is harmless, as every
// key is published before it signs. It runs every keyRefreshInterval.
func (s *Shared) MaintainSigningKeys(ctx context.Context, now time.Time) {
	stored, err := s.store.SigningKeys(ctx)
	if err != nil {
		s.logger.Warn("refreshing signing keys", zap.Error(err))
		return
	}
	s.signing.mu.Lock()
	rotation := s.signing.rotation
	s.signing.mu.Unlock()
	if rotation > 0 && len(stored) > 0 && now.Sub(stored[0].Created) >= rotation {
		key, err := s.RotateSigningKey(ctx, now, false)
		if err != nil {
			s.logger.Error("rotating the signing key", zap.Error(err))
			return
		}
		s.logger.Info("signing key rotated", zap.String("kid", key.ID), zap.Time("activates", key.Activates))
		return
	}
	if err := s.signing.keys.SetKeys(stored); err != nil {
		s.logger.Warn("refreshing signing keys", zap.Error(err))
	}
}

// RotateSigningKey adds a new signing key made at now and reloads the keys.
// The key signs once every instance and every upstream's cached key set
// has learnt it (prompt.SigningKeyPropagationDelay), or at once when
// immediate: after a key leaked, for example, at the price of upstreams
// that cached the key set refusing tokens until they fetch it again.
func (s *Shared) RotateSigningKey(ctx context.Context, now time.Time, immediate bool) (store.SigningKey, error) {
	activates := now.Add(assertion.SigningKeyPropagationDelay)
	if immediate {
		activates = now
	}
	key, err := assertion.NewSigningKey(now, activates)
	if err != nil {
		return store.SigningKey{}, err
	}
	if err := s.store.AddSigningKey(ctx, key); err != nil {
		return store.SigningKey{}, fmt.Errorf("storing signing key: %w", err)
	}
	return key, s.refreshSigningKeys(ctx)
}
