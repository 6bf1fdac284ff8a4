package storage

import (
	"context"
	"errors"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/pgstore"
)

func init() {
	caddy.RegisterModule(PostgresStorage{})
}

// PostgresStorage keeps the gateway's state in a PostgreSQL database, which
// several gateway instances share; its events (LISTEN/NOTIFY) keep them in
// step.
type PostgresStorage struct {
	// DSN is the PostgreSQL connection string (a postgres:// URL or
	// keyword=value pairs), usually {env.TG_DSN} so that no password sits
	// in the config. Required.
	DSN string `json:"dsn,omitempty"`

	dsn string // with placeholders replaced
}

// CaddyModule returns the Caddy module information.
func (PostgresStorage) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  Namespace + ".postgres",
		New: func() caddy.Module { return new(PostgresStorage) },
	}
}

// Provision checks that there is a connection string and resolves its
// placeholders.
func (s *PostgresStorage) Provision(caddy.Context) error {
	if s.DSN == "" {
		return errors.New("storage postgres: no connection string (dsn)")
	}
	s.dsn = caddy.NewReplacer().ReplaceKnown(s.DSN, "")
	return nil
}

// StoreKey is the connection string, placeholders replaced: it may hold a
// password, and is never logged.
func (s *PostgresStorage) StoreKey() string { return s.dsn }

// OpenStore connects to the database and migrates it. Its errors name the
// host and database, never the password.
func (s *PostgresStorage) OpenStore(ctx context.Context) (store.Store, error) {
	st, err := pgstore.Open(ctx, s.dsn)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// UnmarshalCaddyfile sets up the storage from the global option's storage
// line. Syntax:
//
//	storage postgres <dsn>
func (s *PostgresStorage) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume the backend's name
	if !d.NextArg() {
		return d.Err("storage postgres needs a connection string, e.g. {env.TG_DSN}")
	}
	s.DSN = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// Interface guards
var (
	_ Storage               = (*PostgresStorage)(nil)
	_ caddy.Provisioner     = (*PostgresStorage)(nil)
	_ caddyfile.Unmarshaler = (*PostgresStorage)(nil)
)
