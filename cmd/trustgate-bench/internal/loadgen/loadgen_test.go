package loadgen

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPercentileIsTheNearestRank(t *testing.T) {
	t.Parallel()
	ms := func(n ...int) Latencies {
		var l Latencies
		for _, v := range n {
			l = append(l, time.Duration(v)*time.Millisecond)
		}
		return l
	}
	for _, c := range []struct {
		l    Latencies
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{ms(4, 1, 3, 2), 99, 4 * time.Millisecond},
		{ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 90, 9 * time.Millisecond},
		{ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 1, 1 * time.Millisecond},
	} {
		if got := c.l.Percentile(c.p); got != c.want {
			t.Errorf("%v p%v = %s, want %s", c.l, c.p, got, c.want)
		}
	}
}

func TestAddSumsResultsAndKeepsTheFirstError(t *testing.T) {
	t.Parallel()
	first, second := errors.New("first"), errors.New("second")
	var total Result
	total.Add(Result{Requests: 3, Latency: Latencies{1, 2, 3}})
	total.Add(Result{Requests: 1, Errors: 2, FirstErr: first, Elapsed: time.Second, Latency: Latencies{4}})
	total.Add(Result{Errors: 1, FirstErr: second, Elapsed: time.Second})
	if total.Requests != 4 || total.Errors != 3 || total.Elapsed != 2*time.Second || len(total.Latency) != 4 {
		t.Errorf("total %+v", total)
	}
	if total.FirstErr != first {
		t.Errorf("first error %v, want %v", total.FirstErr, first)
	}
}

// upstream serves body to GET requests carrying the cookie.
func upstream(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Cookie") != "session=s" {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRunCountsAnswersWithTheUpstreamsBody(t *testing.T) {
	t.Parallel()
	g := New(upstream(t, "hello\n"), "session=s", "hello\n", 2)
	defer g.Close()
	r := g.Run(context.Background(), 300*time.Millisecond, true)
	if r.Requests == 0 || r.Errors != 0 || len(r.Latency) != r.Requests || r.Elapsed <= 0 {
		t.Errorf("result %d requests, %d errors (%v), %d latencies, elapsed %s",
			r.Requests, r.Errors, r.FirstErr, len(r.Latency), r.Elapsed)
	}
	if warm := g.Run(context.Background(), 100*time.Millisecond, false); warm.Latency != nil {
		t.Errorf("a warm-up kept %d latencies", len(warm.Latency))
	}
}

func TestRunCountsOtherAnswersAsErrors(t *testing.T) {
	t.Parallel()
	for name, g := range map[string]*Generator{
		"no cookie":  New(upstream(t, "hello\n"), "", "hello\n", 1),
		"other body": New(upstream(t, "hello, world\n"), "session=s", "hello\n", 1),
	} {
		r := g.Run(context.Background(), 200*time.Millisecond, true)
		g.Close()
		if r.Requests != 0 || r.Errors == 0 || r.FirstErr == nil || !strings.Contains(r.FirstErr.Error(), "want 200 with the upstream's 6") {
			t.Errorf("%s: %d requests, %d errors, first %v", name, r.Requests, r.Errors, r.FirstErr)
		}
	}
}

// Paced workers never send more than the offered rate: a slow machine
// sends fewer, none sends a burst.
func TestRunPacedOffersNoMoreThanTheRate(t *testing.T) {
	t.Parallel()
	g := New(upstream(t, "hello\n"), "session=s", "hello\n", 4)
	defer g.Close()
	const rate, d = 40.0, 500 * time.Millisecond
	r := g.RunPaced(context.Background(), d, rate)
	if limit := int(rate*d.Seconds()) + 4; r.Requests == 0 || r.Requests > limit {
		t.Errorf("%d requests at %v/s for %s, want between 1 and %d", r.Requests, rate, d, limit)
	}
}
