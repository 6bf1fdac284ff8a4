package prompt

import (
	"net/http"
	"testing"

	"github.com/trustgate/trustgate/prompt/session"
)

func TestIdentityHeadersStripEverySpellingThenSet(t *testing.T) {
	h := http.Header{}
	for _, name := range []string{
		"X-Trustgate-User", "x-trustgate-user", "X_Trustgate_User", "x_TRUSTGATE-user",
		"X-Trustgate-Email", "x_trustgate_email", "X-Trustgate-Groups", "X_TRUSTGATE_GROUPS",
		"X-Remote-User", "X_Remote_User", "x.remote.user", "X.Trustgate.Email", // configured below
	} {
		h[name] = []string{"mallory"}
	}
	h.Set("X-Other", "kept")

	names := IdentityHeaders{User: "X-Remote-User", Email: "X-Trustgate-Email", Groups: ""}
	names.Set(h, session.Identity{User: "alice", Email: "alice@example.com", Groups: []string{"a", "b"}})

	for name, values := range h {
		for _, v := range values {
			if v == "mallory" {
				t.Errorf("spoofed %s survived", name)
			}
		}
	}
	if got := h.Get("X-Remote-User"); got != "alice" {
		t.Errorf("X-Remote-User = %q", got)
	}
	if got := h.Get("X-Trustgate-Email"); got != "alice@example.com" {
		t.Errorf("email = %q", got)
	}
	if got := h.Get("X-Trustgate-Groups"); got != "" {
		t.Errorf("groups header is switched off but set to %q", got)
	}
	if got := h.Get("X-Other"); got != "kept" {
		t.Errorf("unrelated header lost: %q", got)
	}
}
