package caddymodule

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/pgstore"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

func init() {
	caddy.RegisterModule(App{})
}

// App is the trusted_endpoints app: the state that every site's
// trusted_endpoints handler shares, and that outlives configuration reloads
// (the store, the cookie keys and the device-trust cache). It is configured by the global option of
// the same name; without one it runs with defaults (SQLite in Caddy's data
// directory, generated cookie keys).
type App struct {
	// Storage selects where the gateway keeps its state.
	// Default: SQLite at {data dir}/trustgate/trustgate.db, where the data
	// dir is Caddy's (e.g. ~/.local/share/caddy).
	Storage *StorageConfig `json:"storage,omitempty"`

	// CookieKeys are session-cookie key pairs given by the operator (for
	// example from {env.*} placeholders), newest first. The first one signs
	// new cookies; all of them, and every key kept in the store, still
	// decode. Without any, keys are generated on first start and kept in
	// the store, where every instance finds them.
	CookieKeys []CookieKeyConfig `json:"cookie_keys,omitempty"`

	// TrustCacheSize is how many device-trust decisions (user, device,
	// policy) are kept in memory, shared by every site, so a signed-in
	// request reads no storage. The least recently used decision goes
	// first. Default: 100000.
	TrustCacheSize int `json:"trust_cache_size,omitempty"`

	// Retention says how long the auth log and devices no longer in use
	// are kept; they are deleted in the background, in small batches.
	// Default: auth log 180 days, inactive devices 30 days.
	Retention *RetentionConfig `json:"retention,omitempty"`

	// SigningKeyRotation is how often a new key is made for signing the
	// upstream assertions (a handler's upstream_assertion). Each key is
	// published for 10m before it signs, and stays published while tokens
	// it signed may be valid. Every instance sharing the store uses the
	// same keys. A negative value never rotates automatically (rotate
	// through the admin API). Default: 30d.
	SigningKeyRotation caddy.Duration `json:"signing_key_rotation,omitempty"`

	ctx    caddy.Context
	logger *zap.Logger
	shared *sharedState
	key    string

	// sites are the device policies of this configuration's protected
	// applications, for the what-if API.
	sites *siteRegistry
	// realms are the realms of this configuration's sites.
	realms *realmRegistry
	// carrySessions is set when a dashboard of this configuration is
	// provisioned: the trusted_endpoints handlers then hand each signed-in
	// session on in the request's context. Written only while provisioning,
	// before any request is served.
	carrySessions bool
}

// StorageConfig selects the store backend.
type StorageConfig struct {
	// Backend is "sqlite" (one machine) or "postgres" (several instances
	// sharing one database). Default: sqlite.
	Backend string `json:"backend,omitempty"`
	// Path is the SQLite database file.
	// Default: {data dir}/trustgate/trustgate.db
	Path string `json:"path,omitempty"`
	// DSN is the PostgreSQL connection string (a postgres:// URL or
	// keyword=value pairs), usually {env.TG_DSN} so that no password sits
	// in the config. Required for postgres.
	DSN string `json:"dsn,omitempty"`
}

// CookieKeyConfig is one cookie key pair, each key base64-encoded
// (standard or URL alphabet, padding optional).
type CookieKeyConfig struct {
	// HashKey authenticates cookies; 32 or 64 bytes once decoded.
	HashKey string `json:"hash_key"`
	// BlockKey encrypts cookies; 32 bytes once decoded.
	BlockKey string `json:"block_key"`
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "trusted_endpoints",
		New: func() caddy.Module { return new(App) },
	}
}

// appName is the app's module ID, used to look it up from handlers.
const appName = "trusted_endpoints"

// defaultTrustCacheSize is the default of App.TrustCacheSize.
const defaultTrustCacheSize = 100000

// Provision opens (or reuses, across reloads) the store and loads the cookie
// keys.
func (a *App) Provision(ctx caddy.Context) error {
	a.ctx = ctx
	a.logger = ctx.Logger()
	a.sites = new(siteRegistry)
	a.realms = new(realmRegistry)
	if a.Storage == nil {
		a.Storage = new(StorageConfig)
	}
	if a.Storage.Backend == "" {
		a.Storage.Backend = "sqlite"
	}
	switch a.Storage.Backend {
	case "sqlite":
		if a.Storage.Path == "" {
			a.Storage.Path = filepath.Join(caddy.AppDataDir(), "trustgate", "trustgate.db")
		}
	case "postgres":
		if a.Storage.DSN == "" {
			return errors.New("storage postgres: no connection string (dsn)")
		}
	default:
		return fmt.Errorf("unknown storage backend %q (want sqlite or postgres)", a.Storage.Backend)
	}
	if a.TrustCacheSize < 0 {
		return fmt.Errorf("trust_cache_size must not be negative, got %d", a.TrustCacheSize)
	}
	if a.TrustCacheSize == 0 {
		a.TrustCacheSize = defaultTrustCacheSize
	}
	repl := caddy.NewReplacer()
	a.Storage.Path = repl.ReplaceKnown(a.Storage.Path, "")
	dsn := repl.ReplaceKnown(a.Storage.DSN, "")
	keyConfigs := make([]CookieKeyConfig, len(a.CookieKeys))
	for i, k := range a.CookieKeys {
		keyConfigs[i] = CookieKeyConfig{HashKey: repl.ReplaceKnown(k.HashKey, ""), BlockKey: repl.ReplaceKnown(k.BlockKey, "")}
	}
	configured, err := decodeCookieKeys(keyConfigs)
	if err != nil {
		return err
	}
	a.key = a.Storage.Backend + ":" + a.Storage.Path
	if a.Storage.Backend == "postgres" {
		a.key = a.Storage.Backend + ":" + dsn // never logged: it may hold a password
	}
	val, _, err := sharedPool.LoadOrNew(a.key, func() (caddy.Destructor, error) {
		return openShared(a.Storage.Backend, a.Storage.Path, dsn, a.TrustCacheSize, a.logger)
	})
	if err != nil {
		if a.Storage.Backend == "postgres" {
			return err // pgstore names the host and database, never the password
		}
		return fmt.Errorf("opening %s store at %s: %w", a.Storage.Backend, a.Storage.Path, err)
	}
	a.shared = val.(*sharedState)
	// Settings of this configuration go into the reused state.
	if err := a.shared.setConfiguredKeys(configured); err != nil {
		return fmt.Errorf("loading cookie keys: %w", err)
	}
	// A reload may change the size; the decisions themselves survive.
	if evicted := a.shared.trustCache.Resize(a.TrustCacheSize); evicted > 0 {
		a.logger.Info("trust cache shrunk", zap.Int("size", a.TrustCacheSize), zap.Int("evicted", evicted))
	}
	a.shared.setRetention(a.Retention.periods())
	if err := a.provisionSigningKeys(); err != nil {
		return err
	}
	return nil
}

// Start does nothing: everything a request needs exists after Provision,
// and background work belongs to the shared state.
func (a *App) Start() error { return nil }

// Stop does nothing; shared state lives until its last user cleans up.
func (a *App) Stop() error { return nil }

// Cleanup releases this configuration's reference to the shared state.
func (a *App) Cleanup() error {
	if a.shared != nil {
		_, err := sharedPool.Delete(a.key)
		a.shared = nil
		return err
	}
	return nil
}

// Store returns the app's store.
func (a *App) Store() store.Store { return a.shared.store }

// Cookies returns the app's cookie codec.
func (a *App) Cookies() *prompt.CookieCodec { return a.shared.cookies }

// TrustCache returns the device-trust cache that every site shares.
func (a *App) TrustCache() *prompt.TrustCache { return a.shared.trustCache }

// Waker returns the waker of device long-polls that every site shares.
func (a *App) Waker() *prompt.Waker { return a.shared.waker }

// Revocations returns the revoked sessions that every site shares.
func (a *App) Revocations() *prompt.Revocations { return a.shared.revocations }

// RotateCookieKey adds a new generated cookie key to the store. It starts
// signing new cookies once every instance has had time to learn it; older
// keys keep decoding.
func (a *App) RotateCookieKey(ctx context.Context) (store.CookieKey, error) {
	key := prompt.NewCookieKey(time.Now())
	if err := a.shared.store.AddCookieKey(ctx, key); err != nil {
		return store.CookieKey{}, fmt.Errorf("storing cookie key: %w", err)
	}
	return key, a.shared.refreshKeys(ctx)
}

// sharedPool holds state that outlives a configuration reload, keyed by the
// store's identity.
var sharedPool = caddy.NewUsagePool()

// sharedState is what every configuration using one store shares.
type sharedState struct {
	store      store.Store
	cookies    *prompt.CookieCodec
	trustCache *prompt.TrustCache
	waker      *prompt.Waker
	signing    *signingKeys
	logger     *zap.Logger

	mu         sync.Mutex
	configured []store.CookieKey
	retention  retentionPeriods // of the latest configuration

	stop chan struct{}
	done chan struct{}

	// revocations are the sessions ended on the server, kept current by
	// the store's events and reread every keyRefreshInterval.
	revocations *prompt.Revocations
}

// keyRefreshInterval is how often an instance rereads the cookie keys, so a
// key rotated on one instance reaches the others well within
// prompt.KeyPropagationDelay.
const keyRefreshInterval = 30 * time.Second

func openShared(backend, path, dsn string, trustCacheSize int, logger *zap.Logger) (*sharedState, error) {
	trustCache, err := prompt.NewTrustCache(trustCacheSize, nil)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var st store.Store
	switch backend {
	case "postgres":
		st, err = pgstore.Open(ctx, dsn)
	default:
		st, err = sqlitestore.Open(path)
	}
	if err != nil {
		return nil, err
	}
	keys, err := st.InitCookieKeys(ctx, prompt.NewCookieKey(time.Now()))
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("initialising cookie keys: %w", err)
	}
	codec, err := prompt.NewCookieCodec(keys, nil)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("loading cookie keys: %w", err)
	}
	signing, err := loadSigningKeys(ctx, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	revocations := prompt.NewRevocations()
	if err := revocations.Refresh(ctx, st, time.Now()); err != nil {
		st.Close()
		return nil, fmt.Errorf("loading session revocations: %w", err)
	}
	s := &sharedState{
		store:      st,
		cookies:    codec,
		trustCache: trustCache,
		waker:      prompt.NewWaker(),
		signing:    signing,
		logger:     logger,
		stop:       make(chan struct{}),
		done:       make(chan struct{}),

		revocations: revocations,
	}
	go s.maintain()
	return s, nil
}

// listen applies the events other instances send through the store until
// ctx ends: a login request wakes this instance's long-polls of the device,
// a revocation drops the device's cached decisions, and a resync (events
// were lost) drops them all.
func (s *sharedState) listen(ctx context.Context, n store.Notifier) {
	err := n.Listen(ctx, func(e store.Event) {
		switch e.Kind {
		case store.EventPush:
			s.waker.Notify(e.ID)
		case store.EventRevoke:
			s.trustCache.RevokeDevice(e.ID)
		case store.EventSessionRevoked, store.EventUserSessionsRevoked:
			s.revocations.ApplyEvent(e)
		case store.EventResync:
			// Events may have been lost: held long-polls look at the
			// store again, and cached trust is decided afresh.
			s.waker.NotifyAll()
			s.trustCache.Purge()
			s.logger.Info("store events resynchronised: trust cache emptied")
			s.refreshRevocations(ctx)
		}
	})
	if err != nil && ctx.Err() == nil {
		s.logger.Error("listening for store events stopped", zap.Error(err))
	}
}

// maintain rereads the cookie keys and purges expired records until the
// state is destroyed, and meanwhile runs the work that may take longer
// (listening for events, retention) beside its loop.
func (s *sharedState) maintain() {
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
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := s.refreshKeys(ctx); err != nil {
				s.logger.Warn("refreshing cookie keys", zap.Error(err))
			}
			s.maintainSigningKeys(ctx, time.Now())
			s.refreshRevocations(ctx)
			cancel()
		case <-purge.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			// Failures older than a day no longer count towards any lockout.
			if err := s.store.Purge(ctx, time.Now().Add(-24*time.Hour)); err != nil {
				s.logger.Warn("purging expired records", zap.Error(err))
			}
			cancel()
		}
	}
}

// refreshRevocations rereads the session revocations from the store. With
// events (PostgreSQL) it catches up after lost ones; without (SQLite
// shared by two processes) it is how a revocation made by the other process
// arrives, within keyRefreshInterval.
func (s *sharedState) refreshRevocations(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.revocations.Refresh(ctx, s.store, time.Now()); err != nil {
		s.logger.Warn("refreshing session revocations", zap.Error(err))
	}
}

func (s *sharedState) setConfiguredKeys(keys []store.CookieKey) error {
	s.mu.Lock()
	s.configured = keys
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.refreshKeys(ctx)
}

// refreshKeys loads the stored keys and puts the configured ones first.
func (s *sharedState) refreshKeys(ctx context.Context) error {
	stored, err := s.store.CookieKeys(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	keys := append(append([]store.CookieKey(nil), s.configured...), stored...)
	s.mu.Unlock()
	return s.cookies.SetKeys(keys)
}

// Destruct stops the maintenance goroutine and closes the store.
func (s *sharedState) Destruct() error {
	close(s.stop)
	<-s.done
	return s.store.Close()
}

func decodeCookieKeys(cfg []CookieKeyConfig) ([]store.CookieKey, error) {
	keys := make([]store.CookieKey, 0, len(cfg))
	for i, k := range cfg {
		hashKey, err := decodeKey(k.HashKey)
		if err != nil {
			return nil, fmt.Errorf("cookie key #%d: hash key: %w", i+1, err)
		}
		blockKey, err := decodeKey(k.BlockKey)
		if err != nil {
			return nil, fmt.Errorf("cookie key #%d: block key: %w", i+1, err)
		}
		key := store.CookieKey{ID: fmt.Sprintf("configured-%d", i+1), HashKey: hashKey, BlockKey: blockKey}
		if n := len(hashKey); n != 32 && n != 64 {
			return nil, fmt.Errorf("cookie key #%d: hash key is %d bytes, want 32 or 64", i+1, n)
		}
		if n := len(blockKey); n != 32 {
			return nil, fmt.Errorf("cookie key #%d: block key is %d bytes, want 32", i+1, n)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// decodeKey accepts standard or URL-safe base64, padded or not.
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not valid base64")
}

// siteRegistry holds the device policy of each protected application of
// one configuration, by application name, so that the admin API can answer
// what-if questions under the policy in force.
//
// It lives on the App, which Caddy builds anew for every configuration, so
// during a reload the new configuration's handlers fill a new registry
// while the old one serves the old configuration until it is dropped
// whole; nothing needs unregistering. Within one configuration, two sites
// naming the same application keep the one provisioned last.
type siteRegistry struct {
	mu    sync.Mutex
	sites map[string]policy.Policy
	// access and rules are the access rules of each application
	// (caddymodule/access.go).
	access map[string]*policy.Access
	rules  map[string]*policy.AccessRules
	// realms are the realms of each application's sites
	// (caddymodule/devicerealm.go).
	realms applicationRealms
}

// register records the policy of application, replacing an earlier one of
// the same name. It reports whether it replaced a different policy.
func (r *siteRegistry) register(application string, p policy.Policy) (replaced bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sites == nil {
		r.sites = make(map[string]policy.Policy)
	}
	old, ok := r.sites[application]
	r.sites[application] = p
	return ok && old.Hash() != p.Hash()
}

// policy returns the policy of application.
func (r *siteRegistry) policy(application string) (policy.Policy, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.sites[application]
	return p, ok
}

// applications returns the registered application names, sorted.
func (r *siteRegistry) applications() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.sites))
	for name := range r.sites {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Interface guards
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
	_ caddy.Destructor   = (*sharedState)(nil)
)
