package prompt

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// Limits of the device API.
const (
	// maxDeviceBody caps a device request's body.
	maxDeviceBody = 64 << 10
	// proofMaxAge is how far a proof's issue time may be from now.
	proofMaxAge = 60 * time.Second
	// maxLongPoll caps how long a push long-poll is held.
	maxLongPoll = 30 * time.Second
	// longPollRecheck is how often a held long-poll looks at the store on
	// its own. A push sent through this instance wakes the long-poll at
	// once (Waker), and so does one sent through another instance when the
	// store carries events (store.Notifier, PostgreSQL); this look is the
	// safety net for lost events and for stores without them (two
	// processes on one SQLite file), where a push may wait this long. A
	// short interval would cost one store query per second per waiting
	// device.
	longPollRecheck = 10 * time.Second
	// longPollExitCheck is how often a held long-poll asks Config.Exiting,
	// which is a function to call, not a channel to wait on. It reads no
	// store.
	longPollExitCheck = time.Second
	// maxFreeText caps the device's free-text fields (model, versions).
	maxFreeText = 128
)

// serveDeviceAPI answers the device API under protocol.APIPrefix.
func (g *Gate) serveDeviceAPI(w http.ResponseWriter, r *http.Request) {
	if g.cfg.Device == nil {
		deviceError(w, http.StatusNotFound, "not_found", "device checks are not enabled on this site")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, protocol.APIPrefix)
	if !g.limitDevice(w, r, path) {
		return
	}
	switch {
	case path == "activate":
		if !allowMethod(w, r, http.MethodPost) {
			return
		}
		g.apiActivate(w, r)
	case path == "device":
		if !allowMethod(w, r, http.MethodGet) {
			return
		}
		g.apiDevice(w, r)
	case path == "pushes":
		if !allowMethod(w, r, http.MethodGet) {
			return
		}
		g.apiPushes(w, r)
	case strings.HasPrefix(path, "pushes/"):
		if !allowMethod(w, r, http.MethodPost) {
			return
		}
		g.apiAnswer(w, r, strings.TrimPrefix(path, "pushes/"))
	case strings.HasPrefix(path, "transactions/") && strings.HasSuffix(path, "/report"):
		if !allowMethod(w, r, http.MethodPost) {
			return
		}
		g.apiReport(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "transactions/"), "/report"))
	default:
		deviceError(w, http.StatusNotFound, "not_found", "no such device API endpoint")
	}
}

func allowMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	deviceError(w, http.StatusMethodNotAllowed, "bad_request", "method "+r.Method+" not allowed; use "+method)
	return false
}

func deviceError(w http.ResponseWriter, status int, code, msg string) {
	web.WriteJSON(w, status, protocol.Error{Error: msg, Code: code})
}

// readDeviceBody reads a device request's body, refusing an oversized one
// and one that is not all there by the read deadline limitDevice set.
func readDeviceBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDeviceBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			deviceError(w, http.StatusRequestEntityTooLarge, "bad_request", fmt.Sprintf("request body is larger than %d bytes", maxDeviceBody))
			return nil, false
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			w.Header().Set("Connection", "close")
			deviceError(w, http.StatusRequestTimeout, "bad_request", "the request body was sent too slowly")
			return nil, false
		}
		deviceError(w, http.StatusBadRequest, "bad_request", "reading request body failed")
		return nil, false
	}
	// The body is in: lift the deadline, which would otherwise end the
	// request (and cancel its context) while the handler still works.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	return body, true
}

// decodeStrict decodes a JSON body into dst, refusing unknown fields and
// trailing data, and writes a 400 naming the problem in plain words.
func decodeStrict(w http.ResponseWriter, body []byte, dst any) bool {
	return decodeStrictIn(w, body, dst, "")
}

// decodeStrictIn is decodeStrict for a part of the body, field, whose name
// prefixes the fields its errors name ("facts" gives "facts.screen_lock").
func decodeStrictIn(w http.ResponseWriter, body []byte, dst any, field string) bool {
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
		deviceError(w, http.StatusBadRequest, "bad_request", "invalid JSON body: "+truncate(msg, 200))
		return false
	}
	return true
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

// verifyDeviceProof checks r's proof over body. With activation it wants an
// embedded key, otherwise a known, active device's kid. The proof's unique
// ID is used up, so a replayed proof is refused. It writes the error
// response and reports false when the proof is refused.
func (g *Gate) verifyDeviceProof(w http.ResponseWriter, r *http.Request, body []byte, activation bool) (protocol.VerifiedProof, *store.Device, bool) {
	token, ok := proofToken(r)
	if !ok {
		deviceError(w, http.StatusUnauthorized, "invalid_proof", "missing "+protocol.AuthScheme+" authorization")
		return protocol.VerifiedProof{}, nil, false
	}
	ctx := r.Context()
	var device *store.Device
	check := protocol.ProofCheck{Method: r.Method, URL: requestURL(r), Body: body, Now: g.cfg.Now(), MaxAge: proofMaxAge}
	if !activation {
		check.Key = func(id string) (*ecdsa.PublicKey, error) {
			d, err := g.cfg.Store.Device(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("%w: %s", protocol.ErrUnknownDevice, truncate(id, 64))
			}
			if err != nil {
				return nil, err
			}
			device = &d
			return protocol.ParsePublicJWK(d.PublicKey)
		}
	}
	vp, err := protocol.VerifyProof(token, check)
	switch {
	case err == nil:
	case errors.Is(err, protocol.ErrUnknownDevice):
		deviceError(w, http.StatusUnauthorized, "unknown_device", "the proof's key is not an activated device")
		return vp, nil, false
	case errors.Is(err, protocol.ErrMalformedProof), errors.Is(err, protocol.ErrProofSignature),
		errors.Is(err, protocol.ErrProofStale), errors.Is(err, protocol.ErrProofMismatch):
		deviceError(w, http.StatusUnauthorized, "invalid_proof", truncate(err.Error(), 200))
		return vp, nil, false
	default:
		g.cfg.Logger.Error("checking device proof", zap.Error(err))
		deviceError(w, http.StatusServiceUnavailable, "unavailable", "the gateway cannot check devices right now")
		return vp, nil, false
	}
	// The device's own bucket is charged only once its signature holds,
	// so nobody else can use it up by naming its ID; before the proof's
	// ID is stored, so a flood costs no writes.
	if !activation && !g.limitVerifiedDevice(w, vp.DeviceID) {
		return vp, nil, false
	}
	fresh, err := g.cfg.Store.UseOnce(ctx, "proof:"+vp.DeviceID+":"+vp.Claims.ID, g.cfg.Now().Add(2*proofMaxAge))
	if err != nil {
		g.cfg.Logger.Error("recording device proof", zap.Error(err))
		deviceError(w, http.StatusServiceUnavailable, "unavailable", "the gateway cannot check devices right now")
		return vp, nil, false
	}
	if !fresh {
		deviceError(w, http.StatusUnauthorized, "replayed_proof", "this proof was already used")
		return vp, nil, false
	}
	if device != nil && !device.Active() {
		deviceError(w, http.StatusForbidden, "revoked_device", "this device was revoked; activate it again")
		return vp, nil, false
	}
	return vp, device, true
}

// apiActivate binds a new device key to the user of an activation code.
func (g *Gate) apiActivate(w http.ResponseWriter, r *http.Request) {
	body, ok := readDeviceBody(w, r)
	if !ok {
		return
	}
	var req protocol.ActivateRequest
	if !decodeStrict(w, body, &req) {
		return
	}
	platform, err := policy.ParsePlatform(req.Platform)
	if err != nil {
		deviceError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if req.Code == "" || len(req.Code) > 128 || len(req.Model) > maxFreeText || len(req.OSVersion) > maxFreeText || len(req.AppVersion) > maxFreeText {
		deviceError(w, http.StatusBadRequest, "bad_request", "code missing, or a field is too long")
		return
	}
	vp, _, ok := g.verifyDeviceProof(w, r, body, true)
	if !ok {
		return
	}
	ctx := r.Context()
	// Failed activations count against the address, so codes cannot be
	// guessed at speed. Only failures count: many people activating at
	// once from one address (an office behind NAT) must not lock it, and a
	// success must not wipe an attacker's count. Guesses made in parallel
	// may pass the limit by their number, which is harmless against
	// 256-bit codes; the limit is there to stop guessing, not to make it
	// possible.
	lockKey := "activate:" + g.cfg.ClientIP(r)
	lockWindow := g.cfg.LockoutWindow
	failed, err := g.cfg.Store.CountFailures(ctx, lockKey, g.cfg.Now().Add(-lockWindow))
	if err != nil {
		g.apiUnavailable(w, "counting activation attempts", err)
		return
	}
	if failed >= g.cfg.Device.ActivationAttempts {
		deviceError(w, http.StatusTooManyRequests, "too_many_requests", "too many failed activations from this address; try again later")
		return
	}
	act, err := g.cfg.Store.ConsumeActivation(ctx, secret.Hash(req.Code), g.cfg.Now())
	if errors.Is(err, store.ErrNotFound) {
		if err := g.cfg.Store.AddFailure(ctx, lockKey, g.cfg.Now()); err != nil {
			g.apiUnavailable(w, "counting activation attempts", err)
			return
		}
		deviceError(w, http.StatusNotFound, "not_found", "the activation code is unknown, used or expired")
		return
	}
	if err != nil {
		g.apiUnavailable(w, "using activation code", err)
		return
	}
	pending, ok := g.admitActivation(w, r, req.Code, act)
	if !ok {
		return
	}
	passcodeSecret, uri, err := NewPasscodeSecret("trustgate", act.User)
	if err != nil {
		g.apiUnavailable(w, "making passcode secret", err)
		return
	}
	jwk, err := protocol.PublicJWK(vp.Key)
	if err != nil {
		g.apiUnavailable(w, "encoding device key", err)
		return
	}
	now := g.cfg.Now()
	device := store.Device{
		ID: vp.DeviceID, User: act.User, Realm: act.Realm, PublicKey: jwk,
		Platform: string(platform), Model: req.Model, OSVersion: req.OSVersion, AppVersion: req.AppVersion,
		PasscodeSecret: passcodeSecret, Created: now, LastSeen: now,
	}
	if pending {
		g.startEnrollment(w, r, device, g.activateResponse(r, device, uri))
		return
	}
	err = g.cfg.Store.CreateDevice(ctx, device)
	if errors.Is(err, store.ErrConflict) {
		deviceError(w, http.StatusConflict, "conflict", "this device key is already activated")
		return
	}
	if err != nil {
		g.apiUnavailable(w, "storing device", err)
		return
	}
	g.cfg.Logger.Info("device activated", zap.String("user", act.User), zap.String("device_id", vp.DeviceID), zap.String("platform", string(platform)), zap.String("realm", g.realmName(act.Realm)))
	web.WriteJSON(w, http.StatusCreated, g.activateResponse(r, device, uri))
}

// activateResponse tells a device activated through r who it belongs to;
// uri is its passcode secret's otpauth URI.
func (g *Gate) activateResponse(r *http.Request, d store.Device, uri string) protocol.ActivateResponse {
	origins := g.cfg.Device.Origins
	if len(origins) == 0 {
		origins = []string{requestOrigin(r)}
	}
	return protocol.ActivateResponse{
		DeviceID: d.ID,
		User:     d.User,
		Origins:  origins,
		Passcode: protocol.PasscodeSetup{
			Secret: d.PasscodeSecret, URI: uri,
			Digits: int(device.PasscodeDigits), Period: int(device.PasscodePeriod / time.Second), Algorithm: "SHA1",
		},
	}
}

// apiDevice returns the calling device's record.
func (g *Gate) apiDevice(w http.ResponseWriter, r *http.Request) {
	_, d, ok := g.verifyDeviceProof(w, r, nil, false)
	if !ok {
		return
	}
	web.WriteJSON(w, http.StatusOK, protocol.DeviceResponse{
		DeviceID: d.ID, User: d.User, Platform: d.Platform, Model: d.Model,
		OSVersion: d.OSVersion, AppVersion: d.AppVersion, Verdict: d.Verdict,
	})
}

// apiReport takes a device's health report for an inline transaction,
// evaluates it and, unless policy refuses the login outright, sends the
// device the login request to approve.
func (g *Gate) apiReport(w http.ResponseWriter, r *http.Request, txID string) {
	body, ok := readDeviceBody(w, r)
	if !ok {
		return
	}
	var req protocol.ReportRequest
	if !decodeStrict(w, body, &req) {
		return
	}
	if len(req.Facts) == 0 {
		deviceError(w, http.StatusBadRequest, "bad_request", "facts missing")
		return
	}
	var facts policy.Facts
	if !decodeStrictIn(w, req.Facts, &facts, "facts") {
		return
	}
	if len(facts.Model) > maxFreeText || len(facts.OSVersion) > maxFreeText || len(facts.AppVersion) > maxFreeText || len(facts.SecurityPatch) > maxFreeText {
		deviceError(w, http.StatusBadRequest, "bad_request", "a fact is too long")
		return
	}
	_, device, ok := g.verifyDeviceProof(w, r, body, false)
	if !ok {
		return
	}
	ctx := r.Context()
	tx, err := g.loadTransaction(ctx, txID)
	if errors.Is(err, store.ErrNotFound) {
		deviceError(w, http.StatusNotFound, "not_found", "no such transaction")
		return
	}
	if err != nil {
		g.apiUnavailable(w, "loading transaction", err)
		return
	}
	now := g.cfg.Now()
	switch {
	case tx.User != device.User:
		g.cfg.Logger.Warn("device reported for another user's transaction",
			zap.String("device_id", device.ID), zap.String("device_user", device.User), zap.String("transaction_user", tx.User))
		deviceError(w, http.StatusForbidden, "wrong_user", "this transaction belongs to another user")
		return
	case !DeviceInRealm(device, g.txRealm(tx)):
		// Another site's person of the same name: refused like another
		// user's device.
		g.cfg.Logger.Warn("device of another realm reported for a transaction",
			zap.String("device_id", device.ID), zap.String("user", device.User),
			zap.String("device_realm", g.realmName(device.Realm)), zap.String("transaction_realm", g.realmName(g.txRealm(tx))))
		deviceError(w, http.StatusForbidden, "wrong_user", "this transaction belongs to another user")
		return
	case tx.rec.Kind != txInline:
		deviceError(w, http.StatusConflict, "conflict", "this transaction takes no health report")
		return
	case !now.Before(tx.Expires):
		deviceError(w, http.StatusGone, "expired", "the transaction has expired; start again in the browser")
		return
	case !secret.Equal(secret.Hash(req.Challenge), tx.rec.ChallengeHash):
		deviceError(w, http.StatusForbidden, "wrong_challenge", "the challenge does not match the transaction")
		return
	case tx.State != store.TransactionPending:
		deviceError(w, http.StatusConflict, "conflict", "the transaction already has a report")
		return
	}

	pol := g.cfg.Device.Policy
	verdict := policy.Evaluate(pol.Requirements, facts, now)
	outcome := policy.Decide(pol.Mode, verdict.Status(), verdict.Reasons())
	factsJSON, _ := json.Marshal(facts)
	tx.rec.Facts = factsJSON
	tx.rec.Verdict = &verdict
	tx.rec.PolicyHash = g.policyHash
	recordHealth := func(ctx context.Context) {
		if err := g.cfg.Store.RecordHealth(ctx, device.ID, factsJSON, string(verdict.Status()), now); err != nil {
			g.cfg.Logger.Warn("recording device health", zap.Error(err))
		}
	}

	resp := protocol.ReportResponse{
		Trusted:  verdict.Trusted,
		Failed:   protocolFindings(verdict.Failed),
		Warnings: protocolFindings(verdict.Warnings),
	}
	if !outcome.Allow {
		recordHealth(ctx)
		tx.rec.Reason = string(outcome.Reason)
		if err := g.transition(ctx, tx, store.TransactionPending, store.TransactionDenied, device.ID); err != nil {
			g.transitionFailed(w, "denying transaction", err)
			return
		}
		g.recordTx(r, tx, device, store.ResultDenied, string(outcome.Reason), "mobile_inline", false)
		resp.State = store.TransactionDenied
		web.WriteJSON(w, http.StatusOK, resp)
		return
	}

	push := protocol.Push{
		ID:           secret.Token(),
		Application:  g.application(r),
		User:         tx.User,
		AccessDevice: accessDescription(tx.rec.Access),
		IP:           tx.rec.IP,
		Time:         tx.Created.UTC(),
		Expires:      now.Add(g.cfg.Device.PushTimeout).UTC(),
		Inline:       true,
	}
	tx.rec.PushIDs = []string{push.ID}
	tx.rec.PushExpires = push.Expires
	// The health record, the report and the login request share one
	// commit where the store can (store.InOneCommit); each succeeds or
	// fails as if written one after the other.
	var moveErr, pushErr error
	err = store.InOneCommit(ctx, g.cfg.Store, func(ctx context.Context) error {
		recordHealth(ctx)
		if moveErr = g.transition(ctx, tx, store.TransactionPending, store.TransactionReported, device.ID); moveErr != nil {
			return nil
		}
		pushErr = g.storePush(ctx, device.ID, tx.ID, push)
		return nil
	})
	if err != nil {
		g.apiUnavailable(w, "recording report", err)
		return
	}
	if moveErr != nil {
		g.transitionFailed(w, "recording report", moveErr)
		return
	}
	if pushErr != nil {
		g.apiUnavailable(w, "sending login request", pushErr)
		return
	}
	// The inline request is in this answer and also listed by GET pushes,
	// so an app that lost the answer (it was closed, or restarted) still
	// finds it; its long-polls are woken for that.
	g.announcePush(ctx, device.ID)
	resp.State = store.TransactionReported
	resp.Push = &push
	web.WriteJSON(w, http.StatusOK, resp)
}

// sendPush stores a login request for deviceID and wakes its long-polls.
func (g *Gate) sendPush(ctx context.Context, deviceID, txID string, p protocol.Push) error {
	if err := g.storePush(ctx, deviceID, txID, p); err != nil {
		return err
	}
	g.announcePush(ctx, deviceID)
	return nil
}

// storePush stores a login request for deviceID; announcePush must follow
// once it is committed.
func (g *Gate) storePush(ctx context.Context, deviceID, txID string, p protocol.Push) error {
	details, err := json.Marshal(p)
	if err != nil {
		return err
	}
	err = g.cfg.Store.CreatePush(ctx, store.Push{
		ID: p.ID, User: p.User, DeviceID: deviceID, TransactionID: txID,
		State: store.PushPending, Details: details, Created: g.cfg.Now(), Expires: p.Expires,
	})
	if err != nil {
		return fmt.Errorf("storing push: %w", err)
	}
	return nil
}

// announcePush wakes the long-polls of deviceID, here and on other
// instances, to a login request just stored.
func (g *Gate) announcePush(ctx context.Context, deviceID string) {
	g.wake.Notify(deviceID)
	if n, ok := g.cfg.Store.(store.Notifier); ok {
		// Long-polls held by other instances hear of it at once; they
		// would otherwise find it on their next look at the store.
		if err := n.Notify(ctx, store.Event{Kind: store.EventPush, ID: deviceID}); err != nil {
			g.cfg.Logger.Warn("telling other instances about a login request", zap.Error(err))
		}
	}
}

func protocolFindings(fs []policy.Finding) []protocol.Finding {
	out := make([]protocol.Finding, 0, len(fs))
	for _, f := range fs {
		pf := protocol.Finding{Requirement: string(f.Requirement), Reason: string(f.Reason), Hint: f.Hint}
		if !f.Deadline.IsZero() {
			d := f.Deadline.UTC()
			pf.Deadline = &d
		}
		out = append(out, pf)
	}
	return out
}

// apiPushes lists the device's pending login requests, holding the request
// up to ?wait= seconds until one arrives. A retired gate (a reload) holds
// nothing: it answers with what is pending, usually an empty list, which
// the device takes as "poll again", and so reaches the new configuration
// at once instead of keeping the old one's server alive for the wait.
//
// The proof check and the store reads run on a fresh stack (onFreshStack),
// and the hold keeps the device's ID, not its record, so that a held
// long-poll keeps only what waiting needs.
func (g *Gate) apiPushes(w http.ResponseWriter, r *http.Request) {
	var (
		deviceID string
		ok       bool
	)
	onFreshStack(func() {
		var device *store.Device
		if _, device, ok = g.verifyDeviceProof(w, r, nil, false); ok {
			deviceID = device.ID
		}
	})
	if !ok {
		return
	}
	var wait time.Duration
	if v := r.URL.Query().Get("wait"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			deviceError(w, http.StatusBadRequest, "bad_request", "wait must be a whole number of seconds")
			return
		}
		wait = min(time.Duration(n)*time.Second, maxLongPoll)
	}
	// The long-poll reads no body, yet under Caddy limitDevice sets the
	// body deadline on its connection too (its body is not http.NoBody).
	// Left in place, the deadline ends the held request and cancels its
	// context after the body timeout (10 s by default): the pending bench
	// saw every long-poll cut off so, the device getting an empty 200.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	ctx := r.Context()
	deadline := time.Now().Add(wait)
	for {
		woken := g.wake.Wait(deviceID)
		var (
			pending []store.Push
			err     error
		)
		onFreshStack(func() { pending, err = g.cfg.Store.PendingPushes(ctx, deviceID, g.cfg.Now()) })
		if err != nil {
			g.wake.Cancel(deviceID, woken)
			if ctx.Err() != nil {
				writePushes(w, nil)
				return
			}
			g.apiUnavailable(w, "reading login requests", err)
			return
		}
		listed := listedPushes(pending)
		left := time.Until(deadline)
		if len(listed) > 0 || left <= 0 || g.retired() {
			g.wake.Cancel(deviceID, woken)
			writePushes(w, listed)
			return
		}
		held := g.holdLongPoll(ctx, woken, min(left, longPollRecheck))
		g.wake.Cancel(deviceID, woken)
		if !held {
			// The request ended: usually nobody is left to answer, but
			// a device still listening (its context ended by a connection
			// deadline, say) is better told "poll again" than sent an
			// empty body.
			writePushes(w, nil)
			return
		}
		if waitRanOut(woken, deadline) && !g.retired() {
			// Nothing woke it: "poll again" without a last look, since
			// the device's next long-poll looks at the store as it
			// starts, a moment later. A look here too would be a quarter
			// of the store reads of thousands of waiting devices.
			writePushes(w, nil)
			return
		}
	}
}

// waitRanOut reports whether a held long-poll ended because its wait was
// over, not because woken was closed.
func waitRanOut(woken <-chan struct{}, deadline time.Time) bool {
	select {
	case <-woken:
		return false
	default:
		return !time.Now().Before(deadline)
	}
}

// listedPushes returns the login requests GET pushes lists of pending:
// every one, inline ones (marked inline) included, since an app that lost
// the answer to its report finds its inline request only here.
func listedPushes(pending []store.Push) []protocol.Push {
	var out []protocol.Push
	for _, p := range pending {
		var pp protocol.Push
		if err := json.Unmarshal(p.Details, &pp); err != nil {
			continue
		}
		pp.ID = p.ID
		out = append(out, pp)
	}
	return out
}

// writePushes answers a pushes request with pushes, an empty list meaning
// "poll again".
func writePushes(w http.ResponseWriter, pushes []protocol.Push) {
	if pushes == nil {
		pushes = []protocol.Push{}
	}
	web.WriteJSON(w, http.StatusOK, protocol.PushesResponse{Pushes: pushes})
}

// holdLongPoll waits until a held long-poll should look at the store again:
// woken (a push for the device), the gate retired or the process exiting
// (one more look, then the answer), or after recheck. It reports false when
// the request ended, and there is nothing to answer.
func (g *Gate) holdLongPoll(ctx context.Context, woken <-chan struct{}, recheck time.Duration) bool {
	timer := time.NewTimer(recheck)
	defer timer.Stop()
	var exitCheck <-chan time.Time
	if g.cfg.Exiting != nil {
		ticker := time.NewTicker(longPollExitCheck)
		defer ticker.Stop()
		exitCheck = ticker.C
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-g.cfg.Retired:
			return true
		case <-woken:
			return true
		case <-timer.C:
			return true
		case <-exitCheck:
			if g.cfg.Exiting() {
				return true
			}
		}
	}
}

// apiAnswer approves or denies a login request.
func (g *Gate) apiAnswer(w http.ResponseWriter, r *http.Request, pushID string) {
	body, ok := readDeviceBody(w, r)
	if !ok {
		return
	}
	var req protocol.AnswerRequest
	if !decodeStrict(w, body, &req) {
		return
	}
	state, reason := "", ""
	switch req.Answer {
	case protocol.AnswerApprove:
		if req.Reason != "" {
			// A reason says why the person denied; with an approval it
			// would be recorded nowhere, so the app has it wrong.
			deviceError(w, http.StatusBadRequest, "bad_request", "reason goes only with deny")
			return
		}
		state = store.PushApproved
	case protocol.AnswerDeny:
		state, reason = store.PushDenied, protocol.DenyCancelled
		if req.Reason == protocol.DenyFraud {
			reason = protocol.DenyFraud
		} else if req.Reason != "" && req.Reason != protocol.DenyCancelled {
			deviceError(w, http.StatusBadRequest, "bad_request", "reason must be user_cancelled or user_marked_fraud")
			return
		}
	default:
		deviceError(w, http.StatusBadRequest, "bad_request", "answer must be approve or deny")
		return
	}
	_, device, ok := g.verifyDeviceProof(w, r, body, false)
	if !ok {
		return
	}
	ctx := r.Context()
	push, err := g.cfg.Store.Push(ctx, pushID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && push.DeviceID != device.ID) {
		deviceError(w, http.StatusNotFound, "not_found", "no such login request for this device")
		return
	}
	if err != nil {
		g.apiUnavailable(w, "reading login request", err)
		return
	}
	tx, err := g.loadTransaction(ctx, push.TransactionID)
	if err != nil {
		g.apiUnavailable(w, "loading transaction", err)
		return
	}
	if tx.User != device.User || !DeviceInRealm(device, g.txRealm(tx)) {
		// Requests go only to the devices of the transaction's person and
		// realm; one of another reached this device only by a fault.
		g.cfg.Logger.Warn("device of another person or realm answered a login request",
			zap.String("device_id", device.ID), zap.String("user", device.User),
			zap.String("device_realm", g.realmName(device.Realm)), zap.String("transaction_realm", g.realmName(g.txRealm(tx))))
		deviceError(w, http.StatusNotFound, "not_found", "no such login request for this device")
		return
	}
	if tx.rec.Kind == txEnroll {
		g.answerEnrollment(w, r, device, push, tx, state, reason, req.Number)
		return
	}
	if state == store.PushApproved && tx.rec.NumberHash != "" && !secret.Equal(secret.Hash(req.Number), tx.rec.NumberHash) {
		state, reason = store.PushDenied, reasonWrongNumber
	}
	// from is the state the transaction leaves on approval.
	from := store.TransactionReported
	var returnCode string
	if state == store.PushApproved && tx.rec.Kind == txInline {
		returnCode = secret.Token()
		tx.rec.ReturnHash = secret.Hash(returnCode)
		tx.rec.ReturnSealed = g.sealReturnCode(returnCode)
	}
	// An approval and the transaction's move share one commit where the
	// store can (store.InOneCommit); each succeeds or fails as if written
	// one after the other.
	var answerErr, withdrawErr, moveErr error
	moved := false
	err = store.InOneCommit(ctx, g.cfg.Store, func(ctx context.Context) error {
		if _, answerErr = g.cfg.Store.AnswerPush(ctx, push.ID, device.ID, state, reason, g.cfg.Now()); answerErr != nil {
			return nil
		}
		// The first answer settles the login request: the copies on the
		// person's other devices are withdrawn.
		if withdrawErr = g.withdrawOtherPushes(ctx, tx, push.ID); withdrawErr != nil || state != store.PushApproved {
			return nil
		}
		moved, moveErr = true, g.transition(ctx, tx, from, store.TransactionApproved, device.ID)
		return nil
	})
	if err == nil && withdrawErr != nil {
		// The answer stands; the other copies lapse on their own.
		g.cfg.Logger.Warn("withdrawing a login request from the other devices", zap.Error(withdrawErr))
	}
	if err != nil {
		g.apiUnavailable(w, "answering login request", err)
		return
	}
	if err := answerErr; err != nil {
		switch {
		case errors.Is(err, store.ErrConflict) && !g.cfg.Now().Before(push.Expires):
			g.observer().PushOutcome(pushExpired)
			deviceError(w, http.StatusGone, "expired", "the login request has expired")
			return
		case errors.Is(err, store.ErrConflict) && state == store.PushApproved && g.approvedBefore(ctx, push.ID, device.ID) && tx.State == store.TransactionReported:
			// The device's approval was stored but the transaction did not
			// move (the gateway was killed in between on a store without
			// one commit, or the move failed): approving again finishes
			// that approval. No return link was given for it yet.
			if err := g.withdrawOtherPushes(ctx, tx, push.ID); err != nil {
				g.cfg.Logger.Warn("withdrawing a login request from the other devices", zap.Error(err))
			}
		case errors.Is(err, store.ErrConflict) && state == store.PushApproved && g.approvedBefore(ctx, push.ID, device.ID) && tx.State == store.TransactionApproved:
			// The device approved before and the approval took effect, but
			// the answer may never have reached it (the gateway was killed,
			// the network dropped it): it gets the same answer again, with
			// the same return link, never a second one.
			g.repeatApproval(ctx, w, r, tx.ID)
			return
		case errors.Is(err, store.ErrConflict):
			g.alreadyAnswered(ctx, w, push.ID)
			return
		default:
			g.apiUnavailable(w, "answering login request", err)
			return
		}
	} else {
		g.observer().PushOutcome(pushOutcome(state, reason))
	}

	resp := protocol.AnswerResponse{State: state}
	if state == store.PushDenied {
		tx.rec.Reason = reason
		if err := g.transition(ctx, tx, store.TransactionReported, store.TransactionDenied, device.ID); err != nil {
			g.transitionFailed(w, "denying transaction", err)
			return
		}
		g.recordTx(r, tx, device, store.ResultDenied, reason, factorOf(tx), false)
		if reason == reasonWrongNumber {
			deviceError(w, http.StatusForbidden, "wrong_number", "the number does not match the one in the browser; the login was denied")
			return
		}
		web.WriteJSON(w, http.StatusOK, resp)
		return
	}
	if !moved {
		moveErr = g.transition(ctx, tx, from, store.TransactionApproved, device.ID)
	}
	if moveErr != nil {
		g.transitionFailed(w, "approving transaction", moveErr)
		return
	}
	if returnCode != "" {
		resp.ReturnURL = returnURL(r, tx.ID, returnCode)
	}
	web.WriteJSON(w, http.StatusOK, resp)
}

// returnURL is the return link of the inline transaction txID on the origin
// r came to.
func returnURL(r *http.Request, txID, code string) string {
	return requestOrigin(r) + protocol.ReturnPath + "?" + url.Values{
		protocol.ParamTransaction: {txID}, protocol.ParamCode: {code},
	}.Encode()
}

// returnCodeSeal names the sealed return code (txRecord.ReturnSealed) for
// the cookie codec, which binds the name into the MAC.
const returnCodeSeal = "tg_return_code"

// sealReturnCode seals an inline approval's return code with the gateway's
// cookie keys, so that a repeated approval can answer with the same link
// while the store holds no usable code. It returns "" when it cannot; a
// repeated approval then gets already_answered.
func (g *Gate) sealReturnCode(code string) string {
	if g.cfg.Cookies == nil {
		return ""
	}
	sealed, err := g.cfg.Cookies.Encode(returnCodeSeal, code)
	if err != nil {
		g.cfg.Logger.Warn("sealing a return code", zap.Error(err))
		return ""
	}
	return sealed
}

// repeatApproval answers an approval of a login request the same device
// approved before, whose transaction txID is approved, with the first
// answer: the same return link for an inline check. When that link cannot
// be had again (its seal does not open any more), it answers
// already_answered instead of making a second one. It reads the
// transaction again: the caller's copy holds the return code it made for
// this request, which was never stored.
func (g *Gate) repeatApproval(ctx context.Context, w http.ResponseWriter, r *http.Request, txID string) {
	tx, err := g.loadTransaction(ctx, txID)
	if err != nil {
		g.apiUnavailable(w, "loading transaction", err)
		return
	}
	if tx.State != store.TransactionApproved {
		deviceError(w, http.StatusConflict, "already_answered", "the login request was already answered")
		return
	}
	resp := protocol.AnswerResponse{State: store.PushApproved}
	if tx.rec.Kind == txInline {
		var code string
		if tx.rec.ReturnSealed == "" || g.cfg.Cookies.Decode(returnCodeSeal, tx.rec.ReturnSealed, &code) != nil ||
			!secret.Equal(secret.Hash(code), tx.rec.ReturnHash) {
			deviceError(w, http.StatusConflict, "already_answered", "the login request was already approved")
			return
		}
		resp.ReturnURL = returnURL(r, tx.ID, code)
	}
	web.WriteJSON(w, http.StatusOK, resp)
}

// approvedBefore reports whether the push pushID was approved by
// deviceID. The caller tells, by the state of its transaction, whether the
// approval still has to take effect (reported) or was answered (approved).
func (g *Gate) approvedBefore(ctx context.Context, pushID, deviceID string) bool {
	p, err := g.cfg.Store.Push(ctx, pushID)
	return err == nil && p.DeviceID == deviceID && p.State == store.PushApproved
}

// withdrawOtherPushes withdraws the copies of tx's login request sent to
// the person's other devices, all but answered.
func (g *Gate) withdrawOtherPushes(ctx context.Context, tx *transaction, answered string) error {
	others := make([]string, 0, len(tx.rec.PushIDs))
	for _, id := range tx.rec.PushIDs {
		if id != answered {
			others = append(others, id)
		}
	}
	if len(others) == 0 {
		return nil
	}
	_, err := g.cfg.Store.WithdrawPushes(ctx, others)
	return err
}

// alreadyAnswered answers an answer to a login request that was answered
// before, on this device or, when it was withdrawn, on another one.
func (g *Gate) alreadyAnswered(ctx context.Context, w http.ResponseWriter, pushID string) {
	msg := "the login request was already answered"
	if p, err := g.cfg.Store.Push(ctx, pushID); err == nil && p.Answer == store.PushWithdrawn {
		msg = "the login request was answered on another device"
	}
	deviceError(w, http.StatusConflict, "already_answered", msg)
}

func factorOf(tx *transaction) string {
	if tx.rec.Kind == txInline {
		return factorMobileInline
	}
	return factorPush
}

// transitionFailed answers a lost or refused state change.
func (g *Gate) transitionFailed(w http.ResponseWriter, what string, err error) {
	switch {
	case errors.Is(err, store.ErrConflict):
		deviceError(w, http.StatusConflict, "conflict", "the transaction has moved on or expired")
	case errors.Is(err, store.ErrNotFound):
		deviceError(w, http.StatusNotFound, "not_found", "no such transaction")
	default:
		g.apiUnavailable(w, what, err)
	}
}

func (g *Gate) apiUnavailable(w http.ResponseWriter, what string, err error) {
	g.storeFailed(what, err)
	g.cfg.Logger.Error(what, zap.Error(err))
	deviceError(w, http.StatusServiceUnavailable, "unavailable", "the gateway cannot complete this right now; try again")
}
