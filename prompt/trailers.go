package prompt

import (
	"io"
	"net/http"
	"strings"

	"github.com/trustgate/trustgate/prompt/session"
)

// This file keeps identities and the gateway's cookies out of request
// trailers. A chunked request may end with trailer fields after its body;
// a proxy forwards them, and an upstream that merges trailers into headers
// (Apache's MergeTrailers) would read a forged X-Trustgate-User there.
// net/http fills Request.Trailer only when the body has been read to its
// end (with every trailer sent, declared in the Trailer header or not), so
// the trailers are cleaned twice: the declared names now, and every field
// again in the Read that reaches the end of the body, before whoever reads
// it (Caddy's reverse_proxy) copies them on.

// stripTrailers removes from r's trailers, now and once its body has been
// read, every field that folds to one of reserved (as stripHeaders does for
// headers) and the gateway's cookies; it takes the reserved names out of the
// Trailer header too. A request without a body or declared trailers costs
// nothing.
func stripTrailers(r *http.Request, reserved []string) {
	hasBody := r.Body != nil && r.Body != http.NoBody
	if r.Trailer == nil && !hasBody {
		return
	}
	if declared, ok := r.Header["Trailer"]; ok {
		r.Header["Trailer"] = withoutReservedNames(declared, reserved)
		if len(r.Header["Trailer"]) == 0 {
			delete(r.Header, "Trailer")
		}
	}
	cleanTrailer(r.Trailer, reserved)
	if hasBody {
		r.Body = &trailerGuard{ReadCloser: r.Body, r: r, reserved: reserved}
	}
}

// cleanTrailer removes the reserved fields and the gateway's cookies from
// a trailer map.
func cleanTrailer(trailer http.Header, reserved []string) {
	if len(trailer) == 0 {
		return
	}
	stripHeaders(trailer, reserved)
	for name, lines := range trailer {
		if len(lines) == 0 || !sameFoldedName(name, "Cookie") {
			continue // (a declared trailer not sent yet is kept)
		}
		kept := make([]string, 0, len(lines))
		for _, line := range lines {
			if line, _ = session.StripCookieLine(line); line != "" {
				kept = append(kept, line)
			}
		}
		if len(kept) == 0 {
			delete(trailer, name)
		} else {
			trailer[name] = kept
		}
	}
}

// withoutReservedNames returns the values of a Trailer header without the
// names that fold to one of reserved.
func withoutReservedNames(values, reserved []string) []string {
	kept := make([]string, 0, len(values))
	for _, v := range values {
		var names []string
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name != "" && !foldsToAny(name, reserved) {
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			kept = append(kept, strings.Join(names, ", "))
		}
	}
	return kept
}

func foldsToAny(name string, reserved []string) bool {
	for _, r := range reserved {
		if sameFoldedName(name, r) {
			return true
		}
	}
	return false
}

// trailerGuard is a request body that cleans the request's trailers in the
// Read that reaches the end of the body: net/http has just filled them in,
// and nobody has read them yet. It looks at r.Trailer then, not before,
// since net/http sets the field when no trailer was declared.
type trailerGuard struct {
	io.ReadCloser
	r        *http.Request
	reserved []string
}

func (b *trailerGuard) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		cleanTrailer(b.r.Trailer, b.reserved)
	}
	return n, err
}
