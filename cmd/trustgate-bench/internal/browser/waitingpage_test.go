package browser

import (
	"testing"
	"time"
)

// The simulated waiting page keeps the script's pace: every poll interval
// for 10 s after the state last changed, then twice, then after a minute
// three times that; after failures 2 s doubling to 30 s, at least
// Retry-After, and back to the pace after an answer.
func TestWaitingPageFollowsTheScriptsPace(t *testing.T) {
	t.Parallel()
	loaded := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := NewWaitingPage(time.Second, loaded)
	steps := []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		{"first poll", p.First(), time.Second},
		{"first answer", p.Answered("waiting", loaded.Add(time.Second)), time.Second},
		{"10 s later", p.Answered("waiting", loaded.Add(11*time.Second)), 2 * time.Second},
		{"a minute later", p.Answered("waiting", loaded.Add(61*time.Second)), 3 * time.Second},
		{"first failure", p.Failed(0), 2 * time.Second},
		{"second failure", p.Failed(0), 4 * time.Second},
		{"Retry-After longer", p.Failed(10 * time.Second), 10 * time.Second},
		{"more failures", func() time.Duration { p.Failed(0); p.Failed(0); return p.Failed(0) }(), 30 * time.Second},
		{"state changes", p.Answered("waiting_approval", loaded.Add(70*time.Second)), time.Second},
		{"failure after an answer", p.Failed(0), 2 * time.Second},
	}
	for _, s := range steps {
		if s.got != s.want {
			t.Errorf("%s: next poll in %s, want %s", s.name, s.got, s.want)
		}
	}
}
