package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/storetest"
)

// testDSNVariable names the environment variable that gives the tests a
// PostgreSQL server: a connection string for a role that may create and
// drop databases, such as
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const testDSNVariable = "TRUSTGATE_TEST_POSTGRES"

// adminDSN returns the server the tests use, skipping t when none is
// configured, except in CI, which must test against a real server.
func adminDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(testDSNVariable)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; CI must provide a PostgreSQL server for the pgstore tests", testDSNVariable)
		}
		t.Skipf("%s is not set; set it to a PostgreSQL connection string (a role that may create databases) to run the pgstore tests", testDSNVariable)
	}
	return dsn
}

// newDatabase creates an empty database with a unique name on the test
// server, drops it when t ends, and returns a connection string for it.
// Every test gets its own database, so tests share nothing, not even
// advisory locks (which PostgreSQL scopes to a database).
func newDatabase(t testing.TB) string {
	t.Helper()
	admin := adminDSN(t)
	var suffix [8]byte
	rand.Read(suffix[:])
	name := "tg_test_" + hex.EncodeToString(suffix[:])
	ident := pgx.Identifier{name}.Sanitize()
	adminExec(t, admin, "CREATE DATABASE "+ident)
	t.Cleanup(func() {
		adminExec(t, admin, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
	})
	return withDatabase(t, admin, name)
}

// adminExec runs one statement on the test server's admin database.
func adminExec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connecting to the test server (%s): %v", testDSNVariable, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// withDatabase returns dsn changed to name database.
func withDatabase(t testing.TB, dsn, database string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("%s is not a valid URL", testDSNVariable)
		}
		u.Path = "/" + database
		return u.String()
	}
	// Keyword/value form: a later keyword overrides an earlier one.
	return dsn + " dbname=" + database
}

// openStore opens a store on dsn and closes it when t ends.
func openStore(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStoreConformance(t *testing.T) {
	adminDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), newDatabase(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestTwoPoolsOnOneDatabaseActAsSharedInstances(t *testing.T) {
	adminDSN(t)
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		dsn := newDatabase(t)
		a, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		b, err := Open(t.Context(), dsn)
		if err != nil {
			a.Close()
			t.Fatalf("Open second handle: %v", err)
		}
		return a, b
	})
}

func TestConcurrentOpensOfEmptyDatabaseAllSucceed(t *testing.T) {
	steps, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	const rounds, opens = 5, 16
	for round := range rounds {
		dsn := newDatabase(t)
		stores := make([]*Store, opens)
		errs := make([]error, opens)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range opens {
			wg.Go(func() {
				<-start
				stores[i], errs[i] = Open(t.Context(), dsn)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: Open %d of %d concurrent: %v", round, i, opens, err)
			}
		}
		for _, s := range stores {
			if s != nil {
				defer s.Close()
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		var applied, version int
		if err := stores[0].pool.QueryRow(t.Context(),
			`SELECT count(*), max(version) FROM schema_migrations`).Scan(&applied, &version); err != nil {
			t.Fatal(err)
		}
		if applied != len(steps) || version != len(steps) {
			t.Errorf("round %d: schema_migrations holds %d rows up to version %d, want each of the %d steps once",
				round, applied, version, len(steps))
		}
		// Every handle works on the one schema.
		for i, s := range stores {
			if ok, err := s.UseOnce(t.Context(), "probe", time.Now().Add(time.Hour)); err != nil || ok != (i == 0) {
				t.Errorf("round %d: UseOnce on handle %d = %v, %v; want %v, nil", round, i, ok, err, i == 0)
			}
		}
	}
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	dsn := newDatabase(t)
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	steps, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	future := len(steps) + 1
	if _, err := s.pool.Exec(t.Context(),
		`INSERT INTO schema_migrations (version, name) VALUES ($1, 'from_the_future.sql')`, future); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(t.Context(), dsn)
	if err == nil {
		s.Close()
		t.Fatalf("Open of a database at schema version %d succeeded, want an error", future)
	}
	if !strings.Contains(err.Error(), "newer than this trustgate supports") {
		t.Errorf("Open error = %q, want it to say the schema is newer", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	dsn := newDatabase(t)
	ctx := t.Context()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	key := store.CookieKey{
		ID:       "k1",
		HashKey:  []byte(strings.Repeat("h", 64)),
		BlockKey: []byte(strings.Repeat("b", 32)),
		Created:  time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC),
	}
	if _, err := s.InitCookieKeys(ctx, key); err != nil {
		t.Fatalf("InitCookieKeys: %v", err)
	}
	device := store.Device{ID: "thumbprint-1", User: "alice", Platform: "android", Created: key.Created}
	if err := s.CreateDevice(ctx, device); err != nil {
		t.Fatalf("CreateDevice: %v", err)
	}
	s.Close()

	s = openStore(t, dsn)
	keys, err := s.InitCookieKeys(ctx, store.CookieKey{ID: "k2", HashKey: []byte("other")})
	if err != nil {
		t.Fatalf("InitCookieKeys after reopening: %v", err)
	}
	if len(keys) != 1 || keys[0].ID != "k1" || string(keys[0].HashKey) != string(key.HashKey) {
		t.Errorf("after reopening, cookie keys = %+v, want only k1", keys)
	}
	got, err := s.Device(ctx, device.ID)
	if err != nil {
		t.Fatalf("Device after reopening: %v", err)
	}
	if got.User != device.User || !got.Created.Equal(device.Created) {
		t.Errorf("after reopening, device = %+v, want %+v", got, device)
	}
}

func TestAuthLogEntryOutlivesThePool(t *testing.T) {
	dsn := newDatabase(t)
	ctx := t.Context()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	entry := store.AuthLogEntry{
		Time: time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC), User: "alice",
		Result: store.ResultSuccess, Reason: "user_approved", Factor: "push",
	}
	id, err := s.AppendAuthLog(ctx, entry)
	if err != nil {
		t.Fatalf("AppendAuthLog: %v", err)
	}
	// Closing the pool ends every session: anything not committed by now
	// is gone.
	s.Close()

	s = openStore(t, dsn)
	entries, err := s.QueryAuthLog(ctx, store.AuthLogQuery{})
	if err != nil {
		t.Fatalf("QueryAuthLog after reopening: %v", err)
	}
	if len(entries) != 1 || entries[0].ID != id || entries[0].User != "alice" || !entries[0].Time.Equal(entry.Time) {
		t.Errorf("after reopening, auth log = %+v, want only entry %d of alice", entries, id)
	}
}

func TestSynchronousCommitStaysOnWhenDatabaseDefaultIsOff(t *testing.T) {
	dsn := newDatabase(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Skip("needs a URL connection string to name the database")
	}
	database := strings.TrimPrefix(u.Path, "/")
	adminExec(t, adminDSN(t), "ALTER DATABASE "+pgx.Identifier{database}.Sanitize()+" SET synchronous_commit = off")

	s := openStore(t, dsn)
	// Several connections: each must have been set up, not only the first.
	const conns = 4
	settings := make([]string, conns)
	errs := make([]error, conns)
	var wg sync.WaitGroup
	hold := make(chan struct{})
	for i := range conns {
		wg.Go(func() {
			c, err := s.pool.Acquire(t.Context())
			if err != nil {
				errs[i] = err
				return
			}
			defer c.Release()
			errs[i] = c.QueryRow(t.Context(), "SHOW synchronous_commit").Scan(&settings[i])
			<-hold
		})
	}
	close(hold)
	wg.Wait()
	for i := range conns {
		if errs[i] != nil {
			t.Fatalf("connection %d: %v", i, errs[i])
		}
		if settings[i] != "on" {
			t.Errorf("connection %d: synchronous_commit = %q, want on", i, settings[i])
		}
	}
}

func TestOpenErrorsNeverShowThePassword(t *testing.T) {
	const password = "Pa55-w0rd-not-for-logs"
	admin := adminDSN(t)
	u, err := url.Parse(admin)
	if err != nil {
		t.Skip("needs a URL connection string to build the cases from")
	}
	withPassword := func(host, database string) string {
		v := *u
		v.User = url.UserPassword(u.User.Username(), password)
		if host != "" {
			v.Host = host
		}
		v.Path = "/" + database
		return v.String()
	}
	tests := []struct {
		name string
		dsn  string
	}{
		{"unparsable URL", "postgres://alice:" + password + "@127.0.0.1:notaport/trustgate"},
		{"unparsable keywords", "host=127.0.0.1 password=" + password + " port='5432"},
		{"unknown sslmode", withPassword("", "postgres") + "&sslmode=sometimes"},
		{"nothing listening", withPassword("127.0.0.1:1", "trustgate")},
		{"nothing listening, keywords", "host=127.0.0.1 port=1 user=alice password=" + password + " dbname=trustgate connect_timeout=5"},
		{"no such database", withPassword("", "tg_test_missing_"+strings.Repeat("x", 8))},
		{"password in the database name", withPassword("", "tg_test_"+password)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			s, err := Open(ctx, tt.dsn)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("Open error shows the password: %q", err)
			}
			if strings.Contains(err.Error(), tt.dsn) {
				t.Errorf("Open error quotes the connection string: %q", err)
			}
			t.Logf("Open error: %v", err)
		})
	}
}

func TestOpenHonorsContext(t *testing.T) {
	dsn := newDatabase(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s, err := Open(ctx, dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open with a canceled context succeeded, want an error")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a canceled context = %v, want an error wrapping context.Canceled", err)
	}
}

func TestWouldBlockQueryUsesItsIndex(t *testing.T) {
	s := openStore(t, newDatabase(t))
	ctx := t.Context()
	// The literal must match QueryAuthLog's: a parameter would keep the
	// planner off the partial index. Sequential scans are turned off so that
	// the plan of an empty table still shows whether the index applies.
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "RESET enable_seqscan")
	rows, err := conn.Query(ctx, "EXPLAIN SELECT id FROM auth_log WHERE would_block ORDER BY id DESC LIMIT 100")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan, "\n"), "auth_log_would_block") {
		t.Errorf("query plan for would_block:\n%s\nwant it to use index auth_log_would_block", strings.Join(plan, "\n"))
	}
}

// Events cross instances; a listener starts with a resync, and one whose
// connection is cut comes back with a resync and goes on receiving.
func TestEventsReachOtherInstancesAndSurviveALostConnection(t *testing.T) {
	dsn := newDatabase(t)
	a, b := openStore(t, dsn), openStore(t, dsn)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := make(chan store.Event, 16)
	done := make(chan error, 1)
	go func() { done <- a.Listen(ctx, func(e store.Event) { got <- e }) }()

	// Listening begins with a resync: events sent before it are lost.
	select {
	case e := <-got:
		if e.Kind != store.EventResync {
			t.Fatalf("first event %+v, want a resync", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no resync when listening began")
	}

	// Notify until the listener has started listening.
	want := store.Event{Kind: store.EventPush, ID: "device-1"}
	waitFor := func(want store.Event) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case e := <-got:
				if e == want {
					return
				}
			case <-tick.C:
				if err := b.Notify(t.Context(), want); err != nil {
					t.Fatal(err)
				}
			case <-deadline:
				t.Fatalf("event %+v never arrived", want)
			}
		}
	}
	waitFor(want)

	// Cut the listener's connection from the server side.
	var database string
	if err := b.pool.QueryRow(t.Context(), "SELECT current_database()").Scan(&database); err != nil {
		t.Fatal(err)
	}
	if _, err := b.pool.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`, database); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-got:
		if e.Kind != store.EventResync {
			t.Fatalf("after the cut: %+v, want a resync", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no resync after the listener's connection was cut")
	}
	waitFor(store.Event{Kind: store.EventRevoke, ID: "device-2"})

	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Listen returned %v, want context.Canceled", err)
	}
}
