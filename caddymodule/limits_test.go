package caddymodule

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/protocol"
)

// TestLimitsOptionTwiceIsRefused: the directive takes one limits block;
// what is in it is read by internal/limits.
func TestLimitsOptionTwiceIsRefused(t *testing.T) {
	var h Handler
	input := "trusted_endpoints {\n login users_file /u.yaml\n limits {\n }\n limits {\n }\n}"
	err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input))
	if err == nil || !strings.Contains(err.Error(), "limits already specified") || !strings.Contains(err.Error(), "Testfile:5") {
		t.Errorf("error %v, want limits already specified at Testfile:5", err)
	}
}

func TestDeviceAPIRateLimitThroughCaddy(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile+`
		limits {
			device 1/m burst 2
		}`)
	key := activatedKey(t, "alice")
	for i := range 2 {
		req, _ := signedRequest(t, key, false, http.MethodGet, protocol.PathDevice, protocol.PathDevice, nil)
		if status, code := gatetest.APICall(t, req); status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, status, code)
		}
	}
	req, _ := signedRequest(t, key, false, http.MethodGet, protocol.PathDevice, protocol.PathDevice, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("3rd request: %d, Retry-After %q; want 429 after 60", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// slowBody opens a connection to the gateway and posts a device report
// whose body comes one byte a second, as a slow-loris client does. It
// sends the status the gateway answered with (0 when it just closed the
// connection) on statuses, and how long that took on done.
func slowBody(t *testing.T, done chan<- time.Duration, statuses chan<- int) {
	start := time.Now()
	conn, err := net.Dial("tcp", fmt.Sprintf("localhost:%d", httpPort))
	if err != nil {
		t.Error(err)
		statuses <- -1
		done <- 0
		return
	}
	defer conn.Close()
	path := protocol.PathReportPrefix + "tx/report"
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: localhost:%d\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n", path, httpPort)
	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("{")); err != nil {
					return
				}
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	close(stop)
	status := 0
	if err == nil {
		status = resp.StatusCode
		resp.Body.Close()
	}
	statuses <- status
	done <- time.Since(start)
}

// TestSlowDeviceBodiesDoNotStopOthers holds several
// connections that send a device request's body one byte a second: each is
// cut off at the body timeout, and a normal device's requests succeed all
// the while.
func TestSlowDeviceBodiesDoNotStopOthers(t *testing.T) {
	const bodyTimeout = 2 * time.Second
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile+fmt.Sprintf(`
		limits {
			body_timeout %s
		}`, bodyTimeout))
	key := activatedKey(t, "alice")

	const slow = 8
	done := make(chan time.Duration, slow)
	statuses := make(chan int, slow)
	for range slow {
		go slowBody(t, done, statuses)
	}

	// The normal device keeps asking until every slow client is cut off.
	var wg sync.WaitGroup
	wg.Add(1)
	stopNormal := make(chan struct{})
	served := 0
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stopNormal:
				return
			default:
			}
			req, _ := signedRequest(t, key, false, http.MethodGet, protocol.PathDevice, protocol.PathDevice, nil)
			start := time.Now()
			if status, code := gatetest.APICall(t, req); status != http.StatusOK {
				t.Errorf("normal request while slow bodies are held: %d %s", status, code)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("normal request took %s while slow bodies are held", took)
			}
			served++
			time.Sleep(100 * time.Millisecond)
		}
	}()

	for range slow {
		if took := <-done; took > bodyTimeout+3*time.Second {
			t.Errorf("a slow body was held for %s, with a body timeout of %s", took, bodyTimeout)
		}
		if status := <-statuses; status != http.StatusRequestTimeout {
			t.Errorf("slow body answered %d, want 408", status)
		}
	}
	close(stopNormal)
	wg.Wait()
	if served < 5 {
		t.Errorf("only %d normal requests served while slow bodies were held", served)
	}
}
