package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Content security policies. Pages load only the gateway's own script,
// stylesheet and images (the QR code is a data: URL), post forms only to
// the gateway, and may not be framed; every other answer (JSON, redirects,
// static files) loads nothing at all.
const (
	PageCSP  = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	PlainCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
)

// SecurityHeaders sets the headers every gateway page carries: nothing is
// cached, nothing is framed, no referrer leaks a path (which may hold a
// transaction ID) to another site, and only the gateway's own script,
// stylesheet and images may load.
func SecurityHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", PageCSP)
	NoStore(w)
}

// NoStore sets the headers of an answer that must not be kept: no caching,
// no referrer, no sniffing, no framing. It is the least every answer of
// the gateway carries (before a redirect, a JSON answer); an answer
// without a policy yet gets the strictest one.
func NoStore(w http.ResponseWriter) {
	baseHeaders(w)
	w.Header().Set("Cache-Control", "no-store")
}

// StaticHeaders are the headers of the gateway's fixed files (stylesheet,
// script, app-link association files): like NoStore, but they may be
// cached for maxAge.
func StaticHeaders(w http.ResponseWriter, maxAge time.Duration) {
	baseHeaders(w)
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(maxAge.Seconds())))
}

// baseHeaders sets what every answer carries, whether it may be cached or
// not: a policy (unless one is set), no framing, no sniffing, no referrer.
func baseHeaders(w http.ResponseWriter) {
	h := w.Header()
	if h.Get("Content-Security-Policy") == "" {
		h.Set("Content-Security-Policy", PlainCSP)
	}
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// WriteJSON answers v as JSON; nothing in it is a page, so it carries the
// strictest policy.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Security-Policy", PlainCSP)
	NoStore(w)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
