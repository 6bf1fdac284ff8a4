package oidctest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// HangingIssuer is a server that accepts every request and never
// answers: a provider that is down in the worst way.
func HangingIssuer(t testing.TB) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// ClosingIssuer is a server that accepts connections and closes them at
// once, without a word.
func ClosingIssuer(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return "http://" + ln.Addr().String()
}
