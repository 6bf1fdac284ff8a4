package runtime

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
)

// keyRefreshInterval is how often an instance rereads the cookie keys, so a
// key rotated on one instance reaches the others well within
// session.KeyPropagationDelay.
const keyRefreshInterval = 30 * time.Second

// Options are the settings a Shared starts with.
type Options struct {
	// TrustCacheSize is how many device-trust decisions are kept in
	// memory; it must be positive.
	TrustCacheSize int
	// Logger receives what the background work has to say. Default: none.
	Logger *zap.Logger
}

// Shared is what every configuration using one store shares, and the
// background work that keeps it current. It is safe for concurrent use.
type Shared struct {
	store      store.Store
	cookies    *session.CookieCodec
	trustCache *device.TrustCache
	waker      *device.Waker
	signing    *signingKeys
	logger     *zap.Logger

	mu         sync.Mutex
	configured []store.CookieKey
	retention  Retention // of the latest configuration

	stop chan struct{}
	done chan struct{}

	// revocations are the sessions ended on the server, kept current by
	// the store's events and reread every keyRefreshInterval.
	revocations *session.Revocations

	// inventory is the active inventory of managed devices, reloaded on
	// the store's inventory events and every keyRefreshInterval;
	// inventoryDue asks the goroutine that reloads it for a reload.
	inventory    *inventory.Active
	inventoryDue chan struct{}
	fetching     inventoryFetching // of the inventory, when configured
}

// Start loads the cookie keys, signing keys and session revocations from
// st (storing a first cookie key and signing key if it has none) and
// starts the background work. Start takes st over: Close closes it, and so
// does Start when it fails. ctx bounds the loading only.
func Start(ctx context.Context, st store.Store, opts Options) (*Shared, error) {
	s, err := load(ctx, st, opts)
	if err != nil {
		st.Close()
		return nil, err
	}
	go s.maintain()
	return s, nil
}

// load builds a Shared from what st holds, without starting anything.
func load(ctx context.Context, st store.Store, opts Options) (*Shared, error) {
	trustCache, err := device.NewTrustCache(opts.TrustCacheSize, nil)
	if err != nil {
		return nil, err
	}
	keys, err := st.InitCookieKeys(ctx, session.NewCookieKey(time.Now()))
	if err != nil {
		return nil, fmt.Errorf("initialising cookie keys: %w", err)
	}
	codec, err := session.NewCookieCodec(keys, nil)
	if err != nil {
		return nil, fmt.Errorf("loading cookie keys: %w", err)
	}
	signing, err := loadSigningKeys(ctx, st)
	if err != nil {
		return nil, err
	}
	revocations := session.NewRevocations()
	if err := revocations.Refresh(ctx, st, time.Now()); err != nil {
		return nil, fmt.Errorf("loading session revocations: %w", err)
	}
	inv := new(inventory.Active)
	if _, err := inv.Reload(ctx, st); err != nil {
		return nil, fmt.Errorf("loading the inventory of managed devices: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Shared{
		store:      st,
		cookies:    codec,
		trustCache: trustCache,
		waker:      device.NewWaker(),
		signing:    signing,
		logger:     logger,
		stop:       make(chan struct{}),
		done:       make(chan struct{}),

		revocations:  revocations,
		inventory:    inv,
		inventoryDue: make(chan struct{}, 1),
	}, nil
}

// Close stops the background work and closes the store.
func (s *Shared) Close() error {
	s.fetching.stop()
	close(s.stop)
	<-s.done
	return s.store.Close()
}

// Store returns the store.
func (s *Shared) Store() store.Store { return s.store }

// Cookies returns the session-cookie codec, with the configured keys first
// and then every key kept in the store.
func (s *Shared) Cookies() *session.CookieCodec { return s.cookies }

// TrustCache returns the device-trust cache.
func (s *Shared) TrustCache() *device.TrustCache { return s.trustCache }

// Waker returns the waker of device long-polls.
func (s *Shared) Waker() *device.Waker { return s.waker }

// Inventory returns the active inventory of managed devices, which every
// site's managed-device check looks certificates up in.
func (s *Shared) Inventory() *inventory.Active { return s.inventory }

// Revocations returns the sessions ended on the server.
func (s *Shared) Revocations() *session.Revocations { return s.revocations }

// SetConfiguredCookieKeys makes keys, given by the operator, the first
// keys of the cookie codec (the first one signs new cookies), ahead of the
// stored ones.
func (s *Shared) SetConfiguredCookieKeys(keys []store.CookieKey) error {
	s.mu.Lock()
	s.configured = keys
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.refreshKeys(ctx)
}

// RotateCookieKey adds a new generated cookie key to the store. It starts
// signing new cookies once every instance has had time to learn it; older
// keys keep decoding.
func (s *Shared) RotateCookieKey(ctx context.Context) (store.CookieKey, error) {
	key := session.NewCookieKey(time.Now())
	if err := s.store.AddCookieKey(ctx, key); err != nil {
		return store.CookieKey{}, fmt.Errorf("storing cookie key: %w", err)
	}
	return key, s.refreshKeys(ctx)
}

// refreshKeys loads the stored keys and puts the configured ones first.
func (s *Shared) refreshKeys(ctx context.Context) error {
	stored, err := s.store.CookieKeys(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	keys := append(append([]store.CookieKey(nil), s.configured...), stored...)
	s.mu.Unlock()
	return s.cookies.SetKeys(keys)
}
