// Package loopback gives every simulated client of trustgate-bench an
// address of its own and HTTP transports that dial from it.
//
// Every simulated phone, and every hot-path worker, connects from an
// address of its own in 127.0.0.0/8 (Linux routes all of it to the
// loopback interface). The gateway counts sign-in failures, activation
// attempts and rate limits per client address; thousands of people behind
// one address would measure those limits instead of the gateway, and would
// share one address's ephemeral ports.
package loopback

import (
	"net"
	"net/http"
	"time"
)

// PhoneAddr is the address of phone (and its browser) i.
func PhoneAddr(i int) net.IP {
	return net.IPv4(127, 1, byte(i/250), byte(i%250+1))
}

// WorkerAddr is the address of hot-path load worker i.
func WorkerAddr(i int) net.IP {
	return net.IPv4(127, 2, byte(i/250), byte(i%250+1))
}

// TransportFrom returns a transport whose connections come from ip,
// keeping up to idle connections open for reuse.
func TransportFrom(ip net.IP, idle int) *http.Transport {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second}
	return &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: idle,
		IdleConnTimeout:     5 * time.Minute,
		DisableCompression:  true,
	}
}

// Phones returns the network side of n phones' apps: phone i's app sends
// through transport i, from PhoneAddr(i). Its browser connects from the
// same address, with connections of its own.
func Phones(n int) []*http.Transport {
	ts := make([]*http.Transport, n)
	for i := range ts {
		ts[i] = TransportFrom(PhoneAddr(i), 4)
	}
	return ts
}

// CloseIdle drops the idle connections of every transport in ts.
func CloseIdle(ts []*http.Transport) {
	for _, t := range ts {
		t.CloseIdleConnections()
	}
}

// CloseIdleMeanwhile drops the phones' idle connections every 100 ms until
// the returned function is called (and once more then). Setup activates
// every phone's device through its transport, which would otherwise keep a
// connection to the site and one to the admin endpoint for every phone:
// twice the descriptors the pending verifications need.
func CloseIdleMeanwhile(ts []*http.Transport) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		ticker := time.NewTicker(100 * time.Millisecond)
		defer ticker.Stop()
		for {
			CloseIdle(ts)
			select {
			case <-done:
				CloseIdle(ts)
				return
			case <-ticker.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
