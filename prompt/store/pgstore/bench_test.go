package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/storetest"
)

// openBench opens a store on a new database of the test server, which is
// dropped when b ends, skipping b when no server is configured.
func openBench(b *testing.B) store.Store {
	b.Helper()
	admin := os.Getenv(testDSNVariable)
	if admin == "" {
		b.Skipf("%s is not set; set it to a PostgreSQL connection string (a role that may create databases) to run the pgstore benchmarks", testDSNVariable)
	}
	var suffix [8]byte
	rand.Read(suffix[:])
	name := "tg_bench_" + hex.EncodeToString(suffix[:])
	ident := pgx.Identifier{name}.Sanitize()
	benchAdminExec(b, admin, "CREATE DATABASE "+ident)
	b.Cleanup(func() { benchAdminExec(b, admin, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)") })

	dsn := admin + " dbname=" + name // keyword/value form: a later keyword wins
	if strings.HasPrefix(admin, "postgres://") || strings.HasPrefix(admin, "postgresql://") {
		u, err := url.Parse(admin)
		if err != nil {
			b.Fatalf("%s is not a valid URL", testDSNVariable)
		}
		u.Path = "/" + name
		dsn = u.String()
	}
	s, err := Open(b.Context(), dsn)
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	return s
}

// benchAdminExec runs one statement on the test server's admin database.
func benchAdminExec(b *testing.B, dsn, sql string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatalf("connecting to the test server (%s): %v", testDSNVariable, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		b.Fatalf("%s: %v", sql, err)
	}
}

func BenchmarkAuthLogWrite(b *testing.B) {
	storetest.BenchAuthLogWrite(b, openBench)
}

func BenchmarkDeviceLookup(b *testing.B) {
	storetest.BenchDeviceLookup(b, openBench)
}

func BenchmarkVerification(b *testing.B) {
	storetest.BenchVerification(b, openBench)
}
