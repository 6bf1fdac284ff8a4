package runtime

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/inventory"
)

// InventoryFetch says where the gateway fetches the inventory of managed
// devices from, and how often: an export that the organisation's device
// management publishes over HTTPS. Its zero value fetches nothing.
type InventoryFetch struct {
	// URL is where the export is, an https URL. It may hold a query
	// string; only the URL without it (and without credentials) is ever
	// logged or stored as the inventory's source.
	URL string
	// Every is the time between two fetches; it must be positive.
	Every time.Duration
	// BearerToken, when set, is sent in each request's Authorization
	// header. It is never logged.
	BearerToken string
	// Format is the export's format; empty takes it from the response's
	// Content-Type, or else from the extension of the URL's path.
	Format inventory.Format
	// RootCAs are the certificate authorities trusted for the server's
	// certificate; nil trusts the system's.
	RootCAs *x509.CertPool
	// Timeout bounds one exchange with the server, reading the export
	// included. Default: 1m.
	Timeout time.Duration
	// MaxBytes and MaxRows bound one export, as inventory.Parser's do.
	// Defaults: the Parser's.
	MaxBytes int64
	MaxRows  int
	// Observer hears the result of each fetch. Default: none.
	Observer InventoryFetchObserver
}

// InventoryFetchObserver hears the result of each fetch of the inventory
// (InventoryFetchOK, InventoryFetchUnchanged or InventoryFetchFailed),
// and when it ended.
type InventoryFetchObserver interface {
	InventoryFetched(result string, at time.Time)
}

// Results of one fetch of the inventory.
const (
	// InventoryFetchOK: a new export was imported and activated.
	InventoryFetchOK = "ok"
	// InventoryFetchUnchanged: the server said the export had not
	// changed (304), or it was the one last imported from this URL.
	InventoryFetchUnchanged = "unchanged"
	// InventoryFetchFailed: the active inventory stays as it was.
	InventoryFetchFailed = "failed"
)

// defaultInventoryFetchTimeout is the default of InventoryFetch.Timeout;
// inventoryStoreTimeout bounds the store's part of an import.
const (
	defaultInventoryFetchTimeout = time.Minute
	inventoryStoreTimeout        = 2 * time.Minute
)

// FetchInventory makes this instance fetch the inventory as cfg says,
// replacing the fetching a previous configuration asked for; a zero cfg
// stops fetching. It fetches once at once and then every cfg.Every, in
// time slots that every instance sharing the store agrees on: the store
// lets one instance claim each slot (UseOnce), so one fetch is made per
// slot, whichever instance makes it. An export that brings nothing new
// changes nothing; a failed fetch keeps the active inventory. Fetching
// stops on Close.
func (s *Shared) FetchInventory(cfg InventoryFetch) error {
	var f *inventoryFetcher
	if cfg.URL != "" {
		var err error
		if f, err = newInventoryFetcher(s, cfg); err != nil {
			return err
		}
	}
	s.fetching.replace(f)
	return nil
}

// inventoryFetching is the fetch loop a Shared runs, if any.
type inventoryFetching struct {
	mu      sync.Mutex
	fetcher *inventoryFetcher
	cancel  context.CancelFunc
	done    chan struct{}
}

// replace stops the running loop, and starts f's unless f is nil. A
// fetcher of the same URL takes over what the previous one learnt of
// the export (its validators), so a reload does not import it again.
func (l *inventoryFetching) replace(f *inventoryFetcher) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.fetcher
	l.stopLocked()
	if f == nil {
		return
	}
	if old != nil && old.cfg.URL == f.cfg.URL {
		f.etag, f.lastModified = old.etag, old.lastModified
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.fetcher, l.cancel, l.done = f, cancel, make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		f.run(ctx)
	}(l.done)
}

// stop stops the running loop, if any, and waits for it.
func (l *inventoryFetching) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopLocked()
}

func (l *inventoryFetching) stopLocked() {
	if l.cancel == nil {
		return
	}
	l.cancel()
	<-l.done
	l.fetcher.client.CloseIdleConnections()
	l.fetcher, l.cancel, l.done = nil, nil, nil
}

// run fetches in the current time slot, then at the start of each next
// one, until ctx ends.
func (f *inventoryFetcher) run(ctx context.Context) {
	for {
		slot := time.Now().UnixNano() / int64(f.cfg.Every)
		f.fetchInSlot(ctx, slot)
		next := time.Unix(0, (slot+1)*int64(f.cfg.Every))
		timer := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

// fetchInSlot fetches unless another instance sharing the store claimed
// slot first, and reports the result.
func (f *inventoryFetcher) fetchInSlot(ctx context.Context, slot int64) {
	claimed, err := f.claim(ctx, slot)
	if err != nil {
		f.report(InventoryFetchFailed, fmt.Errorf("claiming the fetch: %w", err))
		return
	}
	if !claimed {
		f.shared.logger.Debug("inventory fetch made by another instance", zap.String("source", f.source))
		return
	}
	result, err := f.fetch(ctx)
	if ctx.Err() != nil {
		return // stopped: nothing to report
	}
	f.report(result, err)
}

// claim records in the store that this instance fetches in slot, and
// reports whether it was the first to.
func (f *inventoryFetcher) claim(ctx context.Context, slot int64) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sum := sha256.Sum256([]byte(f.cfg.URL))
	key := fmt.Sprintf("inventory-fetch:%s:%d", hex.EncodeToString(sum[:8]), slot)
	expires := time.Unix(0, (slot+2)*int64(f.cfg.Every))
	return f.shared.store.UseOnce(ctx, key, expires)
}

// report logs a fetch's result and tells the observer.
func (f *inventoryFetcher) report(result string, err error) {
	logger := f.shared.logger.With(zap.String("source", f.source))
	switch {
	case err != nil:
		logger.Error("fetching the inventory of managed devices; keeping the active one", zap.Error(err))
	case result == InventoryFetchOK:
		index := f.shared.inventory.Index()
		logger.Info("fetched inventory of managed devices activated",
			zap.String("inventory_id", index.Inventory().ID), zap.Int("entries", index.Len()))
	default:
		logger.Debug("inventory of managed devices unchanged")
	}
	if f.cfg.Observer != nil {
		f.cfg.Observer.InventoryFetched(result, time.Now())
	}
}

// sourceOf returns u as it may be shown: without credentials, query
// string or fragment, which may hold secrets.
func sourceOf(u *url.URL) string {
	shown := *u
	shown.User, shown.RawQuery, shown.ForceQuery, shown.Fragment, shown.RawFragment = nil, "", false, "", ""
	return shown.String()
}

// newInventoryFetcher checks cfg and makes its HTTP client.
func newInventoryFetcher(s *Shared, cfg InventoryFetch) (*inventoryFetcher, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, errors.New("inventory URL: not a valid URL") // its text may hold a secret
	}
	if u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("inventory URL %s: want an https URL", sourceOf(u))
	}
	if cfg.Every <= 0 {
		return nil, fmt.Errorf("inventory fetch interval %v: must be positive", cfg.Every)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultInventoryFetchTimeout
	}
	return &inventoryFetcher{
		cfg:    cfg,
		source: sourceOf(u),
		client: newFetchClient(cfg),
		shared: s,
	}, nil
}
