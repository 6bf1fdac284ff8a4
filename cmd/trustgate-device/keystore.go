package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/prompt/protocol"
)

// The device's state is one JSON file, stateFile, in the state directory.
// The private key is stored inside it as a PKCS#8 PEM block rather than in a
// separate key file, so that the key and what activation binds to it (device
// ID, user, gateway origins, passcode secret) are always written together by one
// atomic rename and guarded by one permission check.
//
// The file is created with mode 0600 in a directory created with mode 0700,
// and, like ssh does with private keys, it is refused on load if group or
// others have any access to it.
const (
	stateFile    = "device.json"
	stateVersion = 1
	// maxStateSize bounds what load reads: a state file is a few kilobytes.
	maxStateSize = 1 << 20
)

// errNoState is returned by loadState when there is no state file yet.
var errNoState = errors.New("no device key yet (run \"trustgate-device keygen\")")

// deviceState is the content of the state file.
type deviceState struct {
	// Version is the state file format; loadState refuses others.
	Version int `json:"version"`
	// PrivateKey is the device's ECDSA P-256 key, PKCS#8 PEM.
	PrivateKey string `json:"private_key"`
	// Activations are the gateways this key is activated with, oldest
	// first; activate adds them.
	Activations []activation `json:"activations,omitempty"`
}

// activation is what one successful activation with a gateway leaves on the
// device: the agent's Activation, stored as it is.
type activation = agent.Activation

// activationFor returns the stored activation that allows origin, or nil.
func (s *deviceState) activationFor(origin string) *activation {
	for i := range s.Activations {
		if s.Activations[i].Allows(origin) {
			return &s.Activations[i]
		}
	}
	return nil
}

// setActivation stores act, replacing every activation it shares an origin
// with: a gateway's newer activation supersedes an older one.
func (s *deviceState) setActivation(act activation) {
	kept := s.Activations[:0]
	for _, old := range s.Activations {
		if !slices.ContainsFunc(old.Origins, act.Allows) {
			kept = append(kept, old)
		}
	}
	s.Activations = append(kept, act)
}

// defaultStateDir returns $XDG_CONFIG_HOME/trustgate-device, or
// ~/.config/trustgate-device when XDG_CONFIG_HOME is unset or relative (the
// XDG spec says to ignore relative values).
func defaultStateDir() (string, error) {
	if dir := os.Getenv("XDG_CONFIG_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "trustgate-device"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the state directory (use --state): %w", err)
	}
	return filepath.Join(home, ".config", "trustgate-device"), nil
}

// newState returns the state of a device with a fresh P-256 key and no
// activations.
func newState() (*deviceState, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding key: %w", err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return &deviceState{Version: stateVersion, PrivateKey: string(pemKey)}, nil
}

// keyAndID returns the device key and its device ID.
func (s *deviceState) keyAndID() (*ecdsa.PrivateKey, string, error) {
	key, err := s.key()
	if err != nil {
		return nil, "", err
	}
	id, err := protocol.DeviceID(&key.PublicKey)
	if err != nil {
		return nil, "", err
	}
	return key, id, nil
}

// key parses the state's private key, refusing anything but ECDSA P-256.
func (s *deviceState) key() (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(s.PrivateKey))
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("private_key is not a PKCS#8 PEM block")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing private_key: %w", err)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private_key is a %T, want an ECDSA P-256 key", parsed)
	}
	if key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("private_key is on curve %s, want P-256", key.Curve.Params().Name)
	}
	return key, nil
}

// loadState reads and checks the state file in dir: its permissions, its
// format version and its key. It never creates anything; a missing file is
// errNoState.
func loadState(dir string) (*deviceState, error) {
	path := filepath.Join(dir, stateFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, errNoState)
	}
	if err != nil {
		return nil, fmt.Errorf("opening state file: %w", err)
	}
	defer f.Close()
	// Stat the open file, not the path, so the mode checked is the mode of
	// what is read.
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("opening state file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("state file %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("state file %s has mode %04o: it holds the device's private key and must not be accessible by group or others (chmod 600 it)", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxStateSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading state file %s: %w", path, err)
	}
	if len(data) > maxStateSize {
		return nil, fmt.Errorf("state file %s is larger than %d bytes", path, maxStateSize)
	}
	var s deviceState
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("state file %s is not valid: %w", path, err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("state file %s has version %d, want %d", path, s.Version, stateVersion)
	}
	if _, err := s.key(); err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	return &s, nil
}

// saveState writes s to the state file in dir atomically: into a temporary
// file in the same directory, then renamed over the old one. Without
// overwrite it refuses to replace an existing state file, atomically too (a
// hard link fails if the name exists), so two racing keygens cannot both win.
func saveState(dir string, s *deviceState, overwrite bool) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	data = append(data, '\n')
	if err := makeStateDir(dir); err != nil {
		return err
	}
	path := filepath.Join(dir, stateFile)
	// CreateTemp makes the file with mode 0600.
	tmp, err := os.CreateTemp(dir, "."+stateFile+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("writing state file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing state file: %w", err)
	}
	if overwrite {
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("writing state file: %w", err)
		}
	} else {
		if err := os.Link(tmp.Name(), path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("state file %s already exists", path)
			}
			return fmt.Errorf("writing state file: %w", err)
		}
	}
	syncDir(dir)
	return nil
}

// makeStateDir creates dir with mode 0700 if it does not exist. An existing
// directory is left as its owner set it.
func makeStateDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	// MkdirAll's mode is filtered by the umask; make sure of 0700.
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	return nil
}

// syncDir makes a rename in dir durable where the platform allows it; the
// write already happened, so failure here is not reported.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	d.Close()
}
