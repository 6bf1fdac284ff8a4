package sqlitestore

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
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
	if len(steps) == 0 || !strings.HasPrefix(steps[0].name, "0001_") {
		t.Errorf("migrations = %v, want a first step named 0001_*", steps)
	}
}
