package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
)

// FreshDatabase creates a database of its own on the PostgreSQL server at
// adminURL and returns its URL and a function that drops it.
func FreshDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("the PostgreSQL server must be given as a postgres:// URL")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "tg_bench_" + hex.EncodeToString(b[:])
	run := func(ctx context.Context, sql string) error {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			// pgx's error names host and database, not the password.
			return fmt.Errorf("connecting to PostgreSQL: %w", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
		return nil
	}
	if err := run(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	drop := func() { _ = run(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") }
	u.Path = "/" + name
	return u.String(), drop, nil
}
