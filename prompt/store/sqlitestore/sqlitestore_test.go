package sqlitestore

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/storetest"
)

// openTemp opens a store in a new file under t's temporary directory.
func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trustgate.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, path
}

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t)
		return s
	})
}

func TestTwoHandlesOnOneFileActAsSharedInstances(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		a, path := openTemp(t)
		b, err := Open(path)
		if err != nil {
			a.Close()
			t.Fatalf("Open second handle: %v", err)
		}
		return a, b
	})
}

func TestReopenKeepsData(t *testing.T) {
	s, path := openTemp(t)
	ctx := t.Context()
	key := store.CookieKey{
		ID:       "k1",
		HashKey:  bytes.Repeat([]byte{1}, 64),
		BlockKey: bytes.Repeat([]byte{2}, 32),
		Created:  time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC),
	}
	if _, err := s.InitCookieKeys(ctx, key); err != nil {
		t.Fatalf("InitCookieKeys: %v", err)
	}
	id, err := s.AppendAuthLog(ctx, store.AuthLogEntry{Time: key.Created, User: "alice", Result: store.ResultSuccess})
	if err != nil {
		t.Fatalf("AppendAuthLog: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer s.Close()
	keys, err := s.InitCookieKeys(ctx, store.CookieKey{ID: "k2", HashKey: []byte("other")})
	if err != nil {
		t.Fatalf("InitCookieKeys after reopening: %v", err)
	}
	if len(keys) != 1 || keys[0].ID != "k1" || !bytes.Equal(keys[0].HashKey, key.HashKey) {
		t.Errorf("after reopening, cookie keys = %+v, want only k1", keys)
	}
	entries, err := s.QueryAuthLog(ctx, store.AuthLogQuery{})
	if err != nil {
		t.Fatalf("QueryAuthLog after reopening: %v", err)
	}
	if len(entries) != 1 || entries[0].ID != id {
		t.Errorf("after reopening, auth log IDs = %v, want [%d]", entries, id)
	}
}

func TestOpenCreatesPrivateParentDirectories(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "caddy", "trustgate")
	s, err := Open(filepath.Join(dir, "trustgate.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("stat parent directory: %v", err)
	}
	if runtime.GOOS != "windows" {
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("parent directory mode = %v, want no access for group or others", perm)
		}
	}
}

func TestOpenHandlesPathsThatLookLikeURIs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd?name#frag%20 dir")
	path := filepath.Join(dir, "trust?gate.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if err := s.AddFailure(t.Context(), "k", time.Now()); err != nil {
		t.Fatalf("AddFailure: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at the path given: %v", err)
	}
}

func TestOpenRejectsFileThatIsNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Caddyfile")
	content := strings.Repeat("example.com {\n\treverse_proxy localhost:8080\n}\n", 100)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a text file succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "not a SQLite database") || !strings.Contains(err.Error(), path) {
		t.Errorf("Open error = %q, want it to name the file and say it is not a SQLite database", err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != content {
		t.Error("Open changed the file that is not a database")
	}
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	s, path := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	steps, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	future := len(steps) + 1
	setUserVersion(t, path, future)

	s, err = Open(path)
	if err == nil {
		s.Close()
		t.Fatalf("Open of a database at schema version %d succeeded, want an error", future)
	}
	if !strings.Contains(err.Error(), "newer than this trustgate supports") {
		t.Errorf("Open error = %q, want it to say the schema is newer", err)
	}
}

// setUserVersion sets the schema version of the database at path directly.
func setUserVersion(t *testing.T, path string, version int) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("PRAGMA user_version = " + strconv.Itoa(version)); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentOpensOfNewFileAllSucceed(t *testing.T) {
	steps, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	// Switching a new file to WAL and migrating it both race between
	// processes, and a race is lost only now and then, so run it on several
	// new files.
	const rounds, opens = 30, 16
	for round := range rounds {
		path := filepath.Join(t.TempDir(), "trustgate.db")
		stores := make([]*Store, opens)
		errs := make([]error, opens)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range opens {
			wg.Go(func() {
				<-start
				stores[i], errs[i] = Open(path)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err == nil {
				defer stores[i].Close()
			} else {
				t.Errorf("round %d: Open %d of %d at once: %v", round, i, opens, err)
			}
		}
		if t.Failed() {
			return
		}
		version, err := schemaVersion(t.Context(), stores[0].db)
		if err != nil {
			t.Fatal(err)
		}
		if version != len(steps) {
			t.Fatalf("round %d: schema version = %d, want %d", round, version, len(steps))
		}
	}
}

func TestConnectionsUseDurableSettings(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	// Hold two connections at once so that the check covers more than the
	// one that ran the migration.
	ctx := t.Context()
	for i := range 2 {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var journal string
		var synchronous, busy, foreignKeys int
		for _, p := range []struct {
			pragma string
			dest   any
		}{
			{"journal_mode", &journal},
			{"synchronous", &synchronous},
			{"busy_timeout", &busy},
			{"foreign_keys", &foreignKeys},
		} {
			if err := conn.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(p.dest); err != nil {
				t.Fatalf("connection %d: PRAGMA %s: %v", i, p.pragma, err)
			}
		}
		const full = 2
		if journal != "wal" || synchronous != full || busy != int(busyTimeout.Milliseconds()) || foreignKeys != 1 {
			t.Errorf("connection %d: journal_mode=%s synchronous=%d busy_timeout=%d foreign_keys=%d; want wal, 2 (FULL), %d, 1",
				i, journal, synchronous, busy, foreignKeys, busyTimeout.Milliseconds())
		}
	}
}

func TestMigrationsAreNumberedFromOne(t *testing.T) {
	steps, err := loadMigrations()
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	if len(steps) == 0 || !strings.HasPrefix(steps[0].Name, "0001_") {
		t.Errorf("migrations = %v, want a first step named 0001_*", steps)
	}
}

func TestOpenUpgradesVersion2AuthLogAndKeepsOldRows(t *testing.T) {
	steps, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) < 3 || !strings.HasPrefix(steps[2].Name, "0003_") {
		t.Fatalf("migrations = %v, want a third step named 0003_*", steps)
	}
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "trustgate.db")

	// Build the database an older trustgate left behind: the schema of
	// steps 1 and 2 only, and a row written by version 2's AppendAuthLog,
	// which knew none of the device-trust columns.
	dsn, err := dataSourceName(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range steps[:2] {
		if _, err := db.ExecContext(ctx, step.SQL); err != nil {
			db.Close()
			t.Fatalf("applying %s: %v", step.Name, err)
		}
	}
	if _, err := db.ExecContext(ctx, "PRAGMA user_version = 2"); err != nil {
		db.Close()
		t.Fatal(err)
	}
	at := time.Date(2024, time.November, 5, 8, 30, 0, 250000000, time.UTC)
	res, err := db.ExecContext(ctx, `
		INSERT INTO auth_log (at, username, email, group_names, application, result,
			reason, factor, trust_status, ip, user_agent, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		micros(at), "alice", "alice@example.com", `["admins","staff"]`, "wiki",
		store.ResultDenied, "locked_out", "password", "unknown", "192.0.2.1",
		"Mozilla/5.0 (X11; Linux x86_64)", "written at schema version 2")
	if err != nil {
		db.Close()
		t.Fatalf("inserting a version 2 auth-log row: %v", err)
	}
	oldID, err := res.LastInsertId()
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open of a version 2 database: %v", err)
	}
	defer s.Close()
	version, err := schemaVersion(ctx, s.db)
	if err != nil {
		t.Fatal(err)
	}
	if version != len(steps) {
		t.Errorf("schema version after Open = %d, want %d", version, len(steps))
	}

	entries, err := s.QueryAuthLog(ctx, store.AuthLogQuery{})
	if err != nil {
		t.Fatalf("QueryAuthLog after upgrade: %v", err)
	}
	want := store.AuthLogEntry{
		ID:          oldID,
		Time:        at,
		User:        "alice",
		Email:       "alice@example.com",
		Groups:      []string{"admins", "staff"},
		Application: "wiki",
		Result:      store.ResultDenied,
		Reason:      "locked_out",
		Factor:      "password",
		TrustStatus: "unknown",
		IP:          "192.0.2.1",
		UserAgent:   "Mozilla/5.0 (X11; Linux x86_64)",
		Detail:      "written at schema version 2",
	}
	// DeepEqual against an entry with every new field at its zero value:
	// nil lists and facts, not empty ones.
	if len(entries) != 1 || !reflect.DeepEqual(entries[0], want) {
		t.Fatalf("after upgrade, auth log = %+v, want only %+v", entries, want)
	}

	// The old row takes part in the new filters as what it is: a login
	// that would not have been blocked.
	for _, tt := range []struct {
		q    store.AuthLogQuery
		want []int64
	}{
		{store.AuthLogQuery{WouldBlock: ptr(false)}, []int64{oldID}},
		{store.AuthLogQuery{WouldBlock: ptr(true)}, nil},
		{store.AuthLogQuery{Factor: "password", TrustStatus: "unknown"}, []int64{oldID}},
	} {
		got, err := s.QueryAuthLog(ctx, tt.q)
		if err != nil {
			t.Fatalf("QueryAuthLog(%+v): %v", tt.q, err)
		}
		var ids []int64
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("QueryAuthLog(%+v) IDs = %v, want %v", tt.q, ids, tt.want)
		}
	}

	// New entries with every field go in beside the old one.
	newEntry := store.AuthLogEntry{
		Time: at.Add(time.Minute), User: "alice", Result: store.ResultSuccess,
		Mode: "check", WouldBlock: true, FailedRequirements: []string{"no_screen_lock"},
		DeviceID: "thumbprint-1", DeviceFacts: json.RawMessage(`{"screen_lock":false}`),
		AccessDevice: store.AccessDevice{Kind: "iphone", OS: "iOS", OSVersion: "17.4.1", Browser: "Safari"},
		Unbound:      true,
	}
	newID, err := s.AppendAuthLog(ctx, newEntry)
	if err != nil {
		t.Fatalf("AppendAuthLog after upgrade: %v", err)
	}
	got, err := s.QueryAuthLog(ctx, store.AuthLogQuery{WouldBlock: ptr(true)})
	if err != nil {
		t.Fatalf("QueryAuthLog after upgrade: %v", err)
	}
	newEntry.ID = newID
	if len(got) != 1 || !reflect.DeepEqual(got[0], newEntry) {
		t.Errorf("after upgrade, would-block entries = %+v, want only %+v", got, newEntry)
	}
}

func TestWouldBlockQueryUsesItsIndex(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	// The literal must match QueryAuthLog's: a parameter would keep the
	// planner off the partial index.
	rows, err := s.db.QueryContext(t.Context(),
		"EXPLAIN QUERY PLAN SELECT id FROM auth_log WHERE would_block = 1 ORDER BY id DESC LIMIT 100")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan, "\n"), "auth_log_would_block") {
		t.Errorf("query plan for would_block = 1:\n%s\nwant it to use index auth_log_would_block", strings.Join(plan, "\n"))
	}
}

func ptr[T any](v T) *T { return &v }
