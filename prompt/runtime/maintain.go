package runtime

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/store"
)

// listen applies the events other instances send through the store until
// ctx ends: a login request wakes this instance's long-polls of the device,
// a revocation drops the device's cached decisions, a new active inventory
// is reloaded, and a resync (events were lost) drops every decision and
// rereads what the lost events may have changed.
func (s *Shared) listen(ctx context.Context, n store.Notifier) {
	err := n.Listen(ctx, func(e store.Event) {
		switch e.Kind {
		case store.EventPush:
			s.waker.Notify(e.ID)
		case store.EventRevoke:
			s.trustCache.RevokeDevice(e.ID)
		case store.EventSessionRevoked, store.EventUserSessionsRevoked:
			s.revocations.ApplyEvent(e)
		case store.EventInventory:
			s.inventoryReloadDue()
		case store.EventResync:
			// Events may have been lost: held long-polls look at the
			// store again, and cached trust is decided afresh.
			s.waker.NotifyAll()
			s.trustCache.Purge()
			s.logger.Info("store events resynchronised: trust cache emptied")
			s.RefreshRevocations(ctx)
			s.inventoryReloadDue()
		}
	})
	if err != nil && ctx.Err() == nil {
		s.logger.Error("listening for store events stopped", zap.Error(err))
	}
}

// maintain rereads the cookie keys and purges expired records until the
// state is closed, and meanwhile runs the work that may take longer
// (listening for events, reloading the inventory, retention) beside its
// loop.
func (s *Shared) maintain() {
	defer close(s.done)
	ctx, cancel := context.WithCancel(context.Background())
	var background sync.WaitGroup
	defer func() {
		cancel()
		background.Wait()
	}()
	if n, ok := s.store.(store.Notifier); ok {
		background.Go(func() { s.listen(ctx, n) })
	}
	background.Go(func() { s.reloadInventoryWhenDue(ctx) })
	background.Go(func() { s.retainEvery(ctx, retentionInterval) })
	refresh := time.NewTicker(keyRefreshInterval)
	defer refresh.Stop()
	purge := time.NewTicker(time.Hour)
	defer purge.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-refresh.C:
			s.refresh()
		case <-purge.C:
			s.purge()
		}
	}
}

// refresh rereads what other instances may have changed: the cookie keys,
// the signing keys (rotating when due), the session revocations and the
// active inventory (which costs one listing when it did not change). With
// events it catches up after lost ones; without (SQLite shared by two
// processes) it is how a change made by the other process arrives.
func (s *Shared) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.refreshKeys(ctx); err != nil {
		s.logger.Warn("refreshing cookie keys", zap.Error(err))
	}
	s.MaintainSigningKeys(ctx, time.Now())
	s.RefreshRevocations(ctx)
	s.inventoryReloadDue()
}

// purge deletes expired single-use records and old failures.
func (s *Shared) purge() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Failures older than a day no longer count towards any lockout.
	if err := s.store.Purge(ctx, time.Now().Add(-24*time.Hour)); err != nil {
		s.logger.Warn("purging expired records", zap.Error(err))
	}
}

// RefreshRevocations rereads the session revocations from the store. With
// events (PostgreSQL) it catches up after lost ones; without (SQLite
// shared by two processes) it is how a revocation made by the other
// process arrives, within keyRefreshInterval.
func (s *Shared) RefreshRevocations(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.revocations.Refresh(ctx, s.store, time.Now()); err != nil {
		s.logger.Warn("refreshing session revocations", zap.Error(err))
	}
}
