package main

import (
	"net"
	"net/http"
	"time"
)

// Every simulated phone, and every hot-path worker, connects from an
// address of its own in 127.0.0.0/8 (Linux routes all of it to the
// loopback interface). The gateway counts sign-in failures, activation
// attempts and rate limits per client address; thousands of people behind
// one address would measure those limits instead of the gateway, and would
// share one address's ephemeral ports.

// phoneAddr is the address of phone (and its browser) i.
func phoneAddr(i int) net.IP {
	return net.IPv4(127, 1, byte(i/250), byte(i%250+1))
}

// workerAddr is the address of hot-path load worker i.
func workerAddr(i int) net.IP {
	return net.IPv4(127, 2, byte(i/250), byte(i%250+1))
}

// transportFrom returns a transport whose connections come from ip,
// keeping up to idle connections open for reuse.
func transportFrom(ip net.IP, idle int) *http.Transport {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second}
	return &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: idle,
		IdleConnTimeout:     5 * time.Minute,
		DisableCompression:  true,
	}
}

// phones returns the network side of n phones' apps: phone i's app sends
// through transport i, from phoneAddr(i). Its browser connects from the
// same address, with connections of its own.
func phones(n int) []*http.Transport {
	ts := make([]*http.Transport, n)
	for i := range ts {
		ts[i] = transportFrom(phoneAddr(i), 4)
	}
	return ts
}

// closePhones drops the phones' idle connections.
func closePhones(ts []*http.Transport) {
	for _, t := range ts {
		t.CloseIdleConnections()
	}
}

// closeIdleMeanwhile drops the phones' idle connections every 100 ms until
// the returned function is called (and once more then). Setup activates
// every phone's device through its transport, which would otherwise keep a
// connection to the site and one to the admin endpoint for every phone:
// twice the descriptors the pending verifications need.
func closeIdleMeanwhile(ts []*http.Transport) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		ticker := time.NewTicker(100 * time.Millisecond)
		defer ticker.Stop()
		for {
			closePhones(ts)
			select {
			case <-done:
				closePhones(ts)
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
