package runtime

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/store"
)

// inventoryFetcher fetches one export. Only its loop uses it.
type inventoryFetcher struct {
	cfg    InventoryFetch
	source string // cfg.URL as it may be shown
	client *http.Client
	shared *Shared

	// etag and lastModified are the validators of the export last
	// imported or found unchanged, sent so that the server can answer
	// 304 Not Modified.
	etag, lastModified string
}

// newFetchClient returns the client of cfg's fetches: TLS 1.2 at least,
// cfg's CAs, no redirect away from https, and Go's own rule that the
// Authorization header never follows a redirect to another host.
func newFetchClient(cfg InventoryFetch) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	return &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			if req.URL.Scheme != "https" {
				return fmt.Errorf("refused a redirect to %s: not https", sourceOf(req.URL))
			}
			return nil
		},
	}
}

// fetch gets the export and, when it is new, imports and activates it. On
// any error the active inventory stays, and no pending one is left.
func (f *inventoryFetcher) fetch(ctx context.Context) (string, error) {
	resp, err := f.get(ctx)
	if err != nil {
		return InventoryFetchFailed, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return InventoryFetchUnchanged, nil
	case http.StatusOK:
	default:
		return InventoryFetchFailed, fmt.Errorf("the server answered %s", resp.Status)
	}
	format, err := f.formatOf(resp)
	if err != nil {
		return InventoryFetchFailed, err
	}
	digest := sha256.New()
	parser := inventory.Parser{MaxBytes: f.cfg.MaxBytes, MaxRows: f.cfg.MaxRows}
	entries, err := parser.Parse(io.TeeReader(resp.Body, digest), format)
	if err != nil {
		return InventoryFetchFailed, fmt.Errorf("reading the export: %w", err)
	}
	if len(entries) == 0 {
		return InventoryFetchFailed, inventory.ErrNoEntries
	}
	ctx, cancel := context.WithTimeout(ctx, inventoryStoreTimeout)
	defer cancel()
	result, err := f.importNew(ctx, entries, digestOf(digest))
	if err == nil {
		f.etag, f.lastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	}
	return result, err
}

// get sends the request, conditional on the validators held. Its errors
// never hold the URL, whose query string may be a secret.
func (f *inventoryFetcher) get(ctx context.Context) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.cfg.URL, nil)
	if err != nil {
		return nil, errors.New("making the request")
	}
	req.Header.Set("Accept", "text/csv, application/json;q=0.9, application/x-ndjson;q=0.8")
	if f.cfg.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+f.cfg.BearerToken)
	}
	if f.etag != "" {
		req.Header.Set("If-None-Match", f.etag)
	}
	if f.lastModified != "" {
		req.Header.Set("If-Modified-Since", f.lastModified)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, fmt.Errorf("fetching: %w", err)
	}
	return resp, nil
}

// formatOf returns the configured format, or else the one the response's
// Content-Type or the extension of the URL's path names.
func (f *inventoryFetcher) formatOf(resp *http.Response) (inventory.Format, error) {
	if f.cfg.Format != "" {
		return f.cfg.Format, nil
	}
	contentType := resp.Header.Get("Content-Type")
	if format, err := inventory.ParseFormat(contentType); err == nil {
		return format, nil
	}
	switch strings.ToLower(path.Ext(resp.Request.URL.Path)) {
	case ".csv":
		return inventory.FormatCSV, nil
	case ".json", ".jsonl", ".ndjson":
		return inventory.FormatJSON, nil
	}
	return "", fmt.Errorf("neither the content type %q nor the path tells the export's format: configure it",
		contentType[:min(len(contentType), 64)])
}

// importNew stores entries as a new inventory and activates it, unless
// the inventory last fetched from this source, still active or previous,
// had the same digest (another instance fetched it, or an admin went
// back from it on purpose). A failure deletes the pending inventory.
func (f *inventoryFetcher) importNew(ctx context.Context, entries []store.InventoryEntry, digest string) (string, error) {
	st := f.shared.store
	inventories, err := st.Inventories(ctx)
	if err != nil {
		return InventoryFetchFailed, fmt.Errorf("listing inventories: %w", err)
	}
	for _, inv := range inventories { // newest first
		if inv.Source == f.source && inv.State != store.InventoryPending {
			if strings.HasSuffix(inv.ID, "-"+digest) {
				return InventoryFetchUnchanged, nil
			}
			break
		}
	}
	now := time.Now()
	id := "fetched-" + now.UTC().Format("20060102T150405.000Z") + "-" + digest
	if err := st.CreateInventory(ctx, store.Inventory{ID: id, Source: f.source, Created: now}); err != nil {
		return InventoryFetchFailed, fmt.Errorf("creating inventory %s: %w", id, err)
	}
	err = st.AddInventoryEntries(ctx, id, entries)
	if err == nil {
		// Once the store has it, the activation holds: a reload or an
		// announcement that failed is logged, and the next refresh
		// catches up.
		if _, err = f.shared.ActivateInventory(ctx, id); errors.Is(err, ErrNotAnnounced) {
			f.shared.logger.Error("telling other instances about a fetched inventory; they load it on their next refresh",
				zap.String("inventory_id", id), zap.Error(err))
			err = nil
		}
	}
	if err != nil {
		f.deletePending(id)
		return InventoryFetchFailed, err
	}
	return InventoryFetchOK, nil
}

// deletePending deletes the pending inventory id after a failed import,
// with a context of its own: the fetch's may be what failed.
func (f *inventoryFetcher) deletePending(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.shared.store.DeleteInventory(ctx, id); err != nil && !errors.Is(err, store.ErrConflict) {
		f.shared.logger.Warn("deleting a pending inventory after a failed fetch", zap.String("inventory_id", id), zap.Error(err))
	}
}

// digestOf returns the first 16 hex digits of h's sum: enough to tell
// exports apart, short enough for an inventory ID.
func digestOf(h hash.Hash) string {
	return hex.EncodeToString(h.Sum(nil))[:16]
}
