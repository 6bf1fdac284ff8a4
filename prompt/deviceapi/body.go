package deviceapi

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// maxBody caps a device request's body.
const maxBody = 64 << 10

// readBody reads a device request's body, refusing an oversized one and
// one that is not all there by the read deadline limit set.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, badRequest(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", maxBody), err)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			w.Header().Set("Connection", "close")
			return nil, badRequest(http.StatusRequestTimeout, "the request body was sent too slowly", err)
		}
		return nil, badRequest(http.StatusBadRequest, "reading request body failed", err)
	}
	// The body is in: lift the deadline, which would otherwise end the
	// request (and cancel its context) while the handler still works.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	return body, nil
}

func badRequest(status int, msg string, err error) *web.Error {
	return &web.Error{Status: status, Code: device.CodeBadRequest, Message: msg, Err: err}
}

// decodeStrict decodes a JSON body into dst, refusing unknown fields and
// trailing data with a 400 naming the problem in plain words.
func decodeStrict(body []byte, dst any) error {
	return decodeStrictIn(body, dst, "")
}

// decodeStrictIn is decodeStrict for a part of the body, field, whose name
// prefixes the fields its errors name ("facts" gives "facts.screen_lock").
func decodeStrictIn(body []byte, dst any, field string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	msg := ""
	if err := dec.Decode(dst); err != nil {
		msg = protocol.DescribeJSONError(err, field)
	} else if _, tokErr := dec.Token(); tokErr != io.EOF {
		// More() misses a stray closing bracket ("{}}"); only EOF may follow.
		msg = "trailing data after the JSON object"
	}
	if msg != "" {
		return device.BadRequest("invalid JSON body: " + truncate(msg, 200))
	}
	return nil
}

// requestURL is the URL the device signed: the scheme and host the request
// came to, and its path.
func requestURL(r *http.Request) *url.URL {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return &url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path}
}

// requestOrigin is the origin the request came to.
func requestOrigin(r *http.Request) string {
	u := requestURL(r)
	return u.Scheme + "://" + u.Host
}

// proofToken returns the proof in r's Authorization header.
func proofToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, protocol.AuthScheme) || token == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// verifyProof checks r's proof over body. With activation it wants an
// embedded key, otherwise a known, active device's kid (the device is
// returned). The proof's unique ID is used up, so a replayed proof is
// refused.
func (a *API) verifyProof(r *http.Request, body []byte, activation bool) (protocol.VerifiedProof, *store.Device, error) {
	token, ok := proofToken(r)
	if !ok {
		return protocol.VerifiedProof{}, nil, &device.Error{Code: device.CodeInvalidProof, Message: "missing " + protocol.AuthScheme + " authorization"}
	}
	ctx := r.Context()
	var d *store.Device
	check := protocol.ProofCheck{Method: r.Method, URL: requestURL(r), Body: body, Now: a.cfg.Now(), MaxAge: device.ProofMaxAge}
	if !activation {
		check.Key = func(id string) (*ecdsa.PublicKey, error) { return a.svc.ProofKey(ctx, id, &d) }
	}
	vp, err := protocol.VerifyProof(token, check)
	if err != nil {
		return vp, nil, a.svc.ProofRefused(err)
	}
	// The device's own bucket is charged only once its signature holds,
	// so nobody else can use it up by naming its ID; before the proof's
	// ID is stored, so a flood costs no writes.
	if !activation {
		if err := a.chargeDevice(vp.DeviceID); err != nil {
			return vp, nil, err
		}
	}
	if err := a.svc.UseProof(ctx, vp, d); err != nil {
		return vp, nil, err
	}
	return vp, d, nil
}
