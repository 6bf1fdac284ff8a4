package gatetest

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/protocol"
)

// SignedRequest makes a device API request to the gateway at base (its
// scheme and host) with a proof by key, signed for method and signPath
// (normally the request's own path), as a device sends it; embed puts the
// public key in the proof, as an activation does. It returns the request
// and the proof.
func SignedRequest(t testing.TB, base string, key *ecdsa.PrivateKey, embed bool, method, path, signPath string, body []byte) (*http.Request, string) {
	t.Helper()
	u, err := url.Parse(base + signPath)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := protocol.SignProof(key, embed, method, u, body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", protocol.AuthScheme+" "+proof)
	req.Header.Set("Content-Type", "application/json")
	return req, proof
}

// APICall sends req and returns the status and the error code of the
// answer's body; an error answer without a message fails t.
func APICall(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e protocol.Error
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &e)
	if resp.StatusCode >= 400 && e.Error == "" {
		t.Errorf("error response without a message: %d %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, e.Code
}
