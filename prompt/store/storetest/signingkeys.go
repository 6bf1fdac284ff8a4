package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// testSigningKey returns a distinct signing key derived from n. The store
// keeps PrivateKey as opaque bytes, so it need not be a real key here.
func testSigningKey(n int, created time.Time) store.SigningKey {
	return store.SigningKey{
		ID:         fmt.Sprintf("sig-%d", n),
		PrivateKey: bytes.Repeat([]byte{byte(n), 0x3C, 0xC3}, 45), // about the size of a P-256 PKCS #8 key
		Created:    created,
		Activates:  created.Add(10 * time.Minute),
	}
}

// checkSigningKeys reports whether got holds exactly want, in order, field
// by field.
func checkSigningKeys(t *testing.T, got []store.SigningKey, want ...store.SigningKey) {
	t.Helper()
	ids := func(keys []store.SigningKey) []string {
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = k.ID
		}
		return out
	}
	if len(got) != len(want) {
		t.Fatalf("got %d signing keys %v, want %d %v", len(got), ids(got), len(want), ids(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID {
			t.Errorf("signing key %d: ID = %q, want %q (got order %v)", i, g.ID, w.ID, ids(got))
			continue
		}
		if !bytes.Equal(g.PrivateKey, w.PrivateKey) {
			t.Errorf("signing key %s: PrivateKey differs from what was stored", w.ID)
		}
		if !g.Created.Equal(w.Created) || g.Created.Location() != time.UTC {
			t.Errorf("signing key %s: Created = %v, want %v in UTC", w.ID, g.Created, w.Created)
		}
		if !g.Activates.Equal(w.Activates) || g.Activates.Location() != time.UTC {
			t.Errorf("signing key %s: Activates = %v, want %v in UTC", w.ID, g.Activates, w.Activates)
		}
	}
}

// signingKeys runs the single-handle signing-key cases.
func (s suite) signingKeys(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"AreEmptyOnNewStore", s.signingKeysAreEmptyOnNewStore},
		{"InitStoresCandidateOnEmptyStore", s.initSigningKeysStoresCandidateOnEmptyStore},
		{"InitKeepsFirstKey", s.initSigningKeysKeepsFirstKey},
		{"InitKeepsKeysAlreadyAdded", s.initSigningKeysKeepsKeysAlreadyAdded},
		{"AddMakesKeyNewestDespiteEarlierCreated", s.addSigningKeyMakesKeyNewestDespiteEarlierCreated},
		{"AddRejectsDuplicateID", s.addSigningKeyRejectsDuplicateID},
		{"CanceledContextChangesNothing", s.signingKeysWithCanceledContextChangeNothing},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func (s suite) signingKeysAreEmptyOnNewStore(t *testing.T) {
	st := s.newStore(t)
	got, err := st.SigningKeys(t.Context())
	if err != nil {
		t.Fatalf("SigningKeys: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("new store has %d signing keys, want none", len(got))
	}
}

func (s suite) initSigningKeysStoresCandidateOnEmptyStore(t *testing.T) {
	st := s.newStore(t)
	k := testSigningKey(1, base)
	got, err := st.InitSigningKeys(t.Context(), k)
	if err != nil {
		t.Fatalf("InitSigningKeys: %v", err)
	}
	checkSigningKeys(t, got, k)
	stored, err := st.SigningKeys(t.Context())
	if err != nil {
		t.Fatalf("SigningKeys: %v", err)
	}
	checkSigningKeys(t, stored, k)
}

func (s suite) initSigningKeysKeepsFirstKey(t *testing.T) {
	st := s.newStore(t)
	first, second := testSigningKey(1, base), testSigningKey(2, base.Add(time.Hour))
	if _, err := st.InitSigningKeys(t.Context(), first); err != nil {
		t.Fatalf("InitSigningKeys: %v", err)
	}
	got, err := st.InitSigningKeys(t.Context(), second)
	if err != nil {
		t.Fatalf("second InitSigningKeys: %v", err)
	}
	checkSigningKeys(t, got, first)
}

func (s suite) initSigningKeysKeepsKeysAlreadyAdded(t *testing.T) {
	st := s.newStore(t)
	added, candidate := testSigningKey(1, base), testSigningKey(2, base.Add(time.Hour))
	if err := st.AddSigningKey(t.Context(), added); err != nil {
		t.Fatalf("AddSigningKey: %v", err)
	}
	got, err := st.InitSigningKeys(t.Context(), candidate)
	if err != nil {
		t.Fatalf("InitSigningKeys: %v", err)
	}
	checkSigningKeys(t, got, added)
}

// A rotation done on an instance whose clock runs behind must still make the
// new key the newest.
func (s suite) addSigningKeyMakesKeyNewestDespiteEarlierCreated(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	k1, k2, k3 := testSigningKey(1, base), testSigningKey(2, base.Add(time.Hour)), testSigningKey(3, base.Add(-time.Hour))
	if _, err := st.InitSigningKeys(ctx, k1); err != nil {
		t.Fatalf("InitSigningKeys: %v", err)
	}
	for _, k := range []store.SigningKey{k2, k3} {
		if err := st.AddSigningKey(ctx, k); err != nil {
			t.Fatalf("AddSigningKey(%s): %v", k.ID, err)
		}
	}
	got, err := st.SigningKeys(ctx)
	if err != nil {
		t.Fatalf("SigningKeys: %v", err)
	}
	checkSigningKeys(t, got, k3, k2, k1)
}

func (s suite) addSigningKeyRejectsDuplicateID(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	k := testSigningKey(1, base)
	if err := st.AddSigningKey(ctx, k); err != nil {
		t.Fatalf("AddSigningKey: %v", err)
	}
	dup := testSigningKey(2, base.Add(time.Hour))
	dup.ID = k.ID
	if err := st.AddSigningKey(ctx, dup); err == nil {
		t.Error("AddSigningKey with an ID already stored succeeded, want an error")
	}
	got, err := st.SigningKeys(ctx)
	if err != nil {
		t.Fatalf("SigningKeys: %v", err)
	}
	checkSigningKeys(t, got, k)
}

func (s suite) signingKeysWithCanceledContextChangeNothing(t *testing.T) {
	st := s.newStore(t)
	canceled := canceledContext()
	if _, err := st.InitSigningKeys(canceled, testSigningKey(1, base)); !errors.Is(err, context.Canceled) {
		t.Errorf("InitSigningKeys with a canceled context: err = %v, want context.Canceled", err)
	}
	if err := st.AddSigningKey(canceled, testSigningKey(2, base)); !errors.Is(err, context.Canceled) {
		t.Errorf("AddSigningKey with a canceled context: err = %v, want context.Canceled", err)
	}
	if _, err := st.SigningKeys(canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("SigningKeys with a canceled context: err = %v, want context.Canceled", err)
	}
	got, err := st.SigningKeys(t.Context())
	if err != nil {
		t.Fatalf("SigningKeys: %v", err)
	}
	checkSigningKeys(t, got)
}

// signingKeysAcrossInstances runs the signing-key cases for two handles on
// one database.
func (s sharedSuite) signingKeysAcrossInstances(t *testing.T) {
	t.Run("InitAgrees", s.initSigningKeysAgreesAcrossInstances)
	t.Run("AddIsSeenByOtherInstance", s.addSigningKeyIsSeenByOtherInstance)
}

func (s sharedSuite) initSigningKeysAgreesAcrossInstances(t *testing.T) {
	const rounds, callers = 5, 6
	for round := range rounds {
		a, b := s.newPair(t)
		handles := []store.Store{a, b}
		results := make([][]store.SigningKey, callers)
		errs := make([]error, callers)
		parallel(callers, func(i int) {
			results[i], errs[i] = handles[i%2].InitSigningKeys(t.Context(), testSigningKey(i+1, base))
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: InitSigningKeys %d: %v", round, i, err)
			}
		}
		if len(results[0]) != 1 || !strings.HasPrefix(results[0][0].ID, "sig-") {
			t.Fatalf("round %d: InitSigningKeys 0 got %d keys, want exactly 1 candidate", round, len(results[0]))
		}
		winner := results[0][0]
		for i := 1; i < callers; i++ {
			checkSigningKeys(t, results[i], winner)
		}
		for _, h := range handles {
			stored, err := h.SigningKeys(t.Context())
			if err != nil {
				t.Fatalf("round %d: SigningKeys: %v", round, err)
			}
			checkSigningKeys(t, stored, winner)
		}
	}
}

func (s sharedSuite) addSigningKeyIsSeenByOtherInstance(t *testing.T) {
	a, b := s.newPair(t)
	ctx := t.Context()
	k1, k2 := testSigningKey(1, base), testSigningKey(2, base.Add(time.Hour))
	if _, err := a.InitSigningKeys(ctx, k1); err != nil {
		t.Fatalf("InitSigningKeys on a: %v", err)
	}
	if err := b.AddSigningKey(ctx, k2); err != nil {
		t.Fatalf("AddSigningKey on b: %v", err)
	}
	got, err := a.SigningKeys(ctx)
	if err != nil {
		t.Fatalf("SigningKeys on a: %v", err)
	}
	checkSigningKeys(t, got, k2, k1)
}
