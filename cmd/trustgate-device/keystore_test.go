package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/protocol"
)

// writeStateFile writes a state file by hand, as an attacker or a careless
// user might, with the given mode.
func writeStateFile(t *testing.T, dir string, data []byte, mode os.FileMode) {
	t.Helper()
	path := filepath.Join(dir, stateFile)
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode is filtered by the umask.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// stateWithKey returns state file JSON holding key as PKCS#8 PEM.
func stateWithKey(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(deviceState{
		Version:    stateVersion,
		PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func deviceIDOf(t *testing.T, s *deviceState) string {
	t.Helper()
	key, err := s.key()
	if err != nil {
		t.Fatal(err)
	}
	id, err := protocol.DeviceID(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestReloadedKeyHasSameDeviceID(t *testing.T) {
	dir := t.TempDir()
	s, err := newState()
	if err != nil {
		t.Fatal(err)
	}
	s.Activations = []activation{{Origins: []string{"https://gw.example"}, DeviceID: deviceIDOf(t, s)}}
	if err := saveState(dir, s, false); err != nil {
		t.Fatal(err)
	}
	loaded, err := loadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := deviceIDOf(t, loaded), deviceIDOf(t, s); got != want {
		t.Errorf("device ID after reload = %s, want %s", got, want)
	}
	if len(loaded.Activations) != 1 || loaded.Activations[0].Origins[0] != "https://gw.example" {
		t.Errorf("activations after reload = %+v", loaded.Activations)
	}
}

func TestSavedStateIsPrivateToOwner(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	dir := filepath.Join(t.TempDir(), "nested", "trustgate-device")
	s, err := newState()
	if err != nil {
		t.Fatal(err)
	}
	if err := saveState(dir, s, false); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{dir: 0o700, filepath.Join(dir, stateFile): 0o600} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s has mode %04o, want %04o", path, got, want)
		}
	}
	// Overwriting keeps the mode and leaves no temporary file behind.
	if err := saveState(dir, s, true); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != stateFile {
		t.Errorf("state directory holds %v, want only %s", entries, stateFile)
	}
}

func TestLoadRefusesStateAccessibleByOthers(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	data := stateWithKey(t, key)
	for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o660, 0o606} {
		dir := t.TempDir()
		writeStateFile(t, dir, data, mode)
		_, err := loadState(dir)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: loadState error = %v, want a refusal naming chmod 600", mode, err)
		}
	}
	// The same content with mode 0600 loads, so the refusal was the mode.
	dir := t.TempDir()
	writeStateFile(t, dir, data, 0o600)
	if _, err := loadState(dir); err != nil {
		t.Errorf("mode 0600: %v", err)
	}
}

func TestLoadRefusesKeysOtherThanP256(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]any{"P-384": p384, "Ed25519": ed} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeStateFile(t, dir, stateWithKey(t, key), 0o600)
			if _, err := loadState(dir); err == nil || !strings.Contains(err.Error(), "P-256") {
				t.Errorf("loadState error = %v, want a refusal naming P-256", err)
			}
		})
	}
}

func TestLoadRefusesGarbage(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	sec1PEM, _ := json.Marshal(string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})))
	badDER, _ := json.Marshal(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not DER")})))
	var future deviceState
	if err := json.Unmarshal(stateWithKey(t, p256), &future); err != nil {
		t.Fatal(err)
	}
	future.Version = 2
	futureJSON, _ := json.Marshal(future)
	cases := map[string][]byte{
		"empty":              {},
		"not JSON":           []byte("\x00\x01binary garbage"),
		"JSON array":         []byte(`[1,2,3]`),
		"no version":         []byte(`{"private_key":""}`),
		"no key":             []byte(`{"version":1}`),
		"key not PEM":        []byte(`{"version":1,"private_key":"hello"}`),
		"SEC1 not PKCS#8":    []byte(`{"version":1,"private_key":` + string(sec1PEM) + `}`),
		"PEM with bad DER":   []byte(`{"version":1,"private_key":` + string(badDER) + `}`),
		"future version":     futureJSON,
		"bare PEM, not JSON": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeStateFile(t, dir, data, 0o600)
			if _, err := loadState(dir); err == nil {
				t.Error("loadState accepted it")
			}
		})
	}
}

func TestLoadRefusesOversizedState(t *testing.T) {
	dir := t.TempDir()
	writeStateFile(t, dir, make([]byte, maxStateSize+1), 0o600)
	if _, err := loadState(dir); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Errorf("loadState error = %v, want a size refusal", err)
	}
}

func TestLoadNeverCreatesAKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")
	_, err := loadState(dir)
	if !errors.Is(err, errNoState) {
		t.Errorf("loadState error = %v, want errNoState", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("loadState created %s (stat error %v)", dir, err)
	}
}

func TestSaveWithoutOverwriteKeepsExistingState(t *testing.T) {
	dir := t.TempDir()
	first, err := newState()
	if err != nil {
		t.Fatal(err)
	}
	second, err := newState()
	if err != nil {
		t.Fatal(err)
	}
	if err := saveState(dir, first, false); err != nil {
		t.Fatal(err)
	}
	if err := saveState(dir, second, false); err == nil {
		t.Fatal("saveState replaced an existing state without overwrite")
	}
	loaded, err := loadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if deviceIDOf(t, loaded) != deviceIDOf(t, first) {
		t.Error("the existing key was replaced")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("state directory holds %v, want only %s", entries, stateFile)
	}
}

func TestDefaultStateDirFollowsXDG(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	cases := []struct {
		xdg, want string
	}{
		{"/xdg/config", filepath.Join("/xdg/config", "trustgate-device")},
		{"", filepath.Join(home, ".config", "trustgate-device")},
		{"relative/ignored", filepath.Join(home, ".config", "trustgate-device")},
	}
	for _, c := range cases {
		t.Setenv("XDG_CONFIG_HOME", c.xdg)
		got, err := defaultStateDir()
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("XDG_CONFIG_HOME=%q: defaultStateDir() = %s, want %s", c.xdg, got, c.want)
		}
	}
}
