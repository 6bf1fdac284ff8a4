package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// upstreamBody is what the upstream answers: small, as a health check or a
// tiny page would be.
const upstreamBody = "hello from the upstream\n"

// upstream is the application behind the gateway, served by the bench
// process on loopback.
type upstream struct {
	addr string
	srv  *http.Server
}

// startUpstream serves upstreamBody on a free loopback port.
func startUpstream() (*upstream, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the upstream: %w", err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte(upstreamBody))
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Minute,
	}
	go func() { _ = srv.Serve(l) }()
	return &upstream{addr: l.Addr().String(), srv: srv}, nil
}

func (u *upstream) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = u.srv.Shutdown(ctx)
}
