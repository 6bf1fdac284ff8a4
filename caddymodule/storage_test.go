package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	"github.com/trustgate/trustgate/caddymodule/storage"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

func init() {
	caddy.RegisterModule(thirdPartyStorage{})
}

// thirdPartyStorage is a storage module as a third party would write one:
// registered under trusted_endpoints.storage, outside this package's own
// backends. Its store is SQLite, marked so a test can tell it apart.
type thirdPartyStorage struct {
	File string `json:"file"`
}

// thirdPartyStore is the store thirdPartyStorage opens.
type thirdPartyStore struct{ store.Store }

func (thirdPartyStorage) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "trusted_endpoints.storage.third_party",
		New: func() caddy.Module { return new(thirdPartyStorage) },
	}
}

func (s *thirdPartyStorage) StoreKey() string { return s.File }

func (s *thirdPartyStorage) OpenStore(context.Context) (store.Store, error) {
	st, err := sqlitestore.Open(s.File)
	if err != nil {
		return nil, err
	}
	return thirdPartyStore{st}, nil
}

func (s *thirdPartyStorage) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if !d.AllArgs(&s.File) {
		return d.ArgErr()
	}
	return nil
}

// provisionApp provisions the trusted_endpoints app from its JSON config,
// and cleans it up when the test ends.
func provisionApp(t *testing.T, config string) (*App, error) {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	a := new(App)
	if err := json.Unmarshal([]byte(config), a); err != nil {
		t.Fatal(err)
	}
	if err := a.Provision(ctx); err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = a.Cleanup() })
	return a, nil
}

func TestThirdPartyStorageModuleIsLoaded(t *testing.T) {
	path := storePath(t)
	a, err := provisionApp(t, fmt.Sprintf(`{"storage": {"backend": "third_party", "file": %q}}`, path))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Store().(thirdPartyStore); !ok {
		t.Errorf("the app's store is %T, want the third party's", a.Store())
	}
	if a.key != "third_party:"+path {
		t.Errorf("usage pool key %q, want the backend and the module's key", a.key)
	}

	// The global option hands the storage line to the module's parser.
	v, err := parseGlobalOption(caddyfile.NewTestDispenser("trusted_endpoints {\n storage third_party /tmp/tp.db\n}"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var app App
	if err := json.Unmarshal(v.(httpcaddyfile.App).Value, &app); err != nil {
		t.Fatal(err)
	}
	if got, want := string(app.StorageRaw), `{"backend":"third_party","file":"/tmp/tp.db"}`; got != want {
		t.Errorf("storage %s, want %s", got, want)
	}
}

// TestStorageKeepsItsOlderJSONShape: configs written before the storage
// modules (a backend and a path, or only a path) load as they did.
func TestStorageKeepsItsOlderJSONShape(t *testing.T) {
	for name, config := range map[string]string{
		"backend and path": `{"storage": {"backend": "sqlite", "path": %q}}`,
		"path only":        `{"storage": {"path": %q}}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := storePath(t)
			a, err := provisionApp(t, fmt.Sprintf(config, path))
			if err != nil {
				t.Fatal(err)
			}
			if a.key != "sqlite:"+path {
				t.Errorf("usage pool key %q, want sqlite:%s", a.key, path)
			}
			if _, err := a.Store().CookieKeys(t.Context()); err != nil {
				t.Errorf("the store does not answer: %v", err)
			}
		})
	}
}

func TestStorageErrorsStayClear(t *testing.T) {
	tests := []struct {
		name, config string
		want         []string
	}{
		{"unknown backend", `{"storage": {"backend": "redis"}}`,
			[]string{`unknown storage backend "redis"`, "postgres", "sqlite", "third_party"}},
		{"postgres without dsn", `{"storage": {"backend": "postgres"}}`,
			[]string{"storage postgres: no connection string (dsn)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := provisionApp(t, tt.config)
			if err == nil {
				t.Fatal("provisioned")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	_, err := parseGlobalOption(caddyfile.NewTestDispenser("trusted_endpoints {\n storage redis\n}"), nil)
	if err == nil || !strings.Contains(err.Error(), `unknown storage backend "redis" (want postgres, sqlite or third_party)`) {
		t.Errorf("Caddyfile error %v, want one naming the known backends", err)
	}
	_, err = parseGlobalOption(caddyfile.NewTestDispenser("trusted_endpoints {\n storage postgres\n}"), nil)
	if err == nil || !strings.Contains(err.Error(), "storage postgres needs a connection string") {
		t.Errorf("Caddyfile error %v, want one asking for the connection string", err)
	}
}

// TestPostgresStorageErrorHidesPassword: a connection string that cannot
// connect is refused without its password in the error.
func TestPostgresStorageErrorHidesPassword(t *testing.T) {
	_, err := provisionApp(t, `{"storage": {"backend": "postgres", "dsn": "postgres://tg:s3cret-pw@127.0.0.1:1/tg?connect_timeout=2"}}`)
	if err == nil {
		t.Fatal("provisioned against a closed port")
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("error %q carries the password", err)
	}
}

// Interface guards
var (
	_ storage.Storage       = (*thirdPartyStorage)(nil)
	_ caddyfile.Unmarshaler = (*thirdPartyStorage)(nil)
)
