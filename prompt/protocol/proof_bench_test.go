package protocol

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/url"
	"testing"
	"time"
)

// BenchmarkVerifyProof measures VerifyProof on one valid proof of a health
// report, signed once by SignProof (which the reference agent uses): parsing
// the compact JWS, the ES256 signature check, and the claims against the
// request. It leaves out what the gateway does around it (reading the
// device from the store, the replay check).
//
//   - device: a kid proof, the device API's common case, with a Key lookup
//     that returns an already parsed key;
//   - device_jwk: the same, with the lookup parsing the device's stored JWK
//     on every call, as the gateway's does;
//   - activation: a proof with its key embedded in the header, as at
//     activation, which adds parsing the JWK and its thumbprint.
func BenchmarkVerifyProof(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	id, err := DeviceID(&key.PublicKey)
	if err != nil {
		b.Fatal(err)
	}
	jwk, err := PublicJWK(&key.PublicKey)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	u, err := url.Parse("https://gate.example.com" + PathReportPrefix + "kJ3v0cS9aXbQw2mT8pLr1A/report")
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(ReportRequest{
		Challenge: "Vf2o1Qm8cK0sXb7uNw4yRg",
		Facts: json.RawMessage(`{"platform":"android","os_version":"15","security_patch":"2026-11-01",` +
			`"screen_lock":true,"biometrics":true,"disk_encryption":true,"tampered":false,` +
			`"app_version":"2.4.1","model":"Pixel 8"}`),
	})
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name     string
		embedKey bool
		key      func(string) (*ecdsa.PublicKey, error)
	}{
		{"device", false, func(string) (*ecdsa.PublicKey, error) { return &key.PublicKey, nil }},
		{"device_jwk", false, func(string) (*ecdsa.PublicKey, error) { return ParsePublicJWK(jwk) }},
		{"activation", true, nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			token, err := SignProof(key, c.embedKey, "POST", u, body, now)
			if err != nil {
				b.Fatal(err)
			}
			pc := ProofCheck{Method: "POST", URL: u, Body: body, Now: now.Add(2 * time.Second), MaxAge: time.Minute, Key: c.key}
			vp, err := VerifyProof(token, pc)
			if err != nil {
				b.Fatalf("VerifyProof: %v", err)
			}
			if vp.DeviceID != id {
				b.Fatalf("DeviceID = %q, want %q", vp.DeviceID, id)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := VerifyProof(token, pc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
