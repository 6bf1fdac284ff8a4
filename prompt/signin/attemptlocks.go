package signin

import (
	"context"
	"sync"
)

// attemptLocks lets one attempt at a time go ahead per key, such as one
// user's password from one address, on this instance. The zero value is
// ready to use; a key's entry lives only while someone holds or waits for
// it.
type attemptLocks struct {
	mu   sync.Mutex
	keys map[string]*attemptLock
}

type attemptLock struct {
	held    chan struct{} // holds one token while the key is locked
	waiters int           // holders and waiters; the entry goes at zero
}

// acquire waits until no other attempt holds key, or ctx ends. The
// returned release must be called once the attempt is counted; calling it
// again does nothing.
func (l *attemptLocks) acquire(ctx context.Context, key string) (release func(), err error) {
	l.mu.Lock()
	if l.keys == nil {
		l.keys = make(map[string]*attemptLock)
	}
	e := l.keys[key]
	if e == nil {
		e = &attemptLock{held: make(chan struct{}, 1)}
		l.keys[key] = e
	}
	e.waiters++
	l.mu.Unlock()

	select {
	case e.held <- struct{}{}:
	case <-ctx.Done():
		l.leave(key, e)
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-e.held
			l.leave(key, e)
		})
	}, nil
}

// leave drops one holder or waiter of key's entry.
func (l *attemptLocks) leave(key string, e *attemptLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.waiters--
	if e.waiters == 0 {
		delete(l.keys, key)
	}
}
