package web

import (
	"net/http"
	"strings"
)

// WantsPage reports whether r comes from a browser navigation that can
// follow a redirect to a login page and be shown a page, rather than from
// a script or API client that needs a status and JSON it can act on.
func WantsPage(r *http.Request) bool {
	if r.Header.Get("X-Requested-With") != "" {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Mode") {
	case "cors", "no-cors", "same-origin", "websocket":
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
