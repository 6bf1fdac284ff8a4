package secret

import (
	"encoding/base64"
	"testing"
)

func TestTokenIsLongAndFresh(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := Token()
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != 32 {
			t.Fatalf("token %q: %d bytes, %v", tok, len(raw), err)
		}
		if seen[tok] {
			t.Fatalf("token %q made twice", tok)
		}
		seen[tok] = true
	}
}

func TestHashIsStableAndHidesTheSecret(t *testing.T) {
	if Hash("code") == Hash("code2") {
		t.Fatal("two secrets hash alike")
	}
	// SHA-256 of "code", base64url without padding.
	if got, want := Hash("code"), "VpTQii5T_8rgwxA-Wtb2B2q9lg6x-KVldwQLwQKPcCs"; got != want {
		t.Errorf("Hash(code) = %q, want %q", got, want)
	}
}

func TestEqualNeverMatchesEmpty(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"x", "x", true}, {"x", "y", false}, {"", "", false}, {"x", "", false}, {"", "x", false}, {"xy", "x", false},
	} {
		if got := Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("Equal(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}
