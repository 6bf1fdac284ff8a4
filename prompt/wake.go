package prompt

import "sync"

// Waker wakes the long-polls of a device when a login request is sent to
// it. One Waker should serve every site of an instance; requests sent
// through another instance arrive as store events (store.Notifier) or are
// found by the long-poll's periodic look at the store.
type Waker struct {
	mu      sync.Mutex
	waiting map[string]map[chan struct{}]struct{}
}

// NewWaker returns a Waker with no long-poll waiting.
func NewWaker() *Waker {
	return &Waker{waiting: make(map[string]map[chan struct{}]struct{})}
}

// wait registers a long-poll of deviceID and returns the channel that is
// closed when it should look again. The caller must cancel it.
func (k *Waker) wait(deviceID string) chan struct{} {
	ch := make(chan struct{})
	k.mu.Lock()
	defer k.mu.Unlock()
	set := k.waiting[deviceID]
	if set == nil {
		set = make(map[chan struct{}]struct{})
		k.waiting[deviceID] = set
	}
	set[ch] = struct{}{}
	return ch
}

// cancel unregisters ch.
func (k *Waker) cancel(deviceID string, ch chan struct{}) {
	k.mu.Lock()
	defer k.mu.Unlock()
	set := k.waiting[deviceID]
	if _, ok := set[ch]; !ok {
		return
	}
	delete(set, ch)
	if len(set) == 0 {
		delete(k.waiting, deviceID)
	}
}

// Notify wakes every long-poll of deviceID.
func (k *Waker) Notify(deviceID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for ch := range k.waiting[deviceID] {
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
	for _, set := range k.waiting {
		for ch := range set {
			close(ch)
		}
	}
	clear(k.waiting)
}
