package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// testKey returns a distinct cookie key pair derived from n.
func testKey(n int, created time.Time) store.CookieKey {
	return store.CookieKey{
		ID:       fmt.Sprintf("key-%d", n),
		HashKey:  bytes.Repeat([]byte{byte(n), 0xA5}, 32), // 64 bytes
		BlockKey: bytes.Repeat([]byte{0x5A, byte(n)}, 16), // 32 bytes
		Created:  created,
	}
}

// checkKeys reports whether got holds exactly want, in order, field by field.
func checkKeys(t *testing.T, got []store.CookieKey, want ...store.CookieKey) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d cookie keys %v, want %d %v", len(got), keyIDs(got), len(want), keyIDs(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID {
			t.Errorf("key %d: ID = %q, want %q (got order %v)", i, g.ID, w.ID, keyIDs(got))
			continue
		}
		if !bytes.Equal(g.HashKey, w.HashKey) {
			t.Errorf("key %s: HashKey = %x, want %x", w.ID, g.HashKey, w.HashKey)
		}
		if !bytes.Equal(g.BlockKey, w.BlockKey) {
			t.Errorf("key %s: BlockKey = %x, want %x", w.ID, g.BlockKey, w.BlockKey)
		}
		if !g.Created.Equal(w.Created) {
			t.Errorf("key %s: Created = %v, want %v", w.ID, g.Created, w.Created)
		}
		if g.Created.Location() != time.UTC {
			t.Errorf("key %s: Created is in %v, want UTC", w.ID, g.Created.Location())
		}
	}
}

func keyIDs(keys []store.CookieKey) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

func (s suite) cookieKeysIsEmptyOnNewStore(t *testing.T) {
	st := s.newStore(t)
	keys, err := st.CookieKeys(t.Context())
	if err != nil {
		t.Fatalf("CookieKeys: %v", err)
	}
	if len(keys) != 0 {
		t.Errorf("new store has cookie keys %v, want none", keyIDs(keys))
	}
}

func (s suite) initCookieKeysStoresCandidateOnEmptyStore(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	// Created in another zone must come back as the same instant in UTC.
	candidate := testKey(1, base.In(time.FixedZone("UTC+2", 2*60*60)))

	got, err := st.InitCookieKeys(ctx, candidate)
	if err != nil {
		t.Fatalf("InitCookieKeys: %v", err)
	}
	checkKeys(t, got, candidate)

	stored, err := st.CookieKeys(ctx)
	if err != nil {
		t.Fatalf("CookieKeys: %v", err)
	}
	checkKeys(t, stored, candidate)
}

func (s suite) initCookieKeysKeepsFirstKey(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	first, second := testKey(1, base), testKey(2, base.Add(time.Hour))

	if _, err := st.InitCookieKeys(ctx, first); err != nil {
		t.Fatalf("first InitCookieKeys: %v", err)
	}
	got, err := st.InitCookieKeys(ctx, second)
	if err != nil {
		t.Fatalf("second InitCookieKeys: %v", err)
	}
	checkKeys(t, got, first)

	stored, err := st.CookieKeys(ctx)
	if err != nil {
		t.Fatalf("CookieKeys: %v", err)
	}
	checkKeys(t, stored, first)
}

func (s suite) initCookieKeysKeepsKeysAlreadyAdded(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	added, candidate := testKey(1, base), testKey(2, base.Add(time.Hour))

	if err := st.AddCookieKey(ctx, added); err != nil {
		t.Fatalf("AddCookieKey: %v", err)
	}
	got, err := st.InitCookieKeys(ctx, candidate)
	if err != nil {
		t.Fatalf("InitCookieKeys: %v", err)
	}
	checkKeys(t, got, added)
}

func (s suite) addCookieKeyMakesKeyNewestAndKeepsOlder(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	k1, k2, k3 := testKey(1, base), testKey(2, base.Add(time.Hour)), testKey(3, base.Add(2*time.Hour))

	if _, err := st.InitCookieKeys(ctx, k1); err != nil {
		t.Fatalf("InitCookieKeys: %v", err)
	}
	for _, k := range []store.CookieKey{k2, k3} {
		if err := st.AddCookieKey(ctx, k); err != nil {
			t.Fatalf("AddCookieKey(%s): %v", k.ID, err)
		}
	}
	got, err := st.CookieKeys(ctx)
	if err != nil {
		t.Fatalf("CookieKeys: %v", err)
	}
	checkKeys(t, got, k3, k2, k1)
}

// A rotation done on an instance whose clock runs behind must still make the
// new key the one that encodes cookies.
func (s suite) addCookieKeyMakesKeyNewestDespiteEarlierCreated(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	old, rotated := testKey(1, base), testKey(2, base.Add(-time.Hour))

	if err := st.AddCookieKey(ctx, old); err != nil {
		t.Fatalf("AddCookieKey(%s): %v", old.ID, err)
	}
	if err := st.AddCookieKey(ctx, rotated); err != nil {
		t.Fatalf("AddCookieKey(%s): %v", rotated.ID, err)
	}
	got, err := st.CookieKeys(ctx)
	if err != nil {
		t.Fatalf("CookieKeys: %v", err)
	}
	checkKeys(t, got, rotated, old)
}

func (s suite) addCookieKeyRejectsDuplicateID(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	k := testKey(1, base)

	if err := st.AddCookieKey(ctx, k); err != nil {
		t.Fatalf("AddCookieKey: %v", err)
	}
	dup := testKey(2, base.Add(time.Hour))
	dup.ID = k.ID
	if err := st.AddCookieKey(ctx, dup); err == nil {
		t.Error("AddCookieKey with an ID already stored succeeded, want an error")
	}
	got, err := st.CookieKeys(ctx)
	if err != nil {
		t.Fatalf("CookieKeys: %v", err)
	}
	checkKeys(t, got, k)
}
