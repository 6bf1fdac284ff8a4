package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// benchParallelism is how many goroutines per CPU the parallel benchmarks
// run: the requests of a busy gateway wait on the store together, so their
// writes can queue for SQLite's write lock or share a PostgreSQL commit.
const benchParallelism = 8

// benchDevices is how many devices BenchDeviceLookup stores before it
// measures, so that lookups go through an index of some size.
const benchDevices = 200

// benchTime is when the benchmark records are made.
var benchTime = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// benchEntry is the auth-log entry of a login let through after a mobile
// check in check mode, with a warning: the device columns are filled, as
// they are for every login the device flow decides.
func benchEntry() store.AuthLogEntry {
	return store.AuthLogEntry{
		Time:         benchTime,
		User:         "alice",
		Email:        "alice@example.com",
		Groups:       []string{"staff", "engineering"},
		Application:  "wiki",
		Result:       store.ResultSuccess,
		Reason:       "user_approved",
		Factor:       "mobile_inline",
		TrustStatus:  "trusted",
		IP:           "192.0.2.1",
		UserAgent:    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		Mode:         "check",
		Warnings:     []string{"no_biometrics"},
		DeviceID:     "VfWq0cS9aXbQw2mT8pLr1AkJ3v0cS9aXbQw2mT8pLr1",
		DeviceFacts:  json.RawMessage(`{"platform":"android","os_version":"15","security_patch":"2026-11-01","screen_lock":true,"biometrics":false,"disk_encryption":true,"tampered":false,"app_version":"2.4.1","model":"Pixel 8"}`),
		AccessDevice: store.AccessDevice{Kind: "desktop", OS: "Linux", Browser: "Firefox"},
	}
}

// benchDevice returns the nth device of the device lookup benchmark: an
// active device with a health report, as the device API loads it on every
// signed request. Its ID has the length of a real thumbprint.
func benchDevice(n int) store.Device {
	return store.Device{
		ID:             fmt.Sprintf("bench-device-%030d", n),
		User:           fmt.Sprintf("user%d", n),
		PublicKey:      json.RawMessage(testJWK),
		Platform:       "android",
		Model:          "Pixel 8",
		OSVersion:      "15",
		AppVersion:     "2.4.1",
		PasscodeSecret: "JBSWY3DPEHPK3PXP",
		Created:        benchTime,
		LastSeen:       benchTime.Add(time.Hour),
		Health:         json.RawMessage(`{"platform":"android","os_version":"15","security_patch":"2026-11-01","screen_lock":true,"biometrics":true,"disk_encryption":true,"tampered":false,"app_version":"2.4.1","model":"Pixel 8"}`),
		Verdict:        "trusted",
		VerifiedAt:     benchTime.Add(time.Hour),
	}
}

// BenchAuthLogWrite measures AppendAuthLog of one full entry, the write
// every login attempt makes before the gateway answers, one at a time
// (sequential) and from benchParallelism goroutines per CPU at once
// (parallel). open is called once and must return a new, empty store;
// BenchAuthLogWrite closes it. Both variants append to the same table, which
// grows as they run.
func BenchAuthLogWrite(b *testing.B, open func(b *testing.B) store.Store) {
	s := open(b)
	b.Cleanup(func() { s.Close() })
	entry := benchEntry()
	b.Run("sequential", func(b *testing.B) {
		ctx := b.Context()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.AppendAuthLog(ctx, entry); err != nil {
				b.Fatalf("AppendAuthLog: %v", err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		ctx := b.Context()
		b.ReportAllocs()
		b.SetParallelism(benchParallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.AppendAuthLog(ctx, entry); err != nil {
					b.Errorf("AppendAuthLog: %v", err)
					return
				}
			}
		})
	})
}

// BenchDeviceLookup measures Device, the read the device API makes on every
// signed request, of devices among benchDevices stored ones, one at a time
// (sequential) and from benchParallelism goroutines per CPU at once
// (parallel). open is called once and must return a new, empty store;
// BenchDeviceLookup closes it.
func BenchDeviceLookup(b *testing.B, open func(b *testing.B) store.Store) {
	s := open(b)
	b.Cleanup(func() { s.Close() })
	ids := make([]string, benchDevices)
	for i := range ids {
		d := benchDevice(i)
		if err := s.CreateDevice(b.Context(), d); err != nil {
			b.Fatalf("CreateDevice: %v", err)
		}
		ids[i] = d.ID
	}
	b.Run("sequential", func(b *testing.B) {
		ctx := b.Context()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			d, err := s.Device(ctx, ids[i%len(ids)])
			if err != nil {
				b.Fatalf("Device: %v", err)
			}
			if d.Verdict == "" {
				b.Fatalf("Device %s came back without its health verdict", d.ID)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		ctx := b.Context()
		b.ReportAllocs()
		b.SetParallelism(benchParallelism)
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := s.Device(ctx, ids[i%len(ids)]); err != nil {
					b.Errorf("Device: %v", err)
					return
				}
				i++
			}
		})
	})
}
