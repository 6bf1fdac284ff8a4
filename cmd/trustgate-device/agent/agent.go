package agent

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
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trustgate/trustgate/prompt/protocol"
)

const (
	// maxResponseSize bounds what the agent reads of a gateway response.
	maxResponseSize = 1 << 20
	// requestTimeout bounds a request whose context has no deadline;
	// a long-poll gets its wait on top.
	requestTimeout = 30 * time.Second
	// maxWait is the longest long-poll the device API allows.
	maxWait = 30 * time.Second
)

// Errors the agent refuses a request with before sending it.
var (
	// ErrNotActivated: the device has no activation yet.
	ErrNotActivated = errors.New("this device is not activated (activate it with an activation link first)")
	// ErrForeignOrigin: a link or answer names an origin the device was not
	// activated for.
	ErrForeignOrigin = errors.New("origin not activated on this device")
)

// DeviceInfo describes the device to the gateway at activation.
type DeviceInfo struct {
	// Platform is "ios" or "android".
	Platform string `json:"platform"`
	// Model, OSVersion and AppVersion are free text shown to admins.
	Model      string `json:"model,omitempty"`
	OSVersion  string `json:"os_version,omitempty"`
	AppVersion string `json:"app_version,omitempty"`
}

// Activation is what a successful activation leaves on the device. It is
// what must be persisted, next to the key, for the agent to work again
// later.
type Activation struct {
	// Origin is the origin the device talks to for pushes and its own
	// record: the activation link's origin when the gateway listed it in
	// Origins, else the first of Origins.
	Origin string `json:"origin"`
	// Origins are the gateway origins the device may act for; deep links
	// naming any other are refused.
	Origins []string `json:"origins"`
	// DeviceID is the ID the gateway registered; it is the key's.
	DeviceID string `json:"device_id"`
	// User is who the device belongs to.
	User string `json:"user"`
	// Device is what the device said about itself at activation.
	Device DeviceInfo `json:"device"`
	// PasscodeSecret is the RFC 6238 TOTP secret, base32; PasscodeDigits,
	// PasscodePeriod (seconds) and PasscodeAlgorithm its parameters
	// (default 6, 30, SHA1).
	PasscodeSecret    string `json:"passcode_secret,omitempty"`
	PasscodeDigits    int    `json:"passcode_digits,omitempty"`
	PasscodePeriod    int    `json:"passcode_period,omitempty"`
	PasscodeAlgorithm string `json:"passcode_algorithm,omitempty"`
}

// Allows reports whether the activation lets the device act for origin.
func (a Activation) Allows(origin string) bool {
	return slices.Contains(a.Origins, origin)
}

// Config is what New makes an Agent from.
type Config struct {
	// Key is the device key, ECDSA P-256. Required.
	Key *ecdsa.PrivateKey
	// Activation is a stored activation, or nil for a device not yet
	// activated.
	Activation *Activation
	// Client sends the requests. Default: a client without a timeout
	// (each request gets one from its context). Redirects are never
	// followed: a proof is bound to one URL.
	Client *http.Client
	// Now is the clock proofs and passcodes are stamped with. Default:
	// time.Now.
	Now func() time.Time
}

// Agent is a device: its key, its activation and a client to talk to the
// gateway with. It is safe for concurrent use.
type Agent struct {
	key    *ecdsa.PrivateKey
	id     string
	client *http.Client
	now    func() time.Time

	mu         sync.Mutex
	activation *Activation
}

// New returns the agent for a device key and its stored activation.
func New(c Config) (*Agent, error) {
	if c.Key == nil {
		return nil, errors.New("agent: no device key")
	}
	id, err := protocol.DeviceID(&c.Key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	a := &Agent{key: c.Key, id: id, now: c.Now}
	if a.now == nil {
		a.now = time.Now
	}
	client := &http.Client{}
	if c.Client != nil {
		copied := *c.Client
		client = &copied
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	a.client = client
	if c.Activation != nil {
		act := cloneActivation(*c.Activation)
		if act.DeviceID != id {
			return nil, fmt.Errorf("agent: the activation is for device %s, but the key's ID is %s", act.DeviceID, id)
		}
		if len(act.Origins) == 0 || !act.Allows(act.Origin) {
			return nil, fmt.Errorf("agent: the activation's origin %q is not among its origins %q", act.Origin, act.Origins)
		}
		a.activation = &act
	}
	return a, nil
}

// DeviceID returns the device ID: the RFC 7638 thumbprint of its key.
func (a *Agent) DeviceID() string { return a.id }

// Activation returns the device's activation, to persist it, and whether
// there is one.
func (a *Agent) Activation() (Activation, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.activation == nil {
		return Activation{}, false
	}
	return cloneActivation(*a.activation), true
}

func cloneActivation(act Activation) Activation {
	act.Origins = slices.Clone(act.Origins)
	return act
}

// activated returns the activation or ErrNotActivated.
func (a *Agent) activated() (Activation, error) {
	act, ok := a.Activation()
	if !ok {
		return act, ErrNotActivated
	}
	return act, nil
}

// allowedOrigin checks that the activation lets the device act for origin.
func allowedOrigin(act Activation, origin, what string) error {
	if act.Allows(origin) {
		return nil
	}
	return fmt.Errorf("%w: the %s names %s, but this device (user %s) is activated for %v only; "+
		"a link for another site may be an attempt to make this phone vouch for a login it does not belong to",
		ErrForeignOrigin, what, origin, act.User, act.Origins)
}

// Activate binds the device key to the user of the activation link's code:
// it posts an activation request proved with the embedded public key, and
// keeps what the gateway answers (user, origins, passcode secret) as the
// device's activation, replacing any earlier one. Persist it with
// Activation.
func (a *Agent) Activate(ctx context.Context, link string, info DeviceInfo) (protocol.ActivateResponse, error) {
	var resp protocol.ActivateResponse
	origin, code, err := ParseActivationLink(link)
	if err != nil {
		return resp, err
	}
	if info.Platform != "ios" && info.Platform != "android" {
		return resp, fmt.Errorf("platform %q: want ios or android", info.Platform)
	}
	req := protocol.ActivateRequest{
		Code:       code,
		Platform:   info.Platform,
		Model:      info.Model,
		OSVersion:  info.OSVersion,
		AppVersion: info.AppVersion,
	}
	if err := a.do(ctx, http.MethodPost, origin, protocol.PathActivate, "", true, req, &resp); err != nil {
		return resp, fmt.Errorf("activating with %s: %w", origin, err)
	}
	act, err := a.activationFrom(origin, info, resp)
	if err != nil {
		return resp, fmt.Errorf("activating with %s: %w", origin, err)
	}
	a.mu.Lock()
	a.activation = &act
	a.mu.Unlock()
	return resp, nil
}

// activationFrom checks the gateway's activation response and makes the
// activation to keep from it.
func (a *Agent) activationFrom(origin string, info DeviceInfo, resp protocol.ActivateResponse) (Activation, error) {
	act := Activation{DeviceID: resp.DeviceID, User: resp.User, Device: info}
	if resp.DeviceID != a.id {
		return act, fmt.Errorf("the gateway registered device ID %q, but this key's is %s", resp.DeviceID, a.id)
	}
	if resp.User == "" {
		return act, errors.New("the gateway named no user")
	}
	for _, o := range resp.Origins {
		// A configured origin with a trailing slash still names an origin.
		normal, err := parseOrigin(strings.TrimSuffix(o, "/"))
		if err != nil {
			return act, fmt.Errorf("the gateway named an invalid origin: %w", err)
		}
		if !slices.Contains(act.Origins, normal) {
			act.Origins = append(act.Origins, normal)
		}
	}
	if len(act.Origins) == 0 {
		return act, errors.New("the gateway named no origins")
	}
	act.Origin = act.Origins[0]
	if act.Allows(origin) {
		act.Origin = origin
	}
	p := resp.Passcode
	if p.Secret != "" {
		if _, err := passcodeOptions(p.Digits, p.Period, p.Algorithm); err != nil {
			return act, fmt.Errorf("passcode: %w", err)
		}
		act.PasscodeSecret, act.PasscodeDigits, act.PasscodePeriod, act.PasscodeAlgorithm = p.Secret, p.Digits, p.Period, p.Algorithm
		if _, err := a.passcode(act, a.now()); err != nil {
			return act, fmt.Errorf("passcode: %w", err)
		}
	}
	return act, nil
}

// Verify reports the device's health facts for the verification deep link
// link: it refuses a link whose origin the device was not activated for,
// then posts the link's challenge and the facts with a device proof. The
// response carries the verdict and, in state "reported", the inline push
// to answer with Answer.
func (a *Agent) Verify(ctx context.Context, link string, facts Facts) (protocol.ReportResponse, error) {
	var resp protocol.ReportResponse
	origin, tx, challenge, err := ParseVerifyLink(link)
	if err != nil {
		return resp, err
	}
	act, err := a.activated()
	if err != nil {
		return resp, err
	}
	if err := allowedOrigin(act, origin, "verification link"); err != nil {
		return resp, err
	}
	if err := facts.Validate(); err != nil {
		return resp, err
	}
	raw, err := json.Marshal(facts)
	if err != nil {
		return resp, fmt.Errorf("encoding facts: %w", err)
	}
	req := protocol.ReportRequest{Challenge: challenge, Facts: raw}
	path := protocol.PathReportPrefix + url.PathEscape(tx) + "/report"
	if err := a.do(ctx, http.MethodPost, origin, path, "", false, req, &resp); err != nil {
		return resp, fmt.Errorf("reporting for transaction %s: %w", tx, err)
	}
	return resp, nil
}

// Pushes returns the device's pending login requests, oldest first. With
// wait > 0 it long-polls: the gateway holds the request until one arrives
// or wait (at most 30s, rounded up to seconds) has passed. It may answer
// sooner with an empty list (say, while its configuration is reloaded):
// an empty list means "nothing yet", so a caller that keeps listening
// polls again at once.
func (a *Agent) Pushes(ctx context.Context, wait time.Duration) ([]protocol.Push, error) {
	act, err := a.activated()
	if err != nil {
		return nil, err
	}
	query := ""
	if wait > 0 {
		wait = min(wait, maxWait)
		seconds := int((wait + time.Second - 1) / time.Second)
		query = url.Values{"wait": {strconv.Itoa(seconds)}}.Encode()
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, requestTimeout+wait)
			defer cancel()
		}
	}
	var resp protocol.PushesResponse
	if err := a.do(ctx, http.MethodGet, act.Origin, protocol.PathPushes, query, false, nil, &resp); err != nil {
		return nil, fmt.Errorf("reading pushes: %w", err)
	}
	return resp.Pushes, nil
}

// Answer approves or denies the login request pushID. origin is the
// gateway origin to answer at ("" for the activation's); it must be one
// the device is activated for. An approved inline check's ReturnURL is
// the link to open in the phone's browser; the agent refuses one that
// points anywhere but an activated origin.
func (a *Agent) Answer(ctx context.Context, origin, pushID string, req protocol.AnswerRequest) (protocol.AnswerResponse, error) {
	var resp protocol.AnswerResponse
	act, err := a.activated()
	if err != nil {
		return resp, err
	}
	if origin == "" {
		origin = act.Origin
	}
	if err := allowedOrigin(act, origin, "answer"); err != nil {
		return resp, err
	}
	if err := checkToken("push ID", pushID, true); err != nil {
		return resp, err
	}
	switch req.Answer {
	case protocol.AnswerApprove, protocol.AnswerDeny:
	default:
		return resp, fmt.Errorf("answer %q: want %q or %q", req.Answer, protocol.AnswerApprove, protocol.AnswerDeny)
	}
	path := protocol.PathPushes + "/" + url.PathEscape(pushID)
	if err := a.do(ctx, http.MethodPost, origin, path, "", false, req, &resp); err != nil {
		return resp, fmt.Errorf("answering push %s: %w", pushID, err)
	}
	if resp.ReturnURL != "" {
		u, err := url.Parse(resp.ReturnURL)
		if err != nil || !act.Allows(originOf(u)) {
			return resp, fmt.Errorf("%w: the gateway's return link %q is not on an activated origin; not opening it", ErrForeignOrigin, resp.ReturnURL)
		}
	}
	return resp, nil
}

// Device returns the gateway's record of this device.
func (a *Agent) Device(ctx context.Context) (protocol.DeviceResponse, error) {
	var resp protocol.DeviceResponse
	act, err := a.activated()
	if err != nil {
		return resp, err
	}
	if err := a.do(ctx, http.MethodGet, act.Origin, protocol.PathDevice, "", false, nil, &resp); err != nil {
		return resp, fmt.Errorf("reading the device record: %w", err)
	}
	return resp, nil
}

// do sends one device API request to origin+path(?query) with a proof for
// it, and decodes a 2xx JSON response into out. An error response is an
// *APIError.
func (a *Agent) do(ctx context.Context, method, origin, path, query string, embedKey bool, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
	}
	u, err := url.Parse(origin + path)
	if err != nil {
		return fmt.Errorf("request URL: %w", err)
	}
	u.RawQuery = query
	proof, err := protocol.SignProof(a.key, embedKey, method, u, body, a.now())
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, requestTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", protocol.AuthScheme+" "+proof)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseSize+1))
	if err != nil {
		return fmt.Errorf("reading response: %w", err)
	}
	if len(data) > maxResponseSize {
		return fmt.Errorf("response larger than %d bytes", maxResponseSize)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return newAPIError(res.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding response (status %d): %w", res.StatusCode, err)
	}
	return nil
}
