// Package fakegateway is a test double of the gateway's device API, written
// from the documented contract alone, for testing the reference agent
// while the real server is written. It verifies every device proof with
// protocol.VerifyProof exactly as the gateway must (method, URL without
// query, body hash, embedded key for activation, kid afterwards, replay),
// so a test passing against it shows the agent signs what the gateway
// checks.
package fakegateway

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trustgate/trustgate/prompt/protocol"
)

// PushTimeout is how long a push stays pending.
const PushTimeout = 60 * time.Second

// Gateway is a fake gateway serving the device API on a loopback
// httptest.Server.
type Gateway struct {
	Server *httptest.Server
	// Origin is the server's origin, http://127.0.0.1:PORT.
	Origin string
	// Block makes an untrusted report end in state "denied".
	Block bool

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change
	codes      map[string]string
	devices    map[string]*Device
	seen       map[string]bool
	txs        map[string]*Transaction
	pushes     map[string]*PushRecord
	order      []string
	waits      []string
	rawQueries []string
}

// Device is a device the fake gateway activated.
type Device struct {
	Key     *ecdsa.PublicKey
	User    string
	Request protocol.ActivateRequest
	Revoked bool
	Secret  string
}

// Transaction is a verification transaction.
type Transaction struct {
	User      string
	Challenge string
	Reported  bool
	Facts     json.RawMessage
	DeviceID  string
}

// PushRecord is a push and its answer.
type PushRecord struct {
	Push     protocol.Push
	DeviceID string
	Number   string
	TxID     string
	Answer   *protocol.AnswerRequest
}

// New starts a fake gateway; it is closed when the test ends.
func New(t interface{ Cleanup(func()) }) *Gateway {
	g := &Gateway{
		changed: make(chan struct{}),
		codes:   map[string]string{},
		devices: map[string]*Device{},
		seen:    map[string]bool{},
		txs:     map[string]*Transaction{},
		pushes:  map[string]*PushRecord{},
	}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	g.Origin = g.Server.URL
	t.Cleanup(g.Server.Close)
	return g
}

func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// notify wakes long-polls. Call with mu held.
func (g *Gateway) notify() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// IssueActivation returns a new activation code for user.
func (g *Gateway) IssueActivation(user string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	code := token()
	g.codes[code] = user
	return code
}

// ActivationLink returns the HTTPS-form activation link for code.
func (g *Gateway) ActivationLink(code string) string {
	return g.Origin + protocol.ActivateLinkPath + "?" + url.Values{protocol.ParamCode: {code}}.Encode()
}

// StartTransaction starts a verification transaction for user and returns
// its ID and challenge.
func (g *Gateway) StartTransaction(user string) (tx, challenge string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	tx, challenge = token(), token()
	g.txs[tx] = &Transaction{User: user, Challenge: challenge}
	return tx, challenge
}

// VerifyLink returns the custom-scheme verification link of a transaction.
func (g *Gateway) VerifyLink(tx, challenge string) string {
	q := url.Values{protocol.ParamOrigin: {g.Origin}, protocol.ParamTransaction: {tx}, protocol.ParamChallenge: {challenge}}
	return protocol.Scheme + "://verify?" + q.Encode()
}

// Transaction returns a copy of a transaction's record.
func (g *Gateway) Transaction(tx string) Transaction {
	g.mu.Lock()
	defer g.mu.Unlock()
	return *g.txs[tx]
}

// Device returns a copy of a device's record, and whether it exists.
func (g *Gateway) Device(id string) (Device, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	d, ok := g.devices[id]
	if !ok {
		return Device{}, false
	}
	return *d, true
}

// Revoke revokes a device.
func (g *Gateway) Revoke(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.devices[id].Revoked = true
}

// AddPush queues a login request for the device; number, if not empty,
// asks for number matching.
func (g *Gateway) AddPush(deviceID, application, number string) protocol.Push {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.addPushLocked(deviceID, application, number, "")
}

func (g *Gateway) addPushLocked(deviceID, application, number, tx string) protocol.Push {
	now := time.Now()
	p := protocol.Push{
		ID: token(), Application: application, User: g.devices[deviceID].User,
		AccessDevice: "Chrome on Android 14", IP: "192.0.2.7",
		Time: now.UTC().Truncate(time.Second), Expires: now.Add(PushTimeout).UTC().Truncate(time.Second),
		NumberMatching: number != "", Inline: tx != "",
	}
	g.pushes[p.ID] = &PushRecord{Push: p, DeviceID: deviceID, Number: number, TxID: tx}
	g.order = append(g.order, p.ID)
	g.notify()
	return p
}

// Answer returns the answer a push got, or nil.
func (g *Gateway) Answer(pushID string) *protocol.AnswerRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r := g.pushes[pushID]; r != nil && r.Answer != nil {
		a := *r.Answer
		return &a
	}
	return nil
}

// WaitAnswer waits until the push is answered or ctx ends.
func (g *Gateway) WaitAnswer(ctx context.Context, pushID string) (*protocol.AnswerRequest, error) {
	for {
		g.mu.Lock()
		r, changed := g.pushes[pushID], g.changed
		var a *protocol.AnswerRequest
		if r != nil && r.Answer != nil {
			copied := *r.Answer
			a = &copied
		}
		g.mu.Unlock()
		if a != nil {
			return a, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// WaitPolls waits until n GET pushes requests have arrived.
func (g *Gateway) WaitPolls(ctx context.Context, n int) error {
	for {
		g.mu.Lock()
		got, changed := len(g.waits), g.changed
		g.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Waits returns the wait query value of every GET pushes request ("" for
// none), in order, and the raw queries.
func (g *Gateway) Waits() (waits, rawQueries []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.waits...), append([]string(nil), g.rawQueries...)
}

// PasscodeSecret returns the TOTP secret provisioned for a device.
func (g *Gateway) PasscodeSecret(deviceID string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.devices[deviceID].Secret
}

// apiError is an error response.
type apiError struct {
	status int
	code   string
	msg    string
}

func fail(status int, code, format string, args ...any) *apiError {
	return &apiError{status, code, fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	status, resp, err := g.route(r)
	if err != nil {
		writeJSON(w, err.status, protocol.Error{Error: err.msg, Code: err.code})
		return
	}
	writeJSON(w, status, resp)
}

func (g *Gateway) route(r *http.Request) (int, any, *apiError) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil {
		return 0, nil, fail(400, "bad_request", "reading body")
	}
	if len(body) > 64<<10 {
		return 0, nil, fail(413, "bad_request", "body too large")
	}
	path := r.URL.Path
	switch {
	case path == protocol.PathActivate && r.Method == http.MethodPost:
		return g.activate(r, body)
	case strings.HasPrefix(path, protocol.PathReportPrefix) && strings.HasSuffix(path, "/report") && r.Method == http.MethodPost:
		tx := strings.TrimSuffix(strings.TrimPrefix(path, protocol.PathReportPrefix), "/report")
		return g.report(r, body, tx)
	case path == protocol.PathPushes && r.Method == http.MethodGet:
		return g.listPushes(r, body)
	case strings.HasPrefix(path, protocol.PathPushes+"/") && r.Method == http.MethodPost:
		return g.answer(r, body, strings.TrimPrefix(path, protocol.PathPushes+"/"))
	case path == protocol.PathDevice && r.Method == http.MethodGet:
		return g.device(r, body)
	}
	return 0, nil, fail(404, "not_found", "no such endpoint")
}

// verify checks the request's proof; activation proofs embed the key.
// Call without mu held.
func (g *Gateway) verify(r *http.Request, body []byte, activation bool) (protocol.VerifiedProof, *apiError) {
	proof, ok := strings.CutPrefix(r.Header.Get("Authorization"), protocol.AuthScheme+" ")
	if !ok {
		return protocol.VerifiedProof{}, fail(401, "invalid_proof", "no device proof")
	}
	u, err := url.Parse(g.Origin + r.URL.RequestURI())
	if err != nil {
		return protocol.VerifiedProof{}, fail(400, "bad_request", "bad URL")
	}
	check := protocol.ProofCheck{Method: r.Method, URL: u, Body: body, Now: time.Now()}
	if !activation {
		check.Key = func(id string) (*ecdsa.PublicKey, error) {
			g.mu.Lock()
			defer g.mu.Unlock()
			d, ok := g.devices[id]
			if !ok {
				return nil, fmt.Errorf("%w: %s", protocol.ErrUnknownDevice, id)
			}
			return d.Key, nil
		}
	}
	vp, err := protocol.VerifyProof(proof, check)
	switch {
	case errors.Is(err, protocol.ErrUnknownDevice):
		return vp, fail(401, "unknown_device", "unknown device")
	case err != nil:
		return vp, fail(401, "invalid_proof", "%v", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen[vp.Claims.ID] {
		return vp, fail(401, "replayed_proof", "proof already used")
	}
	g.seen[vp.Claims.ID] = true
	if d := g.devices[vp.DeviceID]; !activation && d.Revoked {
		return vp, fail(403, "revoked_device", "device revoked")
	}
	return vp, nil
}

func decodeStrict(body []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fail(400, "bad_request", "bad JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail(400, "bad_request", "trailing data")
	}
	return nil
}

func (g *Gateway) activate(r *http.Request, body []byte) (int, any, *apiError) {
	vp, aerr := g.verify(r, body, true)
	if aerr != nil {
		return 0, nil, aerr
	}
	var req protocol.ActivateRequest
	if aerr := decodeStrict(body, &req); aerr != nil {
		return 0, nil, aerr
	}
	if req.Platform != "ios" && req.Platform != "android" {
		return 0, nil, fail(400, "bad_request", "bad platform")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	user, ok := g.codes[req.Code]
	if !ok {
		return 0, nil, fail(404, "not_found", "unknown activation code")
	}
	if _, exists := g.devices[vp.DeviceID]; exists {
		return 0, nil, fail(409, "conflict", "key already activated")
	}
	delete(g.codes, req.Code)
	secret := make([]byte, 20)
	_, _ = rand.Read(secret)
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	g.devices[vp.DeviceID] = &Device{Key: vp.Key, User: user, Request: req, Secret: b32}
	return http.StatusCreated, protocol.ActivateResponse{
		DeviceID: vp.DeviceID,
		User:     user,
		Origins:  []string{g.Origin},
		Passcode: protocol.PasscodeSetup{
			Secret: b32, Digits: 6, Period: 30, Algorithm: "SHA1",
			URI: "otpauth://totp/trustgate:" + url.PathEscape(user) + "?secret=" + b32,
		},
	}, nil
}

// verdict is the fake policy: screen lock and not tampered are required,
// biometrics warned about until a deadline.
func verdict(raw json.RawMessage) (protocol.ReportResponse, *apiError) {
	var f struct {
		Platform       string `json:"platform"`
		OSVersion      string `json:"os_version"`
		SecurityPatch  string `json:"security_patch"`
		ScreenLock     *bool  `json:"screen_lock"`
		Biometrics     *bool  `json:"biometrics"`
		DiskEncryption *bool  `json:"disk_encryption"`
		Tampered       *bool  `json:"tampered"`
		AppVersion     string `json:"app_version"`
		Model          string `json:"model"`
	}
	if aerr := decodeStrict(raw, &f); aerr != nil {
		return protocol.ReportResponse{}, aerr
	}
	var resp protocol.ReportResponse
	if f.ScreenLock == nil || !*f.ScreenLock {
		resp.Failed = append(resp.Failed, protocol.Finding{Requirement: "screen_lock", Reason: "no_screen_lock", Hint: "Turn on a screen lock."})
	}
	if f.Tampered == nil || *f.Tampered {
		resp.Failed = append(resp.Failed, protocol.Finding{Requirement: "not_tampered", Reason: "rooted_device", Hint: "Use a device that is not rooted."})
	}
	if f.Biometrics == nil || !*f.Biometrics {
		deadline := time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)
		resp.Warnings = append(resp.Warnings, protocol.Finding{Requirement: "biometrics", Reason: "no_biometrics", Hint: "Enroll a fingerprint.", Deadline: &deadline})
	}
	resp.Trusted = len(resp.Failed) == 0
	return resp, nil
}

func (g *Gateway) report(r *http.Request, body []byte, txID string) (int, any, *apiError) {
	vp, aerr := g.verify(r, body, false)
	if aerr != nil {
		return 0, nil, aerr
	}
	var req protocol.ReportRequest
	if aerr := decodeStrict(body, &req); aerr != nil {
		return 0, nil, aerr
	}
	resp, aerr := verdict(req.Facts)
	if aerr != nil {
		return 0, nil, aerr
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	tx, ok := g.txs[txID]
	switch {
	case !ok:
		return 0, nil, fail(404, "not_found", "unknown transaction")
	case tx.User != g.devices[vp.DeviceID].User:
		return 0, nil, fail(403, "wrong_user", "this transaction is another user's")
	case tx.Challenge != req.Challenge:
		return 0, nil, fail(403, "wrong_challenge", "wrong challenge")
	case tx.Reported:
		return 0, nil, fail(409, "conflict", "already reported")
	}
	tx.Reported, tx.Facts, tx.DeviceID = true, req.Facts, vp.DeviceID
	if g.Block && !resp.Trusted {
		resp.State = "denied"
	} else {
		resp.State = "reported"
		p := g.addPushLocked(vp.DeviceID, "legacy", "", txID)
		resp.Push = &p
	}
	g.notify()
	return http.StatusOK, resp, nil
}

func (g *Gateway) listPushes(r *http.Request, body []byte) (int, any, *apiError) {
	vp, aerr := g.verify(r, body, false)
	if aerr != nil {
		return 0, nil, aerr
	}
	wait := 0
	if v := r.URL.Query().Get("wait"); v != "" || r.URL.Query().Has("wait") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 30 {
			return 0, nil, fail(400, "bad_request", "wait must be 0 to 30 seconds")
		}
		wait = n
	}
	g.mu.Lock()
	g.waits = append(g.waits, r.URL.Query().Get("wait"))
	g.rawQueries = append(g.rawQueries, r.URL.RawQuery)
	g.notify()
	g.mu.Unlock()
	deadline := time.After(time.Duration(wait) * time.Second)
	for {
		g.mu.Lock()
		pending, changed := g.pendingLocked(vp.DeviceID), g.changed
		g.mu.Unlock()
		if len(pending) > 0 || wait == 0 {
			return http.StatusOK, protocol.PushesResponse{Pushes: pending}, nil
		}
		select {
		case <-changed:
		case <-deadline:
			wait = 0
		case <-r.Context().Done():
			return 0, nil, fail(503, "unavailable", "client gone")
		}
	}
}

func (g *Gateway) pendingLocked(deviceID string) []protocol.Push {
	pending := []protocol.Push{}
	now := time.Now()
	for _, id := range g.order {
		p := g.pushes[id]
		// An inline push is listed too (it is also in the answer to its
		// report).
		if p.DeviceID == deviceID && p.Answer == nil && now.Before(p.Push.Expires) {
			pending = append(pending, p.Push)
		}
	}
	return pending
}

func (g *Gateway) answer(r *http.Request, body []byte, pushID string) (int, any, *apiError) {
	vp, aerr := g.verify(r, body, false)
	if aerr != nil {
		return 0, nil, aerr
	}
	var req protocol.AnswerRequest
	if aerr := decodeStrict(body, &req); aerr != nil {
		return 0, nil, aerr
	}
	if req.Answer != protocol.AnswerApprove && req.Answer != protocol.AnswerDeny {
		return 0, nil, fail(400, "bad_request", "bad answer")
	}
	if req.Answer == protocol.AnswerApprove && req.Reason != "" {
		return 0, nil, fail(400, "bad_request", "reason goes only with deny")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	p, ok := g.pushes[pushID]
	switch {
	case !ok || p.DeviceID != vp.DeviceID:
		return 0, nil, fail(404, "not_found", "unknown push")
	case p.Answer != nil && p.Answer.Answer == protocol.AnswerApprove && req.Answer == protocol.AnswerApprove:
		// Approving again gives the first answer (the same return link).
		return http.StatusOK, approvedAnswer(g.Origin, p), nil
	case p.Answer != nil:
		return 0, nil, fail(409, "already_answered", "already answered")
	case !time.Now().Before(p.Push.Expires):
		return 0, nil, fail(410, "expired", "push expired")
	}
	defer g.notify()
	if req.Answer == protocol.AnswerApprove && p.Number != "" && req.Number != p.Number {
		p.Answer = &protocol.AnswerRequest{Answer: protocol.AnswerDeny, Reason: "wrong_number", Number: req.Number}
		return 0, nil, fail(403, "wrong_number", "the number does not match")
	}
	p.Answer = &req
	if req.Answer == protocol.AnswerDeny {
		return http.StatusOK, protocol.AnswerResponse{State: "denied"}, nil
	}
	return http.StatusOK, approvedAnswer(g.Origin, p), nil
}

// approvedAnswer is the answer to an approval of p.
func approvedAnswer(origin string, p *PushRecord) protocol.AnswerResponse {
	resp := protocol.AnswerResponse{State: "approved"}
	if p.TxID != "" {
		resp.ReturnURL = origin + protocol.ReturnPath + "?" + url.Values{protocol.ParamTransaction: {p.TxID}, protocol.ParamCode: {"ret-" + p.TxID}}.Encode()
	}
	return resp
}

func (g *Gateway) device(r *http.Request, body []byte) (int, any, *apiError) {
	vp, aerr := g.verify(r, body, false)
	if aerr != nil {
		return 0, nil, aerr
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.devices[vp.DeviceID]
	return http.StatusOK, protocol.DeviceResponse{
		DeviceID: vp.DeviceID, User: d.User, Platform: d.Request.Platform,
		Model: d.Request.Model, OSVersion: d.Request.OSVersion, AppVersion: d.Request.AppVersion,
	}, nil
}

// InlinePush returns the ID of the inline push a transaction's report
// made, or "".
func (g *Gateway) InlinePush(tx string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, id := range g.order {
		if g.pushes[id].TxID == tx {
			return id
		}
	}
	return ""
}
