package device

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// rfc6238Secret is the SHA-1 seed of RFC 6238 appendix B,
// "12345678901234567890", in base32.
const rfc6238Secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

func TestPasscodeMatchesRFC6238Vectors(t *testing.T) {
	// RFC 6238 appendix B gives 8-digit codes; six-digit codes are their
	// last six digits.
	vectors := map[int64]string{
		59:          "287082",
		1111111109:  "081804",
		1111111111:  "050471",
		1234567890:  "005924",
		2000000000:  "279037",
		20000000000: "353130",
	}
	for unix, code := range vectors {
		now := time.Unix(unix, 0)
		got, err := PasscodeAt(rfc6238Secret, now)
		if err != nil || got != code {
			t.Errorf("PasscodeAt(T=%d) = %q, %v; want %q", unix, got, err, code)
		}
		step, ok := MatchPasscode(rfc6238Secret, code, now)
		if !ok || step != unix/30 {
			t.Errorf("MatchPasscode(T=%d) = %d, %v; want step %d", unix, step, ok, unix/30)
		}
	}
}

func TestPasscodeAcceptsOneStepOfDriftOnly(t *testing.T) {
	now := time.Unix(1234567890, 0) // step 41152263
	for _, tc := range []struct {
		offset time.Duration
		ok     bool
	}{
		{-60 * time.Second, false},
		{-30 * time.Second, true},
		{0, true},
		{30 * time.Second, true},
		{60 * time.Second, false},
	} {
		code, _ := PasscodeAt(rfc6238Secret, now.Add(tc.offset))
		step, ok := MatchPasscode(rfc6238Secret, code, now)
		if ok != tc.ok {
			t.Errorf("code from %v away: ok=%v, want %v", tc.offset, ok, tc.ok)
		}
		if ok && step != now.Add(tc.offset).Unix()/30 {
			t.Errorf("code from %v away matched step %d", tc.offset, step)
		}
	}
}

func TestPasscodeRefusesMalformedCodes(t *testing.T) {
	now := time.Unix(59, 0)
	for _, code := range []string{"", "28708", "2870820", "28708a", "94287082", " 287082"} {
		if _, ok := MatchPasscode(rfc6238Secret, code, now); ok {
			t.Errorf("MatchPasscode(%q) accepted", code)
		}
	}
}

func TestNewPasscodeSecretProvisionsAnAuthenticator(t *testing.T) {
	secret, uri, err := NewPasscodeSecret("trustgate", "alice")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || !strings.Contains(u.Path, "alice") {
		t.Fatalf("provisioning URI %q", uri)
	}
	q := u.Query()
	if q.Get("secret") != secret || q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Fatalf("provisioning URI parameters %v", q)
	}
	other, _, _ := NewPasscodeSecret("trustgate", "alice")
	if other == secret || len(secret) < 32 {
		t.Fatalf("secrets are not fresh and long: %q %q", secret, other)
	}
	code, _ := PasscodeAt(secret, time.Now())
	if _, ok := MatchPasscode(secret, code, time.Now()); !ok {
		t.Fatal("a fresh secret's current code does not match")
	}
}
