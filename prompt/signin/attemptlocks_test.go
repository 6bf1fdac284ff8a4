package signin

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAttemptLocksLetOneAttemptPerKeyAtATime(t *testing.T) {
	var l attemptLocks
	release, err := l.acquire(t.Context(), "login:alice|192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	// Another key is not held up.
	other, err := l.acquire(t.Context(), "login:bob|192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	other()

	// The same key waits, and gives up when its context ends.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.acquire(ctx, "login:alice|192.0.2.1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second acquire while held: %v, want the context's deadline", err)
	}

	got := make(chan func(), 1)
	go func() {
		r, err := l.acquire(t.Context(), "login:alice|192.0.2.1")
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	select {
	case <-got:
		t.Fatal("second acquire went ahead while the first held the key")
	case <-time.After(20 * time.Millisecond):
	}
	release()
	release() // a second call does nothing
	second := <-got
	second()

	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.keys) != 0 {
		t.Errorf("%d keys kept after every attempt ended, want none", len(l.keys))
	}
}
