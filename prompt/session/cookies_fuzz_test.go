package session

import (
	"reflect"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// FuzzCookieDecode feeds arbitrary values to the session-cookie decoder.
// Nothing but a value the codec itself encoded may decode, so whatever
// decodes must carry exactly the session that was encoded: a forged or
// tampered cookie never yields a session of the attacker's choosing.
func FuzzCookieDecode(f *testing.F) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	key := store.CookieKey{ID: "k1", HashKey: make([]byte, 32), BlockKey: make([]byte, 32), Created: now.Add(-time.Hour)}
	for i := range key.HashKey {
		key.HashKey[i], key.BlockKey[i] = byte(i), byte(255-i)
	}
	codec, err := NewCookieCodec([]store.CookieKey{key}, func() time.Time { return now })
	if err != nil {
		f.Fatal(err)
	}
	want := Session{ID: "s1", Factor: "password"}
	want.User, want.Email, want.Groups = "alice", "alice@example.com", []string{"staff"}
	good, err := codec.Encode(CookieBase, want)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-1] + "A")
	f.Add(good[1:])
	f.Add("")
	f.Add("MTcwMDAwMDAwMHx8")
	f.Add("a|b|c")
	f.Fuzz(func(t *testing.T, value string) {
		var got Session
		if err := codec.Decode(CookieBase, value, &got); err != nil {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("value %q decoded to %+v, which was never encoded", value, got)
		}
	})
}
