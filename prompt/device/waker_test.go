package device

import "testing"

// NotifyAll wakes the long-polls of every device and forgets them; a wait
// begun after it is not woken by it.
func TestWakerNotifyAllWakesEveryDevice(t *testing.T) {
	k := NewWaker()
	a1, a2, b := k.Wait("a"), k.Wait("a"), k.Wait("b")
	k.NotifyAll()
	for name, ch := range map[string]chan struct{}{"a1": a1, "a2": a2, "b": b} {
		select {
		case <-ch:
		default:
			t.Errorf("long-poll %s was not woken", name)
		}
	}
	later := k.Wait("a")
	select {
	case <-later:
		t.Error("a long-poll begun after NotifyAll was woken by it")
	default:
	}
	k.Cancel("a", later)
	if len(k.waiting) != 0 {
		t.Errorf("waker still holds %d devices", len(k.waiting))
	}
}
