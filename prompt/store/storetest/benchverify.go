package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// BenchVerification measures the store calls of one complete inline
// verification, as the gateway makes them from the transaction's creation
// to the session: reads and writes, from benchParallelism goroutines per
// CPU at once, as concurrent verifications make them. One op is one
// verification. "one-commit" groups the writes of each request with
// store.InOneCommit, as the gateway does; "call-by-call" makes every call
// on its own, as the gateway did before, to show what the grouping gains
// (the same on a store that is not a store.OneCommitter). open is called
// once per variant and must return a new, empty store; BenchVerification
// closes it.
func BenchVerification(b *testing.B, open func(b *testing.B) store.Store) {
	for _, v := range []struct {
		name     string
		together func(ctx context.Context, s any, fn func(ctx context.Context) error) error
	}{
		{"one-commit", store.InOneCommit},
		{"call-by-call", func(ctx context.Context, _ any, fn func(ctx context.Context) error) error { return fn(ctx) }},
	} {
		b.Run(v.name, func(b *testing.B) {
			s := open(b)
			b.Cleanup(func() { s.Close() })
			devices := make([]store.Device, benchDevices)
			for i := range devices {
				devices[i] = benchDevice(i)
				if err := s.CreateDevice(b.Context(), devices[i]); err != nil {
					b.Fatalf("CreateDevice: %v", err)
				}
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(benchParallelism)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := next.Add(1)
					if err := benchVerification(b.Context(), s, devices[n%int64(len(devices))], n, v.together); err != nil {
						b.Errorf("verification %d: %v", n, err)
						return
					}
				}
			})
		})
	}
}

// benchVerification makes the store calls of verification n by device d.
func benchVerification(ctx context.Context, s store.Store, d store.Device, n int64,
	together func(ctx context.Context, s any, fn func(ctx context.Context) error) error) error {
	now := benchTime
	data := json.RawMessage(`{"kind":"inline","ch":"c","bh":"b","id":{"user":"alice"},"ret":"/","ad":{"kind":"phone","os":"Android"},"ip":"192.0.2.1"}`)
	tx := store.Transaction{ID: fmt.Sprintf("bench-tx-%d", n), User: d.User, Data: data,
		Created: now, Expires: now.Add(10 * time.Minute), Updated: now}
	push := store.Push{ID: fmt.Sprintf("bench-push-%d", n), User: d.User, DeviceID: d.ID, TransactionID: tx.ID,
		Details: json.RawMessage(`{"application":"wiki"}`), Created: now, Expires: now.Add(time.Minute)}
	// The prompt page.
	if _, err := s.UserDevices(ctx, d.User); err != nil {
		return err
	}
	if err := s.CreateTransaction(ctx, tx); err != nil {
		return err
	}
	// The health report: proof, device, transaction, then its writes.
	if err := useProof(ctx, s, d, n, "report"); err != nil {
		return err
	}
	if _, err := s.Transaction(ctx, tx.ID); err != nil {
		return err
	}
	err := together(ctx, s, func(ctx context.Context) error {
		if err := s.RecordHealth(ctx, d.ID, d.Health, "trusted", now); err != nil {
			return err
		}
		if _, err := s.TransitionTransaction(ctx, tx.ID, store.TransactionPending, store.TransactionReported, d.ID, data, now); err != nil {
			return err
		}
		return s.CreatePush(ctx, push)
	})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	// The approval.
	if err := useProof(ctx, s, d, n, "answer"); err != nil {
		return err
	}
	if _, err := s.Push(ctx, push.ID); err != nil {
		return err
	}
	if _, err := s.Transaction(ctx, tx.ID); err != nil {
		return err
	}
	err = together(ctx, s, func(ctx context.Context) error {
		if _, err := s.AnswerPush(ctx, push.ID, d.ID, store.PushApproved, "", now); err != nil {
			return err
		}
		_, err := s.TransitionTransaction(ctx, tx.ID, store.TransactionReported, store.TransactionApproved, d.ID, data, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("approval: %w", err)
	}
	// The return link: the transaction used up and the login recorded.
	if _, err := s.Transaction(ctx, tx.ID); err != nil {
		return err
	}
	err = together(ctx, s, func(ctx context.Context) error {
		if _, err := s.TransitionTransaction(ctx, tx.ID, store.TransactionApproved, store.TransactionCompleted, "", data, now); err != nil {
			return err
		}
		_, err := s.AppendAuthLog(ctx, benchEntry())
		return err
	})
	if err != nil {
		return fmt.Errorf("return link: %w", err)
	}
	return nil
}

// useProof makes the calls of a device proof's check: the device's key,
// and the proof's ID used up.
func useProof(ctx context.Context, s store.Store, d store.Device, n int64, what string) error {
	if _, err := s.Device(ctx, d.ID); err != nil {
		return err
	}
	fresh, err := s.UseOnce(ctx, fmt.Sprintf("proof:%s:%s-%d", d.ID, what, n), benchTime.Add(time.Minute))
	if err != nil {
		return err
	}
	if !fresh {
		return fmt.Errorf("proof %s-%d was used already", what, n)
	}
	return nil
}
