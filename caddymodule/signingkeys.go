package caddymodule

import (
	"context"
	"fmt"
	"time"

	"github.com/trustgate/trustgate/prompt/assertion"
	"github.com/trustgate/trustgate/prompt/store"
)

// defaultSigningKeyRotation is the default of App.SigningKeyRotation.
const defaultSigningKeyRotation = 30 * 24 * time.Hour

// minSigningKeyRotation is the shortest automatic rotation period: each
// key is published for prompt.SigningKeyPropagationDelay before it signs,
// and rotating much more often would only fill the store with keys.
const minSigningKeyRotation = time.Hour

// provisionSigningKeys checks App.SigningKeyRotation and puts the resolved
// period into the shared state: the default when unset, never when
// negative.
func (a *App) provisionSigningKeys() error {
	period := time.Duration(a.SigningKeyRotation)
	switch {
	case period == 0:
		period = defaultSigningKeyRotation
	case period < 0:
		period = 0
	case period < minSigningKeyRotation:
		return fmt.Errorf("signing_key_rotation must be at least %s, got %s", minSigningKeyRotation, period)
	}
	a.shared.SetSigningKeyRotation(period)
	return nil
}

// SigningKeys returns the keys that sign upstream assertions, shared by
// every site.
func (a *App) SigningKeys() *assertion.SigningKeys { return a.shared.SigningKeys() }

// RotateSigningKey adds a new signing key to the store; see
// runtime.Shared.RotateSigningKey for when it starts signing.
func (a *App) RotateSigningKey(ctx context.Context, immediate bool) (store.SigningKey, error) {
	return a.shared.RotateSigningKey(ctx, time.Now(), immediate)
}
