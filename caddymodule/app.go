package caddymodule

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/caddymodule/internal/inventoryfetch"
	"github.com/trustgate/trustgate/caddymodule/internal/sites"
	"github.com/trustgate/trustgate/caddymodule/storage"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/runtime"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
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
	// StorageRaw selects where the gateway keeps its state: a
	// trusted_endpoints.storage module, named by "backend": "sqlite" (one
	// machine; "path" is the database file), "postgres" (several
	// instances sharing one database; "dsn" is the connection string) or
	// a third party's.
	// Default: SQLite at {data dir}/trustgate/trustgate.db, where the data
	// dir is Caddy's (e.g. ~/.local/share/caddy).
	StorageRaw json.RawMessage `json:"storage,omitempty" caddy:"namespace=trusted_endpoints.storage inline_key=backend"`

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

	// InventoryFetch, when set, fetches the inventory of managed devices
	// from an export on a schedule. Default: none (inventories come
	// through the admin API).
	InventoryFetch *inventoryfetch.Config `json:"inventory_fetch,omitempty"`

	ctx    caddy.Context
	logger *zap.Logger
	shared *sharedState
	key    string
	fetch  runtime.InventoryFetch // InventoryFetch resolved; started by Start

	// sites are this configuration's sites: their applications' device
	// policies, access rules and realms, for the admin API and the
	// dashboard, and the login source of each realm.
	sites *sites.Registry
	// carrySessions is set when a dashboard of this configuration is
	// provisioned: the trusted_endpoints handlers then hand each signed-in
	// session on in the request's context. Written only while provisioning,
	// before any request is served.
	carrySessions bool
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

// Provision loads the storage module and opens (or reuses, across
// reloads) the store and the state kept with it, then puts this
// configuration's settings into that state.
func (a *App) Provision(ctx caddy.Context) error {
	a.ctx = ctx
	a.logger = ctx.Logger()
	a.sites = new(sites.Registry)
	loaded, err := a.loadStorage(ctx)
	if err != nil {
		return err
	}
	if a.TrustCacheSize < 0 {
		return fmt.Errorf("trust_cache_size must not be negative, got %d", a.TrustCacheSize)
	}
	if a.TrustCacheSize == 0 {
		a.TrustCacheSize = defaultTrustCacheSize
	}
	repl := caddy.NewReplacer()
	keyConfigs := make([]CookieKeyConfig, len(a.CookieKeys))
	for i, k := range a.CookieKeys {
		keyConfigs[i] = CookieKeyConfig{HashKey: repl.ReplaceKnown(k.HashKey, ""), BlockKey: repl.ReplaceKnown(k.BlockKey, "")}
	}
	configured, err := decodeCookieKeys(keyConfigs)
	if err != nil {
		return err
	}
	a.key = loaded.key // never logged: it may hold a password
	val, _, err := sharedPool.LoadOrNew(a.key, func() (caddy.Destructor, error) {
		return openShared(loaded.Storage, a.TrustCacheSize, a.logger)
	})
	if err != nil {
		return err
	}
	a.shared = val.(*sharedState)
	// Settings of this configuration go into the reused state.
	if err := a.shared.SetConfiguredCookieKeys(configured); err != nil {
		return fmt.Errorf("loading cookie keys: %w", err)
	}
	// A reload may change the size; the decisions themselves survive.
	if evicted := a.shared.TrustCache().Resize(a.TrustCacheSize); evicted > 0 {
		a.logger.Info("trust cache shrunk", zap.Int("size", a.TrustCacheSize), zap.Int("evicted", evicted))
	}
	a.shared.SetRetention(a.Retention.periods())
	if a.fetch, err = a.InventoryFetch.Runtime(gatewayMetrics()); err != nil {
		return err
	}
	return a.provisionSigningKeys()
}

// Start starts (or, after a reload, replaces or stops) fetching the
// inventory; nothing else: everything a request needs exists after
// Provision, and background work belongs to the shared state.
func (a *App) Start() error { return a.shared.FetchInventory(a.fetch) }

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
func (a *App) Store() store.Store { return a.shared.Store() }

// Cookies returns the app's cookie codec.
func (a *App) Cookies() *session.CookieCodec { return a.shared.Cookies() }

// TrustCache returns the device-trust cache that every site shares.
func (a *App) TrustCache() *device.TrustCache { return a.shared.TrustCache() }

// Inventory returns the active inventory of managed devices that every
// site shares.
func (a *App) Inventory() *inventory.Active { return a.shared.Inventory() }

// Waker returns the waker of device long-polls that every site shares.
func (a *App) Waker() *device.Waker { return a.shared.Waker() }

// Revocations returns the revoked sessions that every site shares.
func (a *App) Revocations() *session.Revocations { return a.shared.Revocations() }

// RotateCookieKey adds a new generated cookie key to the store. It starts
// signing new cookies once every instance has had time to learn it; older
// keys keep decoding.
func (a *App) RotateCookieKey(ctx context.Context) (store.CookieKey, error) {
	return a.shared.RotateCookieKey(ctx)
}

// Sites returns the registry of this configuration's sites.
func (a *App) Sites() *sites.Registry { return a.sites }

// CarrySessions makes this configuration's trusted_endpoints handlers hand
// each signed-in session on in the request's context, to a dashboard after
// them (signedin.Session). The dashboard calls it while provisioning,
// before any request is served.
func (a *App) CarrySessions() { a.carrySessions = true }

// RevokeDevice revokes a device on every instance at once and returns it;
// see runtime.Shared.RevokeDevice.
func (a *App) RevokeDevice(ctx context.Context, id string) (store.Device, error) {
	return a.shared.RevokeDevice(ctx, id)
}

// ActivateInventory makes a pending inventory active on every instance at
// once; see runtime.Shared.ActivateInventory.
func (a *App) ActivateInventory(ctx context.Context, id string) (store.Inventory, error) {
	return a.shared.ActivateInventory(ctx, id)
}

// RestorePreviousInventory makes the previous inventory active again on
// every instance; see runtime.Shared.RestorePreviousInventory.
func (a *App) RestorePreviousInventory(ctx context.Context) (store.Inventory, error) {
	return a.shared.RestorePreviousInventory(ctx)
}

// sharedPool holds state that outlives a configuration reload, keyed by the
// store's identity.
var sharedPool = caddy.NewUsagePool()

// sharedState is the usage pool's entry for one store: the runtime that
// every configuration using the store shares.
type sharedState struct {
	*runtime.Shared
}

// openShared opens the store of the storage module and starts its runtime.
func openShared(module storage.Storage, trustCacheSize int, logger *zap.Logger) (*sharedState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := module.OpenStore(ctx)
	if err != nil {
		return nil, err
	}
	shared, err := runtime.Start(ctx, st, runtime.Options{TrustCacheSize: trustCacheSize, Logger: logger})
	if err != nil {
		return nil, err
	}
	return &sharedState{Shared: shared}, nil
}

// Destruct stops the runtime's background work and closes the store.
func (s *sharedState) Destruct() error { return s.Close() }

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

// Interface guards
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
	_ caddy.Destructor   = (*sharedState)(nil)
)
