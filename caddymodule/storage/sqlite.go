package storage

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

func init() {
	caddy.RegisterModule(SQLiteStorage{})
}

// SQLiteStorage keeps the gateway's state in a SQLite database file: the
// default, for a gateway on one machine (several processes of one machine
// may share the file).
type SQLiteStorage struct {
	// Path is the database file.
	// Default: {data dir}/trustgate/trustgate.db
	Path string `json:"path,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (SQLiteStorage) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  Namespace + ".sqlite",
		New: func() caddy.Module { return new(SQLiteStorage) },
	}
}

// Provision resolves the default path and placeholders.
func (s *SQLiteStorage) Provision(caddy.Context) error {
	if s.Path == "" {
		s.Path = filepath.Join(caddy.AppDataDir(), "trustgate", "trustgate.db")
	}
	s.Path = caddy.NewReplacer().ReplaceKnown(s.Path, "")
	return nil
}

// StoreKey is the database file's path.
func (s *SQLiteStorage) StoreKey() string { return s.Path }

// OpenStore opens the database file, creating it if needed.
func (s *SQLiteStorage) OpenStore(context.Context) (store.Store, error) {
	st, err := sqlitestore.Open(s.Path)
	if err != nil {
		return nil, fmt.Errorf("opening sqlite store at %s: %w", s.Path, err)
	}
	return st, nil
}

// UnmarshalCaddyfile sets up the storage from the global option's storage
// line. Syntax:
//
//	storage sqlite [<path>]
func (s *SQLiteStorage) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume the backend's name
	if d.NextArg() {
		s.Path = d.Val()
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// Interface guards
var (
	_ Storage               = (*SQLiteStorage)(nil)
	_ caddy.Provisioner     = (*SQLiteStorage)(nil)
	_ caddyfile.Unmarshaler = (*SQLiteStorage)(nil)
)
