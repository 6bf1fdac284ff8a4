package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/assertion"
	"github.com/trustgate/trustgate/prompt/gatetest"
)

// assertionAudience is the audience the test sites configure.
const assertionAudience = "https://app.internal"

// verifiedAssertion is what the verifying upstream found in a request.
type verifiedAssertion struct {
	// Values are the assertion header's values as received.
	Values []string `json:"values"`
	// Kid is the key that signed it.
	Kid string `json:"kid"`
	// Claims are the verified claims.
	Claims assertion.Claims `json:"claims"`
	// Error says why verification failed; empty when it passed.
	Error string `json:"error"`
}

// newVerifyingUpstream returns an upstream that verifies the assertion of
// every request exactly as a protected application would: it fetches the
// gateway's key set, accepts only ES256, finds the key by kid, checks the
// signature, then iss, aud and exp/nbf. It answers like the harness's
// upstream, plus what it verified under "assertion".
func newVerifyingUpstream(t *testing.T) *upstream {
	t.Helper()
	u := new(upstream)
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := verifiedAssertion{Values: r.Header.Values(assertion.DefaultHeader)}
		if len(v.Values) == 1 {
			v.Kid, v.Claims, v.Error = verifyAsUpstream(v.Values[0], gateURL, assertionAudience)
		} else {
			v.Error = fmt.Sprintf("want one assertion header, got %d", len(v.Values))
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "headers": r.Header, "assertion": v})
	}))
	t.Cleanup(u.Close)
	return u
}

// verifyAsUpstream verifies token against the key set the gateway at origin
// publishes.
func verifyAsUpstream(token, origin, audience string) (kid string, claims assertion.Claims, problem string) {
	resp, err := http.Get(origin + prompt.JWKSPath)
	if err != nil {
		return "", claims, "fetching key set: " + err.Error()
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || resp.StatusCode != http.StatusOK {
		return "", claims, fmt.Sprintf("key set: status %d, %v", resp.StatusCode, err)
	}
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return "", claims, "parsing: " + err.Error()
	}
	kid = parsed.Headers[0].KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		return kid, claims, "unknown kid " + kid
	}
	if err := parsed.Claims(keys[0].Public(), &claims); err != nil {
		return kid, claims, "signature: " + err.Error()
	}
	if err := claims.Validate(jwt.Expected{Issuer: origin, AnyAudience: jwt.Audience{audience}, Time: time.Now()}); err != nil {
		return kid, claims, "claims: " + err.Error()
	}
	return kid, claims, ""
}

// upstreamAssertion decodes what the verifying upstream found in the
// response r, failing the test unless it verified.
func upstreamAssertion(t *testing.T, r response) verifiedAssertion {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("want the upstream's 200, got %d: %s", r.status, r.body)
	}
	var out struct {
		Assertion verifiedAssertion `json:"assertion"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("response is not from the upstream: %v\n%s", err, r.body)
	}
	if out.Assertion.Error != "" {
		t.Fatalf("upstream could not verify the assertion: %s", out.Assertion.Error)
	}
	return out.Assertion
}

// assertionSettings turns the assertion on in a site's trusted_endpoints
// block.
const assertionSettings = `upstream_assertion {
			lifetime 60s
			audience ` + assertionAudience + `
		}`

// assertionGateway starts a users-file gateway with assertions in front of
// up and returns the store path.
func assertionGateway(t *testing.T, up *upstream) string {
	t.Helper()
	dbPath := storePath(t)
	startGateway(t, globalOptions(dbPath, "")+fmt.Sprintf(`
http://localhost:%d {
	trusted_endpoints {
		application legacy
		login users_file %s
		%s
	}
	reverse_proxy %s
}
`, httpPort, gatetest.WriteUsersFile(t), assertionSettings, up.hostPort()))
	return dbPath
}

// getWithSpoofedAssertion requests path with forged assertion headers in
// several spellings, as an attacker would.
func getWithSpoofedAssertion(t *testing.T, b *browser, path string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, gateURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	forged := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9."
	req.Header["X-Trustgate-Assertion"] = []string{forged}
	req.Header["X_trustgate_assertion"] = []string{forged}
	req.Header["X-TRUSTGATE-ASSERTION"] = []string{forged}
	return b.do(req)
}

func TestAssertionOfPasswordLoginIsVerifiedByUpstream(t *testing.T) {
	up := newVerifyingUpstream(t)
	assertionGateway(t, up)
	b := newBrowser(t)
	b.login("alice", gatetest.Users["alice"].Password, "/reports")

	r := getWithSpoofedAssertion(t, b, "/reports")
	got := upstreamAssertion(t, r)
	var view upstreamView
	_ = json.Unmarshal([]byte(r.body), &view)
	for name := range view.Headers {
		if strings.EqualFold(strings.ReplaceAll(name, "_", "-"), assertion.DefaultHeader) && name != assertion.DefaultHeader {
			t.Errorf("spoofed header %s reached the upstream", name)
		}
	}
	c := got.Claims
	if c.Subject != "alice" || c.Email != gatetest.Users["alice"].Email || !slices.Equal(c.Groups, gatetest.Users["alice"].Groups) {
		t.Errorf("identity claims: sub %q email %q groups %v", c.Subject, c.Email, c.Groups)
	}
	if c.Trust != "unknown" || c.Mode != "off" || c.DeviceID != "" || len(c.Failed) != 0 {
		t.Errorf("trust claims: trust %q mode %q device_id %q failed %v; want unknown, off, none, none", c.Trust, c.Mode, c.DeviceID, c.Failed)
	}
	if c.ID == "" || c.Expiry.Time().Sub(c.IssuedAt.Time()) != time.Minute || !c.NotBefore.Time().Equal(c.IssuedAt.Time()) {
		t.Errorf("jti %q, iat %v, nbf %v, exp %v: want a jti and a 60s life from iat", c.ID, c.IssuedAt.Time(), c.NotBefore.Time(), c.Expiry.Time())
	}

	// The key set is public, cacheable for a short while, and holds no
	// private key.
	resp, err := http.Get(gateURL + prompt.JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=300" || strings.Contains(string(body), `"d":`) {
		t.Errorf("key set: %d, Cache-Control %q, body %s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
}

func TestAssertionOfDeviceVerifiedLoginIsVerifiedByUpstream(t *testing.T) {
	up := newVerifyingUpstream(t)
	deviceGateway(t, up, "block", pilotMobile+"\n\t\t"+assertionSettings)
	b, dev := trustedSession(t, "/reports")

	got := upstreamAssertion(t, getWithSpoofedAssertion(t, b, "/reports"))
	c := got.Claims
	if c.Subject != "alice" || c.Trust != "trusted" || c.Mode != "block" || c.DeviceID != dev.DeviceID() || len(c.Failed) != 0 {
		t.Errorf("claims: sub %q trust %q mode %q device_id %q failed %v; want alice, trusted, block, %s, none",
			c.Subject, c.Trust, c.Mode, c.DeviceID, c.Failed, dev.DeviceID())
	}
}

// A site without upstream_assertion serves no key set, and still strips a
// forged assertion.
func TestSiteWithoutAssertionStripsForgedOne(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "")
	b := newBrowser(t)
	b.login("bob", gatetest.Users["bob"].Password, "/")
	v := decodeUpstream(t, getWithSpoofedAssertion(t, b, "/"))
	for name := range v.Headers {
		if strings.Contains(strings.ToLower(name), "assertion") {
			t.Errorf("forged %s reached the upstream", name)
		}
	}
	resp, err := http.Get(gateURL + prompt.JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET %s on a site without assertions: %d, want 404", prompt.JWKSPath, resp.StatusCode)
	}
}

// rotateSigningKey calls the admin API and returns its answer.
func rotateSigningKey(t *testing.T, body string) (kid string, activates time.Time, published []string) {
	t.Helper()
	status, out := adminPost(t, "/trusted-endpoints/signing-keys/rotate", body)
	if status != http.StatusOK {
		t.Fatalf("rotate: %d %v", status, out)
	}
	kid, _ = out["kid"].(string)
	activates, err := time.Parse(time.RFC3339, fmt.Sprint(out["activates"]))
	if kid == "" || err != nil {
		t.Fatalf("rotate answered %v", out)
	}
	for _, id := range out["published"].([]any) {
		published = append(published, id.(string))
	}
	return kid, activates, published
}

func TestRotatedSigningKeySignsAndOldTokensStillVerify(t *testing.T) {
	up := newVerifyingUpstream(t)
	dbPath := assertionGateway(t, up)
	b := newBrowser(t)
	b.login("alice", gatetest.Users["alice"].Password, "/")
	first := upstreamAssertion(t, b.get(gateURL+"/"))

	// A scheduled rotation publishes the new key at once, but the old one
	// keeps signing until every upstream can know the new one.
	next, activates, published := rotateSigningKey(t, "")
	if wait := time.Until(activates); wait < assertion.SigningKeyPropagationDelay-time.Minute {
		t.Errorf("new key activates in %s, want about %s", wait, assertion.SigningKeyPropagationDelay)
	}
	if !slices.Equal(published, []string{next, first.Kid}) {
		t.Errorf("published after rotation: %v, want [%s %s]", published, next, first.Kid)
	}
	b2 := newBrowser(t)
	b2.login("bob", gatetest.Users["bob"].Password, "/")
	if got := upstreamAssertion(t, b2.get(gateURL+"/")); got.Kid != first.Kid {
		t.Errorf("during propagation a new token was signed by %s, want %s", got.Kid, first.Kid)
	}

	// An immediate rotation (a leaked key) signs at once, even for a session
	// whose token was cached; the token signed before still verifies, as
	// the old keys stay published while their tokens may be valid.
	urgent, _, published := rotateSigningKey(t, `{"immediate": true}`)
	if !slices.Equal(published, []string{urgent, next, first.Kid}) {
		t.Errorf("published after the immediate rotation: %v", published)
	}
	if got := upstreamAssertion(t, b.get(gateURL+"/")); got.Kid != urgent {
		t.Errorf("after the immediate rotation the token was signed by %s, want %s", got.Kid, urgent)
	}
	if kid, _, problem := verifyAsUpstream(first.Values[0], gateURL, assertionAudience); problem != "" || kid != first.Kid {
		t.Errorf("the token signed before the rotations no longer verifies: %s", problem)
	}

	// Keys are kept in the store: another instance (or a restart) signs
	// with the same ones.
	keys, err := runningState(t, dbPath).Store().SigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || keys[0].ID != urgent {
		t.Errorf("stored signing keys: %d, newest %s; want 3, newest %s", len(keys), keys[0].ID, urgent)
	}
}

func TestSigningKeysRotateAutomaticallyAfterThePeriod(t *testing.T) {
	up := newVerifyingUpstream(t)
	dbPath := storePath(t)
	startGateway(t, globalOptions(dbPath, "signing_key_rotation 2d")+fmt.Sprintf(`
http://localhost:%d {
	trusted_endpoints {
		login users_file %s
		%s
	}
	reverse_proxy %s
}
`, httpPort, gatetest.WriteUsersFile(t), assertionSettings, up.hostPort()))
	state := runningState(t, dbPath)
	ctx := context.Background()
	before := state.SigningKeys().KeyIDs()

	state.MaintainSigningKeys(ctx, time.Now().Add(47*time.Hour))
	if got := state.SigningKeys().KeyIDs(); !slices.Equal(got, before) {
		t.Fatalf("rotated before the period: %v → %v", before, got)
	}
	state.MaintainSigningKeys(ctx, time.Now().Add(48*time.Hour))
	after := state.SigningKeys().KeyIDs()
	if len(after) != len(before)+1 || after[1] != before[0] {
		t.Fatalf("keys %v after the period, want one new key before %v", after, before)
	}
	// Published at once; the old key still signs until the new one is
	// known everywhere.
	if got := state.SigningKeys().PublishedKeyIDs(time.Now()); !slices.Equal(got, after) {
		t.Errorf("published %v, want %v", got, after)
	}
	b := newBrowser(t)
	b.login("alice", gatetest.Users["alice"].Password, "/")
	if got := upstreamAssertion(t, b.get(gateURL+"/")); got.Kid != before[0] {
		t.Errorf("signed by %s right after the rotation, want the old key %s", got.Kid, before[0])
	}
}

func TestUpstreamAssertionCaddyfile(t *testing.T) {
	const login = "\n\tlogin users_file /etc/users.yaml\n"
	tests := []struct {
		name    string
		input   string
		want    *UpstreamAssertion
		wantErr string
	}{
		{name: "defaults", input: "upstream_assertion", want: &UpstreamAssertion{}},
		{
			name:  "every option",
			input: "upstream_assertion {\n header X-App-Jwt\n lifetime 2m\n audience https://app.internal\n issuer https://gw.example.com\n}",
			want:  &UpstreamAssertion{Header: "X-App-Jwt", Lifetime: caddy.Duration(2 * time.Minute), Audience: "https://app.internal", Issuer: "https://gw.example.com"},
		},
		{name: "lifetime too long", input: "upstream_assertion {\n lifetime 2h\n}", wantErr: "at most 1h"},
		{name: "bad header", input: "upstream_assertion {\n header X:Bad\n}", wantErr: "invalid header name"},
		{name: "unknown option", input: "upstream_assertion {\n algorithm RS256\n}", wantErr: "unknown upstream_assertion option"},
		{name: "argument", input: "upstream_assertion on", wantErr: "wrong argument count"},
		{name: "twice", input: "upstream_assertion\n upstream_assertion", wantErr: "already specified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("trusted_endpoints {" + login + tt.input + "\n}"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *h.UpstreamAssertion != *tt.want {
				t.Errorf("got %+v, want %+v", *h.UpstreamAssertion, *tt.want)
			}
		})
	}
}

func TestSigningKeyRotationGlobalOption(t *testing.T) {
	tests := []struct {
		input   string
		want    caddy.Duration
		wantErr bool
	}{
		{input: "signing_key_rotation 7d", want: caddy.Duration(7 * 24 * time.Hour)},
		{input: "signing_key_rotation off", want: -1},
		{input: "signing_key_rotation 5m", wantErr: true},
		{input: "signing_key_rotation", wantErr: true},
		{input: "signing_key_rotation 7d\n signing_key_rotation 8d", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			out, err := parseGlobalOption(caddyfile.NewTestDispenser("trusted_endpoints {\n"+tt.input+"\n}"), nil)
			if tt.wantErr {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var app App
			if err := json.Unmarshal(out.(httpcaddyfile.App).Value, &app); err != nil {
				t.Fatal(err)
			}
			if app.SigningKeyRotation != tt.want {
				t.Errorf("signing_key_rotation = %v, want %v", app.SigningKeyRotation, tt.want)
			}
		})
	}
}
