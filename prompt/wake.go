package prompt

import "sync"

// waker wakes the long-polls of a device when a login request is sent to
// it on this instance. Requests sent through another instance are found by
// the long-poll's periodic look at the store.
type waker struct {
	mu      sync.Mutex
	waiting map[string]map[chan struct{}]struct{}
}

func newWaker() *waker {
	return &waker{waiting: make(map[string]map[chan struct{}]struct{})}
}

// wait registers a long-poll of deviceID and returns the channel that is
// closed when it should look again. The caller must cancel it.
func (k *waker) wait(deviceID string) chan struct{} {
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
func (k *waker) cancel(deviceID string, ch chan struct{}) {
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

// notify wakes every long-poll of deviceID.
func (k *waker) notify(deviceID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for ch := range k.waiting[deviceID] {
		close(ch)
	}
	delete(k.waiting, deviceID)
}
