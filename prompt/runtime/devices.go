package runtime

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/store"
)

// RevokeDevice revokes a device in the store and drops every trust
// decision cached for it, here at once and on the other instances through
// the store's events: the next request of a session it vouched for is
// checked again. It returns the revoked device; an unknown device is
// store.ErrNotFound. The caller logs the revocation, naming who made it.
func (s *Shared) RevokeDevice(ctx context.Context, id string) (store.Device, error) {
	if err := s.store.RevokeDevice(ctx, id, time.Now()); err != nil {
		return store.Device{}, fmt.Errorf("revoking device %s: %w", id, err)
	}
	// After the store, so a decision made before the revocation cannot
	// outlive it in this cache.
	s.trustCache.RevokeDevice(id)
	if n, ok := s.store.(store.Notifier); ok {
		// Every other instance drops its decisions for the device at once.
		if err := n.Notify(ctx, store.Event{Kind: store.EventRevoke, ID: id}); err != nil {
			s.logger.Error("telling other instances about a revocation; they notice on their next cache miss", zap.String("device_id", id), zap.Error(err))
		}
	}
	device, err := s.store.Device(ctx, id)
	if err != nil {
		return store.Device{}, fmt.Errorf("reading revoked device %s: %w", id, err)
	}
	return device, nil
}
