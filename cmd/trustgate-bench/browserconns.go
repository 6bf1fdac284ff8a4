package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/browser"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/gateway"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/loopback"
)

// A pending verification holds two connections on each side: the phone's
// long-poll and its browser's keep-alive connection. The bench and the
// gateway each get RLIMIT_NOFILE descriptors, which on some machines cannot
// be raised past 2×pending. Then the waiting browsers share a bounded set
// of keep-alive connections (each browser keeping its own cookies, and
// every phone still its own long-poll), and the run measures one idle
// browser connection on its own, so that a reader can add back what the
// shared ones did not cost.

// browserConnections is how many keep-alive connections the waiting
// browsers of want pending verifications keep: asked, when set, else one
// each if the open-files limit allows, else as many as it allows beside the
// phones' long-polls and spare descriptors. It returns 0 when not even one
// fits.
func browserConnections(want, asked int, limit uint64) int {
	room := int(limit) - filesSpare - want
	if asked > 0 {
		room = min(room, asked)
	}
	return max(min(want, room), 0)
}

// sharedBrowserTransports returns the transports of the first n browsers,
// each keeping exactly one connection, from its phone's address, which
// the browsers sharing it take turns on.
func sharedBrowserTransports(n int) []*http.Transport {
	ts := make([]*http.Transport, n)
	for j := range ts {
		t := loopback.TransportFrom(loopback.PhoneAddr(j), 1)
		t.MaxConnsPerHost = 1
		ts[j] = t
	}
	return ts
}

// browserSharing describes, for the table, how the waiting browsers held
// their connections.
func browserSharing(pending, conns int) string {
	if conns >= pending {
		return "each browser its own keep-alive connection"
	}
	return fmt.Sprintf("%d browsers sharing %d keep-alive connections (open-files limit; every phone its own long-poll)", pending, conns)
}

// idleConnectionCost opens n keep-alive connections to srv, each from its
// own address and left idle after one status poll of a browser without a
// sign-in (answered "expired" without reading the store), and returns the
// server's growth per connection: RSS, and Go heap plus stacks. It closes
// the connections; the caller restarts the server, whose memory they used.
func idleConnectionCost(ctx context.Context, srv *gateway.Server, n int) (rss, goBytes int64, err error) {
	warm := browser.New(loopback.TransportFrom(loopback.WorkerAddr(0), 1))
	if _, err := warm.Status(ctx, srv.URL); err != nil {
		return 0, 0, fmt.Errorf("measuring idle connections: %w", err)
	}
	warm.CloseIdleConnections()
	rss0, mem0, err := settledMemory(srv)
	if err != nil {
		return 0, 0, err
	}
	transports := make([]*http.Transport, n)
	defer func() {
		for _, t := range transports {
			if t != nil {
				t.CloseIdleConnections()
			}
		}
	}()
	for i := range transports {
		transports[i] = loopback.TransportFrom(loopback.PhoneAddr(i), 1)
		if _, err := browser.New(transports[i]).Status(ctx, srv.URL); err != nil {
			return 0, 0, fmt.Errorf("measuring idle connections: %w", err)
		}
	}
	rss1, mem1, err := settledMemory(srv)
	if err != nil {
		return 0, 0, err
	}
	return (rss1 - rss0) / int64(n), (mem1.HeapInuse + mem1.StackInuse - mem0.HeapInuse - mem0.StackInuse) / int64(n), nil
}

// settledMemory reads the server's RSS after a moment's rest, and its Go
// memory after a garbage collection: live memory only.
func settledMemory(srv *gateway.Server) (int64, gateway.GoMemory, error) {
	time.Sleep(time.Second)
	rss, err := srv.RSS()
	if err != nil {
		return 0, gateway.GoMemory{}, err
	}
	if err := srv.Collect(); err != nil {
		return 0, gateway.GoMemory{}, err
	}
	mem, err := srv.GoMemory()
	return rss, mem, err
}
