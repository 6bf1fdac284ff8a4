package device

import (
	"slices"
	"sync"
)

// Waker wakes the long-polls of a device when a login request is sent to
// it. One Waker should serve every site of an instance; requests sent
// through another instance arrive as store events (store.Notifier) or are
// found by the long-poll's periodic look at the store.
type Waker struct {
	mu sync.Mutex
	// waiting holds the channels of each device's held long-polls: a
	// slice, since a device holds one or two at a time, and thousands of
	// waiting devices each pay for their entry while they wait.
	waiting map[string][]chan struct{}
}

// NewWaker returns a Waker with no long-poll waiting.
func NewWaker() *Waker {
	return &Waker{waiting: make(map[string][]chan struct{})}
}

// Wait registers a long-poll of deviceID and returns the channel that is
// closed when it should look again. The caller must Cancel it.
func (k *Waker) Wait(deviceID string) chan struct{} {
	ch := make(chan struct{})
	k.mu.Lock()
	defer k.mu.Unlock()
	k.waiting[deviceID] = append(k.waiting[deviceID], ch)
	return ch
}

// Cancel unregisters ch.
func (k *Waker) Cancel(deviceID string, ch chan struct{}) {
	k.mu.Lock()
	defer k.mu.Unlock()
	chans := k.waiting[deviceID]
	i := slices.Index(chans, ch)
	if i < 0 {
		return
	}
	if len(chans) == 1 {
		delete(k.waiting, deviceID)
		return
	}
	k.waiting[deviceID] = slices.Delete(chans, i, i+1)
}

// Notify wakes every long-poll of deviceID.
func (k *Waker) Notify(deviceID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, ch := range k.waiting[deviceID] {
		close(ch)
	}
	delete(k.waiting, deviceID)
}

// NotifyAll wakes every long-poll of every device, so each reads the store
// again: for when events may have been missed (a lost connection to the
// store's event channel).
func (k *Waker) NotifyAll() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, chans := range k.waiting {
		for _, ch := range chans {
			close(ch)
		}
	}
	clear(k.waiting)
}

// Held reports whether a long-poll of deviceID is waiting.
func (k *Waker) Held(deviceID string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.waiting[deviceID]) > 0
}
