package main

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/protocol"
)

// runCLI runs the command line in-process and returns the exit code and
// what it printed.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// keygenIn creates a key in dir and returns its device ID and public key,
// read back through the id command.
func keygenIn(t *testing.T, dir string) (string, *ecdsa.PublicKey) {
	t.Helper()
	if code, _, stderr := runCLI(t, "keygen", "--state", dir); code != exitOK {
		t.Fatalf("keygen exit %d: %s", code, stderr)
	}
	return idIn(t, dir)
}

func idIn(t *testing.T, dir string) (string, *ecdsa.PublicKey) {
	t.Helper()
	code, stdout, stderr := runCLI(t, "id", "--state", dir)
	if code != exitOK {
		t.Fatalf("id exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("id printed %q, want two lines", stdout)
	}
	pub, err := protocol.ParsePublicJWK([]byte(lines[1]))
	if err != nil {
		t.Fatalf("id's second line: %v", err)
	}
	return lines[0], pub
}

func TestIDPrintsDeviceIDOfPrintedJWK(t *testing.T) {
	dir := t.TempDir()
	id, pub := keygenIn(t, dir)
	want, err := protocol.DeviceID(pub)
	if err != nil {
		t.Fatal(err)
	}
	if id != want {
		t.Errorf("id printed device ID %s, but the JWK's is %s", id, want)
	}
	// And it is the key in the state file.
	s, err := loadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := deviceIDOf(t, s); got != id {
		t.Errorf("state file key has device ID %s, id printed %s", got, id)
	}
}

func TestKeygenRefusesToOverwriteWithoutForce(t *testing.T) {
	dir := t.TempDir()
	first, _ := keygenIn(t, dir)
	code, _, stderr := runCLI(t, "keygen", "--state", dir)
	if code == exitOK || !strings.Contains(stderr, "already exists") {
		t.Errorf("second keygen: exit %d, stderr %q; want a refusal", code, stderr)
	}
	if again, _ := idIn(t, dir); again != first {
		t.Errorf("device ID changed from %s to %s without --force", first, again)
	}
	if code, _, stderr := runCLI(t, "keygen", "--state", dir, "--force"); code != exitOK {
		t.Fatalf("keygen --force exit %d: %s", code, stderr)
	}
	if replaced, _ := idIn(t, dir); replaced == first {
		t.Error("keygen --force kept the old key")
	}
}

func TestKeygenRefusesToOverwriteGarbage(t *testing.T) {
	dir := t.TempDir()
	writeStateFile(t, dir, []byte("not mine to delete"), 0o600)
	if code, _, _ := runCLI(t, "keygen", "--state", dir); code == exitOK {
		t.Error("keygen replaced an existing (unreadable) state file without --force")
	}
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil || string(data) != "not mine to delete" {
		t.Errorf("state file now %q (%v)", data, err)
	}
}

func TestSignProofVerifiesOnlyForItsRequest(t *testing.T) {
	dir := t.TempDir()
	id, pub := keygenIn(t, dir)
	body := []byte(`{"challenge":"abc"}`)
	bodyFile := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		t.Fatal(err)
	}
	const signedURL = "https://gw.example/.trustgate/device/v1/health?ignored=1"
	u := func(s string) *url.URL {
		parsed, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return parsed
	}
	keyOf := func(deviceID string) (*ecdsa.PublicKey, error) {
		if deviceID != id {
			return nil, protocol.ErrUnknownDevice
		}
		return pub, nil
	}
	for _, activation := range []bool{false, true} {
		args := []string{"sign-proof", "--state", dir, "--method", "post", "--url", signedURL, "--body-file", bodyFile}
		check := protocol.ProofCheck{Key: keyOf}
		if activation {
			args = append(args, "--activation")
			check.Key = nil
		}
		code, stdout, stderr := runCLI(t, args...)
		if code != exitOK {
			t.Fatalf("sign-proof exit %d: %s", code, stderr)
		}
		proof := strings.TrimSpace(stdout)
		cases := []struct {
			name    string
			method  string
			url     string
			body    []byte
			wantErr error
		}{
			{"same request", "POST", "https://gw.example/.trustgate/device/v1/health", body, nil},
			{"another URL", "POST", "https://gw.example/.trustgate/device/v1/push", body, protocol.ErrProofMismatch},
			{"another origin", "POST", "https://evil.example/.trustgate/device/v1/health", body, protocol.ErrProofMismatch},
			{"another method", "PUT", "https://gw.example/.trustgate/device/v1/health", body, protocol.ErrProofMismatch},
			{"another body", "POST", "https://gw.example/.trustgate/device/v1/health", []byte(`{}`), protocol.ErrProofMismatch},
		}
		for _, c := range cases {
			check := check
			check.Method, check.URL, check.Body, check.Now = c.method, u(c.url), c.body, time.Now()
			vp, err := protocol.VerifyProof(proof, check)
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Errorf("activation=%v, %s: VerifyProof error = %v, want %v", activation, c.name, err, c.wantErr)
				continue
			}
			if err == nil && vp.DeviceID != id {
				t.Errorf("activation=%v: proof verified as device %s, want %s", activation, vp.DeviceID, id)
			}
		}
	}
}

func TestSignProofWithoutBodyFileSignsEmptyBody(t *testing.T) {
	dir := t.TempDir()
	_, pub := keygenIn(t, dir)
	code, stdout, stderr := runCLI(t, "sign-proof", "--state", dir, "--method", "GET", "--url", "https://gw.example/.trustgate/device/v1/push")
	if code != exitOK {
		t.Fatalf("sign-proof exit %d: %s", code, stderr)
	}
	u, _ := url.Parse("https://gw.example/.trustgate/device/v1/push")
	_, err := protocol.VerifyProof(strings.TrimSpace(stdout), protocol.ProofCheck{
		Method: "GET", URL: u, Now: time.Now(),
		Key: func(string) (*ecdsa.PublicKey, error) { return pub, nil },
	})
	if err != nil {
		t.Error(err)
	}
}

func TestBadCommandLinesFailWithAMessage(t *testing.T) {
	withKey := t.TempDir()
	keygenIn(t, withKey)
	empty := t.TempDir()
	sign := func(extra ...string) []string {
		return append([]string{"sign-proof", "--state", withKey}, extra...)
	}
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"no arguments", nil, exitUsage},
		{"unknown command", []string{"frobnicate"}, exitUsage},
		{"unknown flag", []string{"id", "--state", withKey, "--nope"}, exitUsage},
		{"stray argument", []string{"id", "--state", withKey, "extra"}, exitUsage},
		{"id without key", []string{"id", "--state", empty}, exitError},
		{"sign without key", []string{"sign-proof", "--state", empty, "--method", "GET", "--url", "https://gw.example/"}, exitError},
		{"sign without method", sign("--url", "https://gw.example/"), exitUsage},
		{"sign without URL", sign("--method", "GET"), exitUsage},
		{"sign bad method", sign("--method", "GE T", "--url", "https://gw.example/"), exitUsage},
		{"sign relative URL", sign("--method", "GET", "--url", "/device/v1/push"), exitUsage},
		{"sign non-http URL", sign("--method", "GET", "--url", "ftp://gw.example/"), exitUsage},
		{"sign unparsable URL", sign("--method", "GET", "--url", "https://gw.example/%zz"), exitUsage},
		{"sign missing body file", sign("--method", "GET", "--url", "https://gw.example/", "--body-file", filepath.Join(empty, "nope")), exitError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, c.args...)
			if code != c.want {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.want, stderr)
			}
			if stderr == "" {
				t.Error("nothing on stderr")
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(empty, stateFile)); err == nil {
		t.Error("a failed command created a key")
	}
}

func TestHelpPrintsUsage(t *testing.T) {
	code, stdout, _ := runCLI(t, "help")
	if code != exitOK || !strings.Contains(stdout, "sign-proof") || !strings.Contains(stdout, "listen") || strings.Contains(stdout, "not yet available") {
		t.Errorf("help: exit %d, stdout %q", code, stdout)
	}
	code, _, stderr := runCLI(t, "keygen", "-h")
	if code != exitOK || !strings.Contains(stderr, "--force") && !strings.Contains(stderr, "-force") {
		t.Errorf("keygen -h: exit %d, stderr %q", code, stderr)
	}
}
