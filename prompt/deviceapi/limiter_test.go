package deviceapi

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/internal/testclock"
	"github.com/trustgate/trustgate/prompt/protocol"
)

func TestLimiterRefusesOverBurstUntilRefilled(t *testing.T) {
	clock := testclock.New(time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC))
	l, err := NewLimiter(Limits{IP: Rate{Events: 1, Per: 2 * time.Second, Burst: 3}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, protocol.PathDevice, nil)
	for i := range 3 {
		if ok, _ := l.allowDevice(r, "192.0.2.1", "device"); !ok {
			t.Fatalf("request %d of a burst of 3 refused", i+1)
		}
	}
	ok, wait := l.allowDevice(r, "192.0.2.1", "device")
	if ok || wait != 2*time.Second {
		t.Fatalf("4th request: ok=%v retry after %s, want refused for 2s", ok, wait)
	}
	if ok, _ := l.allowDevice(r, "192.0.2.2", "device"); !ok {
		t.Error("another address shares the first one's bucket")
	}
	// Refused requests take nothing: after the wait it was told, the
	// client gets through even though it kept asking meanwhile.
	clock.Add(time.Second)
	if ok, _ := l.allowDevice(r, "192.0.2.1", "device"); ok {
		t.Error("request half way through the refill let through")
	}
	clock.Add(time.Second)
	if ok, _ := l.allowDevice(r, "192.0.2.1", "device"); !ok {
		t.Error("request after the refill refused")
	}
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	l, err := NewLimiter(Limits{Keys: 50})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, protocol.PathDevice, nil)
	for i := range 1000 {
		l.allowDevice(r, "10.0.0."+strconv.Itoa(i), "device")
	}
	if n := l.ip.cache.Len(); n != 50 {
		t.Errorf("tracking %d addresses, want at most 50", n)
	}
}

func TestLimiterDefaultsAndChecks(t *testing.T) {
	l, err := NewLimiter(Limits{Device: Rate{Events: 3, Per: time.Second}, IP: Rate{Off: true}})
	if err != nil {
		t.Fatal(err)
	}
	got, def := l.Limits(), DefaultLimits()
	if got.Device != (Rate{Events: 3, Per: time.Second, Burst: 3}) || got.IP != (Rate{Off: true}) ||
		got.Activation != def.Activation || got.Keys != def.Keys || got.BodyTimeout != def.BodyTimeout {
		t.Errorf("limits %+v", got)
	}
	for name, bad := range map[string]Limits{
		"no period":         {Device: Rate{Events: 3}},
		"negative events":   {IP: Rate{Events: -1, Per: time.Second}},
		"negative burst":    {Activation: Rate{Events: 1, Per: time.Second, Burst: -1}},
		"negative keys":     {Keys: -1},
		"negative deadline": {BodyTimeout: -time.Second},
	} {
		if _, err := NewLimiter(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
