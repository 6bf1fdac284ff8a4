// Package inventoryfetch holds the trusted_endpoints app's inventory_fetch
// setting: where the export of the organisation's device management is and
// how often to fetch it, its Caddyfile option (inventory_url), and its
// resolution into the runtime.InventoryFetch that the shared state runs.
// The fetching itself is runtime's.
package inventoryfetch

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/runtime"
)

// Config is an export of the organisation's device
// management that the gateway fetches on a schedule and makes the active
// inventory of managed devices. An export equal to the one last imported
// from the URL is not imported again; a failed fetch (the server
// unreachable or refusing, a bad row, storage) keeps the active inventory
// and counts in inventory_fetches_total{result="failed"}.
type Config struct {
	// URL is where the export is: an https URL. Placeholders such as
	// {env.MDM_EXPORT_URL} are replaced when the configuration loads. Only
	// the URL without its query string is logged, and stored as the
	// inventory's source.
	URL string `json:"url"`

	// Interval is the time between two fetches; at least 1m. Instances
	// sharing a store fetch once per interval between them.
	Interval caddy.Duration `json:"interval"`

	// BearerToken, when set, is sent as "Authorization: Bearer <token>".
	// Give it as a placeholder such as {env.MDM_TOKEN}, replaced when the
	// configuration loads; it must not be empty then. Never logged.
	BearerToken string `json:"bearer_token,omitempty"`

	// Format is the export's format, csv or json. Default: from the
	// response's Content-Type, or else the extension of the URL's path.
	Format string `json:"format,omitempty"`

	// CAFile is a PEM file of the certificate authorities trusted for the
	// server's certificate (a device-management system's private CA),
	// instead of the system's. Default: the system's.
	CAFile string `json:"ca_file,omitempty"`

	// Timeout bounds one exchange with the server, reading the export
	// included. Default: 1m.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// MaxSize is the largest export in bytes. Default: 134217728 (128 MiB).
	MaxSize int64 `json:"max_size,omitempty"`
}

// minInterval is the shortest Config.Interval.
const minInterval = time.Minute

// Runtime resolves c into what runtime.Shared.FetchInventory takes:
// placeholders replaced, the URL checked, the CA file read. c may be nil
// (no fetch).
func (c *Config) Runtime(observer runtime.InventoryFetchObserver) (runtime.InventoryFetch, error) {
	if c == nil {
		return runtime.InventoryFetch{}, nil
	}
	repl := caddy.NewReplacer()
	fetch := runtime.InventoryFetch{
		URL:      repl.ReplaceKnown(c.URL, ""),
		Every:    time.Duration(c.Interval),
		Timeout:  time.Duration(c.Timeout),
		MaxBytes: c.MaxSize,
		Observer: observer,
	}
	if u, err := url.Parse(fetch.URL); err != nil || u.Scheme != "https" || u.Host == "" {
		return runtime.InventoryFetch{}, fmt.Errorf("inventory_url: want an https URL")
	}
	if fetch.Every < minInterval {
		return runtime.InventoryFetch{}, fmt.Errorf("inventory_url: the interval must be at least %v, got %v", minInterval, fetch.Every)
	}
	if c.Timeout < 0 || c.MaxSize < 0 {
		return runtime.InventoryFetch{}, fmt.Errorf("inventory_url: timeout and max_size must not be negative")
	}
	if c.BearerToken != "" {
		if fetch.BearerToken = repl.ReplaceKnown(c.BearerToken, ""); fetch.BearerToken == "" {
			return runtime.InventoryFetch{}, fmt.Errorf("inventory_url: the bearer token is empty once its placeholders are replaced (is the environment variable set?)")
		}
	}
	if c.Format != "" {
		format, err := inventory.ParseFormat(c.Format)
		if err != nil {
			return runtime.InventoryFetch{}, fmt.Errorf("inventory_url: %w", err)
		}
		fetch.Format = format
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return runtime.InventoryFetch{}, fmt.Errorf("inventory_url: reading ca_file: %w", err)
		}
		fetch.RootCAs = x509.NewCertPool()
		if !fetch.RootCAs.AppendCertsFromPEM(pem) {
			return runtime.InventoryFetch{}, fmt.Errorf("inventory_url: ca_file %s holds no PEM certificate", c.CAFile)
		}
	}
	return fetch, nil
}
