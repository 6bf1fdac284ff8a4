package loopback

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// Ten thousand phones and a thousand workers each get a loopback address
// of their own.
func TestEveryClientHasALoopbackAddressOfItsOwn(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	check := func(who string, ip net.IP) {
		if !ip.IsLoopback() {
			t.Fatalf("%s: %s is not a loopback address", who, ip)
		}
		if other, ok := seen[ip.String()]; ok {
			t.Fatalf("%s and %s share %s", who, other, ip)
		}
		seen[ip.String()] = who
	}
	for i := range 10000 {
		check("phone "+strconv.Itoa(i), PhoneAddr(i))
	}
	for i := range 1000 {
		check("worker "+strconv.Itoa(i), WorkerAddr(i))
	}
}

// A phone's transport connects from the phone's address, so the gateway
// sees (and rate-limits) each phone apart.
func TestPhonesConnectFromTheirAddress(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		_, _ = io.WriteString(w, host)
	}))
	defer srv.Close()
	phones := Phones(300)
	defer CloseIdle(phones)
	for _, i := range []int{0, 299} {
		resp, err := (&http.Client{Transport: phones[i]}).Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := PhoneAddr(i).String(); string(body) != want {
			t.Errorf("phone %d connected from %s, want %s", i, body, want)
		}
	}
}
