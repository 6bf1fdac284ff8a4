package agent_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/protocol"
)

// retiringTransport answers the first push long-poll itself, at once and
// with an empty list, as a gateway whose configuration is being reloaded
// does; every other request goes to the gateway.
type retiringTransport struct {
	polls atomic.Int32
}

func (rt *retiringTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && r.URL.Path == protocol.PathPushes && rt.polls.Add(1) == 1 {
		return &http.Response{
			StatusCode: http.StatusOK,
			Header:     http.Header{"Content-Type": {"application/json"}},
			Body:       io.NopCloser(strings.NewReader(`{"pushes":[]}`)),
			Request:    r,
		}, nil
	}
	return http.DefaultTransport.RoundTrip(r)
}

// A long-poll the gateway ends early with an empty list (a reload) is no
// error: Pushes returns at once with nothing, and the next poll, sent
// straight away, gets the login request.
func TestPushesTakesEarlyEmptyAnswerAsPollAgain(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	rt := &retiringTransport{}
	a := newAgent(t, &http.Client{Transport: rt})
	_, link := g.IssueActivation(t, "alice")
	if _, err := a.Activate(context.Background(), link, pixel); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	start := time.Now()
	pushes, err := a.Pushes(ctx, 25*time.Second)
	if err != nil || len(pushes) != 0 {
		t.Fatalf("early empty answer: %+v, %v", pushes, err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Pushes took %s to return an early answer", took)
	}
	got := make(chan []protocol.Push, 1)
	go func() {
		pushes, err := a.Pushes(ctx, 25*time.Second)
		if err != nil {
			t.Error(err)
		}
		got <- pushes
	}()
	if err := g.WaitPolls(ctx, 1); err != nil {
		t.Fatal(err)
	}
	g.SendPush(t, "alice")
	p := pendingPush(t, g, a.DeviceID())
	select {
	case pushes = <-got:
	case <-ctx.Done():
		t.Fatal("the poll after the early answer got nothing")
	}
	if len(pushes) != 1 || pushes[0].ID != p {
		t.Errorf("poll after the early answer: %+v", pushes)
	}
	if n := rt.polls.Load(); n != 2 {
		t.Errorf("%d polls, want 2", n)
	}
}
