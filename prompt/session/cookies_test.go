package session

import (
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

type cookieValue struct {
	User string `json:"u"`
}

func TestCookieCodecRefusesTamperedAndForeignCookies(t *testing.T) {
	now := time.Now()
	codec, err := NewCookieCodec([]store.CookieKey{NewCookieKey(now)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	value, err := codec.Encode("tg_session", cookieValue{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	var got cookieValue
	if err := codec.Decode("tg_session", value, &got); err != nil || got.User != "alice" {
		t.Fatalf("round trip: %v %+v", err, got)
	}

	// One character changed anywhere makes it invalid.
	for i := 0; i < len(value); i += len(value) / 7 {
		b := []byte(value)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if err := codec.Decode("tg_session", string(b), &got); err == nil {
			t.Errorf("tampered at %d: decoded", i)
		}
	}
	// Made for another cookie name.
	if err := codec.Decode("tg_flow", value, &got); err == nil {
		t.Error("cookie accepted under another name")
	}
	// Made with a key this codec does not hold.
	other, _ := NewCookieCodec([]store.CookieKey{NewCookieKey(now)}, nil)
	foreign, _ := other.Encode("tg_session", cookieValue{User: "mallory"})
	if err := codec.Decode("tg_session", foreign, &got); err == nil {
		t.Error("cookie signed with an unknown key decoded")
	}
	if err := codec.Decode("tg_session", strings.Repeat("A", 5000), &got); err == nil {
		t.Error("oversized garbage decoded")
	}
}

func TestCookieCodecRotationKeepsOldCookiesAndSignsWithNewKeyOnceSettled(t *testing.T) {
	clock := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	oldKey := NewCookieKey(clock.Add(-30 * 24 * time.Hour))
	codec, err := NewCookieCodec([]store.CookieKey{oldKey}, now)
	if err != nil {
		t.Fatal(err)
	}
	oldCookie, _ := codec.Encode("tg_session", cookieValue{User: "alice"})

	newKey := NewCookieKey(clock)
	if err := codec.SetKeys([]store.CookieKey{newKey, oldKey}); err != nil {
		t.Fatal(err)
	}
	onlyNew, _ := NewCookieCodec([]store.CookieKey{newKey}, now)
	onlyOld, _ := NewCookieCodec([]store.CookieKey{oldKey}, now)

	var got cookieValue
	if err := codec.Decode("tg_session", oldCookie, &got); err != nil {
		t.Fatalf("old cookie after rotation: %v", err)
	}
	// Just rotated: other instances may not know the new key yet, so new
	// cookies still use the old one.
	fresh, _ := codec.Encode("tg_session", cookieValue{User: "bob"})
	if err := onlyOld.Decode("tg_session", fresh, &got); err != nil {
		t.Fatalf("cookie made right after rotation is not signed with the settled key: %v", err)
	}
	// Once the new key has propagated, it signs.
	clock = clock.Add(KeyPropagationDelay + time.Second)
	settled, _ := codec.Encode("tg_session", cookieValue{User: "carol"})
	if err := onlyNew.Decode("tg_session", settled, &got); err != nil || got.User != "carol" {
		t.Fatalf("cookie after propagation is not signed with the newest key: %v", err)
	}
	if err := codec.Decode("tg_session", oldCookie, &got); err != nil {
		t.Fatalf("old cookie no longer decodes: %v", err)
	}
}

func TestCookieCodecRejectsBadKeys(t *testing.T) {
	cases := map[string]store.CookieKey{
		"short hash key":  {ID: "a", HashKey: make([]byte, 16), BlockKey: make([]byte, 32)},
		"short block key": {ID: "b", HashKey: make([]byte, 32), BlockKey: make([]byte, 16)},
	}
	for name, k := range cases {
		if _, err := NewCookieCodec([]store.CookieKey{k}, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewCookieCodec(nil, nil); err == nil {
		t.Error("no keys: accepted")
	}
}
