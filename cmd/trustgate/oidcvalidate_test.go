package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateRefusesOIDCIssuerMismatch runs `trustgate validate` on a
// configuration whose issuer has a trailing slash that the provider's
// discovery document does not: it must fail and name the issuer to use. A
// provider that is down only gives a warning.
func TestValidateRefusesOIDCIssuerMismatch(t *testing.T) {
	var provider *httptest.Server
	provider = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/realms/corp/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		base := provider.URL + "/realms/corp"
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": base, "authorization_endpoint": base + "/auth", "token_endpoint": base + "/token",
			"jwks_uri": base + "/certs", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	}))
	defer provider.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	dir := t.TempDir()
	validate := func(issuer string) (string, error) {
		caddyfile := fmt.Sprintf(`{
	admin off
	trusted_endpoints {
		storage sqlite %s
	}
}
http://localhost:8089 {
	bind 127.0.0.1
	trusted_endpoints {
		login oidc {
			issuer    %s
			client_id legacy
		}
	}
	respond "ok"
}
`, filepath.Join(dir, "tg.db"), issuer)
		path := filepath.Join(dir, "Caddyfile")
		if err := os.WriteFile(path, []byte(caddyfile), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binary, "validate", "--config", path)
		cmd.Dir, cmd.Env = dir, isolatedEnv(t)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := validate(provider.URL + "/realms/corp/")
	// The error is printed as JSON, its quotes escaped.
	if err == nil || !strings.Contains(out, "issuer mismatch") || !strings.Contains(out, `set issuer to exactly \"`+provider.URL+`/realms/corp\"`) {
		t.Fatalf("validate with a trailing slash: %v\n%s", err, out)
	}
	if out, err := validate(provider.URL + "/realms/corp"); err != nil || !strings.Contains(out, "Valid configuration") {
		t.Fatalf("validate with the right issuer: %v\n%s", err, out)
	}
	out, err = validate(downURL + "/realms/corp")
	if err != nil || !strings.Contains(out, "Valid configuration") || !strings.Contains(out, "not reachable") {
		t.Fatalf("validate with the provider down: %v\n%s", err, out)
	}
}
