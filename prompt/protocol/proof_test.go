package protocol

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var (
	testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	testURL = mustURL("https://gate.example.com/.trustgate/device/v1/report?x=1")
	body    = []byte(`{"transaction":"abc","facts":{}}`)
)

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// keysOf returns a Key lookup that knows the given devices.
func keysOf(t *testing.T, keys ...*ecdsa.PrivateKey) func(string) (*ecdsa.PublicKey, error) {
	known := map[string]*ecdsa.PublicKey{}
	for _, k := range keys {
		id, err := DeviceID(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		known[id] = &k.PublicKey
	}
	return func(id string) (*ecdsa.PublicKey, error) {
		if pub, ok := known[id]; ok {
			return pub, nil
		}
		return nil, fmt.Errorf("%w: %s", ErrUnknownDevice, id)
	}
}

func check(key func(string) (*ecdsa.PublicKey, error)) ProofCheck {
	return ProofCheck{Method: "POST", URL: testURL, Body: body, Now: testNow, Key: key}
}

func TestDeviceProofVerifiesForItsRequest(t *testing.T) {
	k := newKey(t)
	token, err := SignProof(k, false, "post", testURL, body, testNow.Add(-5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	vp, err := VerifyProof(token, check(keysOf(t, k)))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := DeviceID(&k.PublicKey)
	if vp.DeviceID != id || vp.Claims.ID == "" || vp.Claims.URL != "https://gate.example.com/.trustgate/device/v1/report" {
		t.Fatalf("verified proof %+v", vp)
	}
	other, _ := SignProof(k, false, "POST", testURL, body, testNow)
	vp2, _ := VerifyProof(other, check(keysOf(t, k)))
	if vp2.Claims.ID == vp.Claims.ID {
		t.Fatal("two proofs share a jti")
	}
}

func TestActivationProofCarriesItsKey(t *testing.T) {
	k := newKey(t)
	token, err := SignProof(k, true, "POST", testURL, body, testNow)
	if err != nil {
		t.Fatal(err)
	}
	vp, err := VerifyProof(token, check(nil))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := DeviceID(&k.PublicKey)
	if vp.DeviceID != id || !vp.Key.Equal(&k.PublicKey) {
		t.Fatal("activation proof did not yield the signing key")
	}
	// An embedded-key proof is not accepted where a known device must sign,
	// and a kid proof is not accepted for activation.
	if _, err := VerifyProof(token, check(keysOf(t, k))); !errors.Is(err, ErrMalformedProof) {
		t.Fatalf("embedded key on a device request: %v", err)
	}
	kidProof, _ := SignProof(k, false, "POST", testURL, body, testNow)
	if _, err := VerifyProof(kidProof, check(nil)); !errors.Is(err, ErrMalformedProof) {
		t.Fatalf("kid proof for activation: %v", err)
	}
}

func TestDeviceProofRefusals(t *testing.T) {
	device, stranger := newKey(t), newKey(t)
	known := keysOf(t, device)
	sign := func(k *ecdsa.PrivateKey, method string, u *url.URL, b []byte, at time.Time) string {
		tok, err := SignProof(k, false, method, u, b, at)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := sign(device, "POST", testURL, body, testNow)
	parts := strings.Split(good, ".")

	// A proof whose kid names the known device but is signed by another key.
	strangerToken := sign(stranger, "POST", testURL, body, testNow)
	sParts := strings.Split(strangerToken, ".")
	kidSwapped := parts[0] + "." + sParts[1] + "." + sParts[2]

	// The payload changed after signing.
	claims := ProofClaims{}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(raw, &claims)
	claims.URL = "https://gate.example.com/.trustgate/device/v1/push/approve"
	tamperedPayload, _ := json.Marshal(claims)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(tamperedPayload) + "." + parts[2]

	// alg none and HS256 with the public key as secret.
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"trustgate-proof+jwt","kid":"x"}`))
	algNone := noneHeader + "." + parts[1] + "."
	id, _ := DeviceID(&device.PublicKey)
	hsHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"trustgate-proof+jwt","kid":"` + id + `"}`))
	mac := hmac.New(sha256.New, []byte(id))
	mac.Write([]byte(hsHeader + "." + parts[1]))
	hs256 := hsHeader + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))

	// No typ.
	noTypHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"` + id + `"}`))
	noTyp := noTypHeader + "." + parts[1] + "." + parts[2]

	cases := []struct {
		name  string
		token string
		check ProofCheck
		want  error
	}{
		{"stranger key", strangerToken, check(known), ErrUnknownDevice},
		{"kid of another device", kidSwapped, check(known), ErrProofSignature},
		{"tampered payload", tampered, check(known), ErrProofSignature},
		{"alg none", algNone, check(known), ErrMalformedProof},
		{"HS256 with public key", hs256, check(known), ErrMalformedProof},
		{"no typ", noTyp, check(known), ErrMalformedProof},
		{"stale", sign(device, "POST", testURL, body, testNow.Add(-2*time.Minute)), check(known), ErrProofStale},
		{"from the future", sign(device, "POST", testURL, body, testNow.Add(2*time.Minute)), check(known), ErrProofStale},
		{"other method", sign(device, "GET", testURL, body, testNow), check(known), ErrProofMismatch},
		{"other path", sign(device, "POST", mustURL("https://gate.example.com/.trustgate/device/v1/push"), body, testNow), check(known), ErrProofMismatch},
		{"other host", sign(device, "POST", mustURL("https://evil.example.com/.trustgate/device/v1/report"), body, testNow), check(known), ErrProofMismatch},
		{"other scheme", sign(device, "POST", mustURL("http://gate.example.com/.trustgate/device/v1/report"), body, testNow), check(known), ErrProofMismatch},
		{"other body", sign(device, "POST", testURL, []byte(`{"transaction":"xyz"}`), testNow), check(known), ErrProofMismatch},
		{"garbage", "not.a.jws", check(known), ErrMalformedProof},
		{"empty", "", check(known), ErrMalformedProof},
		{"oversized", strings.Repeat("a", MaxProofSize+1), check(known), ErrMalformedProof},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyProof(tc.token, tc.check)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// The control: the good proof verifies with the same check.
	if _, err := VerifyProof(good, check(known)); err != nil {
		t.Fatalf("good proof: %v", err)
	}
}

func TestProofURLIgnoresQueryAndFragment(t *testing.T) {
	a := ProofURL(mustURL("https://Gate.Example.com/p?a=1#f"))
	if a != "https://gate.example.com/p" {
		t.Fatalf("ProofURL = %q", a)
	}
}

func TestPublicJWKRoundTrip(t *testing.T) {
	k := newKey(t)
	data, err := PublicJWK(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), `"d"`) {
		t.Fatal("public JWK contains the private part")
	}
	pub, err := ParsePublicJWK(data)
	if err != nil || !pub.Equal(&k.PublicKey) {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{``, `{}`, `{"kty":"oct","k":"AAAA"}`, `{"kty":"RSA","n":"AQAB","e":"AQAB"}`} {
		if _, err := ParsePublicJWK([]byte(bad)); err == nil {
			t.Errorf("ParsePublicJWK(%s) accepted", bad)
		}
	}
	// A private JWK is refused as a device key.
	point, err := k.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	d, err := k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256",
		"x": base64.RawURLEncoding.EncodeToString(point[1:33]),
		"y": base64.RawURLEncoding.EncodeToString(point[33:]),
		"d": base64.RawURLEncoding.EncodeToString(d)})
	if _, err := ParsePublicJWK(priv); err == nil {
		t.Error("private JWK accepted as a public device key")
	}
}

func FuzzVerifyProof(f *testing.F) {
	// A fixed key: fuzz workers run this setup again, and the seeds must be
	// signed by the key they check against.
	d := sha256.Sum256([]byte("trustgate fuzz device key"))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		f.Fatal(err)
	}
	good, _ := SignProof(k, false, "POST", testURL, body, testNow)
	act, _ := SignProof(k, true, "POST", testURL, body, testNow)
	for _, seed := range []string{good, act, "", "a.b.c", "eyJhbGciOiJub25lIn0.e30."} {
		f.Add(seed)
	}
	id, _ := DeviceID(&k.PublicKey)
	f.Fuzz(func(t *testing.T, token string) {
		for _, c := range []ProofCheck{
			check(func(kid string) (*ecdsa.PublicKey, error) {
				if kid == id {
					return &k.PublicKey, nil
				}
				return nil, ErrUnknownDevice
			}),
			check(nil),
		} {
			vp, err := VerifyProof(token, c)
			// Only a proof signed by k can verify: the fuzzer cannot forge
			// an ES256 signature, so anything else that verified would
			// mean a check was skipped.
			if err == nil && !vp.Key.Equal(&k.PublicKey) {
				t.Fatalf("accepted a proof not signed by the device key: %q", token)
			}
		}
	})
}
