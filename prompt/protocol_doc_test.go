package prompt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// These tests keep docs/device-api.yaml and the device API in agreement on
// the points an independent client, written from the document alone, found
// silent or wrong (issue 13, point 7).

// deviceCall sends a request signed by key to the device API of d's gate.
func (d *deviceGate) deviceCall(t *testing.T, key *ecdsa.PrivateKey, method, path string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	return d.signedCall(t, key, false, method, path, body)
}

// signedCall sends a device API request signed with key (embedding its
// public key in the proof when embed, as an activation does) and returns
// the gate's answer.
func (d *deviceGate) signedCall(t *testing.T, key *ecdsa.PrivateKey, embed bool, method, path string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	u, _ := url.Parse("http://gw.test" + path)
	proof, err := protocol.SignProof(key, embed, method, u, body, d.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(method, u.String(), bytes.NewReader(body))
	r.Header.Set("Authorization", protocol.AuthScheme+" "+proof)
	w := httptest.NewRecorder()
	if _, handled := d.gate.Authenticate(w, r); !handled {
		t.Fatal("device API request was not handled")
	}
	return w
}

// answer posts an answer to push id, signed by key.
func (d *deviceGate) answer(t *testing.T, key *ecdsa.PrivateKey, id string, req any) *httptest.ResponseRecorder {
	t.Helper()
	body, _ := json.Marshal(req)
	return d.deviceCall(t, key, http.MethodPost, protocol.PathPushes+"/"+id, body)
}

// pushList is the device's GET pushes without waiting.
func (d *deviceGate) pushList(t *testing.T, key *ecdsa.PrivateKey) []protocol.Push {
	t.Helper()
	w := d.deviceCall(t, key, http.MethodGet, protocol.PathPushes, nil)
	var resp protocol.PushesResponse
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &resp) != nil {
		t.Fatalf("GET pushes: %d %s", w.Code, w.Body)
	}
	return resp.Pushes
}

// addDevice activates another device for alice and returns its key.
func (d *deviceGate) addDevice(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id, _ := protocol.DeviceID(&key.PublicKey)
	jwk, _ := protocol.PublicJWK(&key.PublicKey)
	if err := d.store.CreateDevice(t.Context(), store.Device{ID: id, User: "alice", PublicKey: jwk, Platform: "ios", Created: d.clock.Now(), LastSeen: d.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	return key
}

// startPushLogin starts a login request with number matching for alice, as
// the prompt's "send a request" does, to each of keys' devices; it returns
// the transaction, the number the browser shows and each device's copy.
func (d *deviceGate) startPushLogin(t *testing.T, keys ...*ecdsa.PrivateKey) (*device.Transaction, string, []string) {
	t.Helper()
	ctx := t.Context()
	r := httptest.NewRequest(http.MethodGet, "http://gw.test/", nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	p := &pendingLogin{Identity: session.Identity{User: "alice"}, Factor: "password", Secret: secret.Token()}
	number := device.MatchNumber()
	ids := make([]string, len(keys))
	for i := range ids {
		ids[i] = secret.Token()
	}
	expires := d.clock.Now().Add(time.Minute)
	tx, err := d.gate.newTransaction(ctx, r, p, "/", device.KindPush, store.TransactionReported, device.Record{NumberHash: secret.Hash(number), PushExpires: expires, PushIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	for i, key := range keys {
		devID, _ := protocol.DeviceID(&key.PublicKey)
		push := protocol.Push{ID: ids[i], Application: "legacy", User: "alice", Time: d.clock.Now(), Expires: expires, NumberMatching: true}
		if err := d.gate.devices.SendPush(ctx, devID, tx.ID, push); err != nil {
			t.Fatal(err)
		}
	}
	return tx, number, ids
}

func errorOf(t *testing.T, w *httptest.ResponseRecorder) protocol.Error {
	t.Helper()
	var e protocol.Error
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q: %v", w.Body, err)
	}
	return e
}

// docText returns the description text at keys, failing when it is not a
// string.
func docText(t *testing.T, doc any, keys ...string) string {
	t.Helper()
	s, ok := docNode(t, doc, keys...).(string)
	if !ok {
		t.Fatalf("%s: %s is not text", deviceAPIDoc, strings.Join(keys, "."))
	}
	// Lines are wrapped anywhere: words are what count.
	return strings.Join(strings.Fields(s), " ")
}

// flows is the document's overview (info.description), flattened.
func flows(t *testing.T, doc any) string {
	t.Helper()
	return docText(t, doc, "info", "description")
}

// A fact the phone does not report (left out, or null) is not a malformed
// request: the server answers 200 with a verdict, and a requirement on the
// fact fails with invalid_facts. The Facts schema says so: it requires no
// property, and allows null. The test asks the server, for every
// documented fact, whether leaving it out is refused, and compares with
// the schema's required list.
func TestDeviceAPIDocFactsMatchServer(t *testing.T) {
	t.Parallel()
	doc, _ := loadDeviceAPIDoc(t)
	schema := docNode(t, doc, "components", "schemas", "Facts").(map[string]any)
	var required []string
	if r, ok := schema["required"].([]any); ok {
		for _, f := range r {
			required = append(required, f.(string))
		}
	}
	if !strings.Contains(docText(t, schema, "description"), "invalid_facts") {
		t.Error("the Facts description does not say what a fact not reported gives (invalid_facts)")
	}
	healthy := map[string]any{
		"platform": "android", "os_version": "14", "security_patch": "2026-12-05",
		"screen_lock": true, "biometrics": true, "disk_encryption": true, "tampered": false,
		"app_version": "1.0.0", "model": "Pixel 8",
	}
	properties := docNode(t, schema, "properties").(map[string]any)
	for name := range properties {
		if _, ok := healthy[name]; !ok {
			t.Fatalf("this test has no healthy value for the documented fact %s", name)
		}
	}
	require := policy.Rule{Level: policy.Require}
	d := newDeviceGate(t, policy.Requirements{
		ScreenLock: require, Biometrics: require, DiskEncryption: require, NotTampered: require,
		MinAppVersion: policy.MinAppVersion{Rule: require, Version: "1.0.0"},
	})
	// The requirement that checks each fact, when the gate above has one.
	checkedBy := map[string]policy.Kind{
		"screen_lock": policy.KindScreenLock, "biometrics": policy.KindBiometrics,
		"disk_encryption": policy.KindDiskEncryption, "tampered": policy.KindNotTampered,
		"app_version": policy.KindMinAppVersion, "platform": policy.KindPlatform,
	}
	report := func(t *testing.T, facts map[string]any) (*httptest.ResponseRecorder, protocol.ReportResponse) {
		t.Helper()
		tx, challenge := d.startInline(t)
		raw, _ := json.Marshal(facts)
		body, _ := json.Marshal(protocol.ReportRequest{Challenge: challenge, Facts: raw})
		w := d.deviceCall(t, d.key, http.MethodPost, protocol.PathReportPrefix+tx.ID+"/report", body)
		var resp protocol.ReportResponse
		if w.Code == http.StatusOK {
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
		}
		return w, resp
	}
	for name, prop := range properties {
		types := fmt.Sprint(prop.(map[string]any)["type"], prop.(map[string]any)["anyOf"])
		for _, how := range []string{"left out", "null"} {
			t.Run(name+" "+how, func(t *testing.T) {
				facts := maps(healthy)
				if how == "null" {
					facts[name] = nil
				} else {
					delete(facts, name)
				}
				w, resp := report(t, facts)
				refused := w.Code == http.StatusBadRequest
				switch {
				case how == "left out" && refused != slices.Contains(required, name):
					t.Errorf("leaving %s out: %d %s; the schema's required list is %v", name, w.Code, w.Body, required)
				case how == "null" && refused == strings.Contains(types, "null"):
					t.Errorf("%s null: %d %s; the schema allows %s", name, w.Code, w.Body, types)
				case w.Code != http.StatusOK && !refused:
					t.Fatalf("%s %s: %d %s", name, how, w.Code, w.Body)
				}
				kind, checked := checkedBy[name]
				if refused || !checked {
					return
				}
				want := policy.ReasonInvalidFacts
				if kind == policy.KindPlatform {
					want = policy.ReasonUnsupportedPlatform
				}
				if resp.Trusted || !slices.ContainsFunc(resp.Failed, func(f protocol.Finding) bool {
					return f.Requirement == string(kind) && f.Reason == string(want)
				}) {
					t.Errorf("%s %s: verdict %+v, want %s failed with %s", name, how, resp, kind, want)
				}
			})
		}
	}
	// A fact of the wrong type is a malformed request, named plainly.
	facts := maps(healthy)
	facts["screen_lock"] = "yes"
	w, _ := report(t, facts)
	if e := errorOf(t, w); w.Code != http.StatusBadRequest || e.Code != "bad_request" || !strings.Contains(e.Error, "facts.screen_lock must be true or false") {
		t.Errorf("screen_lock \"yes\": %d %+v", w.Code, e)
	}
}

func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// The inline login request of a health check is given in the answer to
// the report and nowhere else: GET pushes does not list it, also not to a
// long-poll. The document says so.
func TestDeviceAPIInlinePushIsListedAsInline(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	tx, challenge := d.startInline(t)
	w := d.report(t, tx.ID, challenge, policy.Facts{Platform: policy.Android, OSVersion: "14", AppVersion: "1.0.0"})
	var rep protocol.ReportResponse
	if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil || rep.Push == nil || !rep.Push.Inline {
		t.Fatalf("report: %d %s", w.Code, w.Body)
	}
	// An app that lost the answer to its report finds the request in its
	// list, marked inline, with the same ID.
	if pushes := d.pushList(t, d.key); len(pushes) != 1 || pushes[0].ID != rep.Push.ID || !pushes[0].Inline {
		t.Errorf("GET pushes lists %+v, want the inline request %s", pushes, rep.Push.ID)
	}
	doc, _ := loadDeviceAPIDoc(t)
	list := docText(t, doc, "paths", protocol.PathPushes, "get", "description")
	inline := docText(t, doc, "components", "schemas", "Push", "properties", "inline", "description")
	if !strings.Contains(list, "inline request of a health check") || !strings.Contains(inline, "GET /pushes lists it too") {
		t.Errorf("the document does not say GET pushes lists inline requests:\n%s\n%s", list, inline)
	}
	if w := d.answer(t, d.key, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove}); w.Code != http.StatusOK {
		t.Errorf("approving the inline request: %d %s", w.Code, w.Body)
	}
	// Answered, it is no longer listed.
	if pushes := d.pushList(t, d.key); len(pushes) != 0 {
		t.Errorf("after the answer GET pushes lists %+v", pushes)
	}
}

// The first answer to a login request withdraws its copies on the person's
// other devices: they are no longer listed, a long-poll does not return
// them, and answering one gets 409 already_answered.
func TestDeviceAPIAnswerWithdrawsTheOtherCopies(t *testing.T) {
	t.Parallel()
	for _, answer := range []string{protocol.AnswerApprove, protocol.AnswerDeny} {
		t.Run(answer, func(t *testing.T) {
			d := newDeviceGate(t, policy.Requirements{})
			phone, tablet := d.key, d.addDevice(t)
			tx, number, ids := d.startPushLogin(t, phone, tablet)
			for _, key := range []*ecdsa.PrivateKey{phone, tablet} {
				if got := d.pushList(t, key); len(got) != 1 || !slices.Contains(ids, got[0].ID) {
					t.Fatalf("before any answer, a device lists %+v, want its copy of %v", got, ids)
				}
			}
			req := protocol.AnswerRequest{Answer: answer, Number: number}
			if answer == protocol.AnswerDeny {
				req.Number = ""
			}
			if w := d.answer(t, phone, ids[0], req); w.Code != http.StatusOK {
				t.Fatalf("phone answers: %d %s", w.Code, w.Body)
			}
			if got := d.pushList(t, tablet); len(got) != 0 {
				t.Errorf("after the phone answered, the tablet still lists %+v", got)
			}
			if w := d.longPoll(t, 0); !strings.Contains(w.Body.String(), `"pushes":[]`) {
				t.Errorf("phone's poll after its answer: %s", w.Body)
			}
			w := d.answer(t, tablet, ids[1], protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: number})
			if e := errorOf(t, w); w.Code != http.StatusConflict || e.Code != "already_answered" || !strings.Contains(e.Error, "another device") {
				t.Errorf("tablet answers its withdrawn copy: %d %+v, want 409 already_answered", w.Code, e)
			}
			after, err := d.gate.loadTransaction(t.Context(), tx.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := store.TransactionApproved
			if answer == protocol.AnswerDeny {
				want = store.TransactionDenied
			}
			if after.State != want {
				t.Errorf("transaction %s, want %s: the withdrawn copy changed it", after.State, want)
			}
		})
	}
	doc, _ := loadDeviceAPIDoc(t)
	if !strings.Contains(docText(t, doc, "paths", protocol.PathPushes, "get", "description"), "withdrawn") ||
		!strings.Contains(flows(t, doc), "copies on the other devices are withdrawn") {
		t.Error("the document does not say that the first answer withdraws the other copies")
	}
	documentedCode(t, doc, "already_answered", "409")
}

// documentedCode checks that the answer endpoint documents code under
// status.
func documentedCode(t *testing.T, doc any, code, status string) {
	t.Helper()
	desc := docText(t, doc, "paths", protocol.PathPushes+"/{id}", "post", "responses", status, "description")
	if !strings.Contains(desc, "`"+code+"`") {
		t.Errorf("POST pushes/{id} %s does not document %s:\n%s", status, code, desc)
	}
}

// Approving a request twice does not give a second return link: the same
// device approving again (its first answer lost) gets the same answer,
// with the same link; a denial after the approval, or an approval once the
// login completed, gets 409 already_answered.
func TestDeviceAPIApprovingTwiceGivesTheSameAnswer(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	tx, challenge := d.startInline(t)
	var rep protocol.ReportResponse
	w := d.report(t, tx.ID, challenge, policy.Facts{Platform: policy.Android, OSVersion: "14", AppVersion: "1.0.0"})
	if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil || rep.Push == nil {
		t.Fatalf("report: %d %s", w.Code, w.Body)
	}
	approve := func() (*httptest.ResponseRecorder, protocol.AnswerResponse) {
		w := d.answer(t, d.key, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove})
		var ans protocol.AnswerResponse
		_ = json.Unmarshal(w.Body.Bytes(), &ans)
		return w, ans
	}
	w, first := approve()
	if w.Code != http.StatusOK || first.ReturnURL == "" {
		t.Fatalf("first approval: %d %s", w.Code, w.Body)
	}
	for range 2 {
		if w, again := approve(); w.Code != http.StatusOK || again != first {
			t.Errorf("approving again: %d %s, want the first answer %+v", w.Code, w.Body, first)
		}
	}
	w = d.answer(t, d.key, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerDeny})
	if e := errorOf(t, w); w.Code != http.StatusConflict || e.Code != "already_answered" {
		t.Errorf("deny after the approval: %d %s, want 409 already_answered", w.Code, w.Body)
	}
	u, err := url.Parse(first.ReturnURL)
	if err != nil {
		t.Fatal(err)
	}
	after, err := d.gate.loadTransaction(t.Context(), tx.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.State != store.TransactionApproved || after.Rec.ReturnHash != secret.Hash(u.Query().Get(protocol.ParamCode)) {
		t.Errorf("after approving again, the first return link no longer matches (state %s)", after.State)
	}
	// Once the browser used the link, the request stays answered.
	if _, err := d.store.TransitionTransaction(t.Context(), tx.ID, store.TransactionApproved, store.TransactionCompleted, "", nil, d.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if w, _ := approve(); errorOf(t, w).Code != "already_answered" {
		t.Errorf("approving a completed login: %d %s, want 409 already_answered", w.Code, w.Body)
	}
	doc, _ := loadDeviceAPIDoc(t)
	documentedCode(t, doc, "already_answered", "409")
	if ok := docText(t, doc, "paths", protocol.PathPushes+"/{id}", "post", "responses", "200", "description"); !strings.Contains(ok, "same answer") {
		t.Errorf("the answer's 200 does not say that approving again gives the same answer:\n%s", ok)
	}
}

// A reason goes only with a denial: an approval carrying one is refused
// with a plain message, and leaves the request pending.
func TestDeviceAPIApproveWithReasonIsRefused(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	_, number, ids := d.startPushLogin(t, d.key)
	for _, reason := range []string{protocol.DenyCancelled, protocol.DenyFraud, "because"} {
		w := d.answer(t, d.key, ids[0], protocol.AnswerRequest{Answer: protocol.AnswerApprove, Reason: reason, Number: number})
		if e := errorOf(t, w); w.Code != http.StatusBadRequest || e.Code != "bad_request" || !strings.Contains(e.Error, "reason goes only with deny") {
			t.Errorf("approve with reason %q: %d %+v, want 400", reason, w.Code, e)
		}
	}
	if w := d.answer(t, d.key, ids[0], protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: number}); w.Code != http.StatusOK {
		t.Errorf("approval without a reason after the refused ones: %d %s", w.Code, w.Body)
	}
	doc, _ := loadDeviceAPIDoc(t)
	if !strings.Contains(docText(t, doc, "components", "schemas", "AnswerRequest", "properties", "reason", "description"), "refused") {
		t.Error("AnswerRequest.reason does not say an approval with a reason is refused")
	}
}

// The document states how long a check and a login request live, and the
// format of the matching number, as the code has them.
func TestDeviceAPIDocLifetimesAndNumber(t *testing.T) {
	doc, _ := loadDeviceAPIDoc(t)
	text := flows(t, doc)
	life := fmt.Sprintf("%d minutes", int(session.FlowLifetime/time.Minute))
	if !strings.Contains(docText(t, doc, "paths", protocol.PathReportPrefix+"{tx}/report", "post", "description"), life) ||
		!strings.Contains(text, "check (the transaction named by `tx`) lives "+life) {
		t.Errorf("the document does not give the transaction's lifetime, %s", life)
	}
	push := fmt.Sprintf("default %d s", int(defaultPushTimeout/time.Second))
	if !strings.Contains(docText(t, doc, "components", "schemas", "Push", "properties", "expires", "description"), push) {
		t.Errorf("Push.expires does not give the default lifetime, %s", push)
	}
	number := docNode(t, doc, "components", "schemas", "AnswerRequest", "properties", "number").(map[string]any)
	pattern, _ := number["pattern"].(string)
	re, err := regexp.Compile(pattern)
	if pattern == "" || err != nil {
		t.Fatalf("AnswerRequest.number pattern %q: %v", pattern, err)
	}
	seen := map[string]bool{}
	for range 2000 {
		n := device.MatchNumber()
		seen[n] = true
		if !re.MatchString(n) {
			t.Fatalf("matchNumber gave %q, which the documented pattern %s refuses", n, pattern)
		}
	}
	if len(seen) < 80 {
		t.Errorf("matchNumber gave only %d different numbers", len(seen))
	}
	if !strings.Contains(text, "two decimal digits") {
		t.Error("the document does not describe the matching number")
	}
}

// Pushes go to the person's activated devices, which are phones and
// tablets (the platforms activation accepts); the access device may be a
// desktop. The document says so, and its Platform enum is what activation
// accepts.
func TestDeviceAPIDocPushesGoToActivatedPhones(t *testing.T) {
	doc, _ := loadDeviceAPIDoc(t)
	text := flows(t, doc)
	var documented []string
	for _, p := range docNode(t, doc, "components", "schemas", "Platform", "enum").([]any) {
		documented = append(documented, p.(string))
		if _, err := policy.ParsePlatform(p.(string)); err != nil {
			t.Errorf("documented platform %v: activation refuses it: %v", p, err)
		}
	}
	for _, other := range []string{"windows", "macos", "linux", "chromeos"} {
		if _, err := policy.ParsePlatform(other); err == nil && !slices.Contains(documented, other) {
			t.Errorf("activation accepts platform %s, which the document does not list", other)
		}
	}
	for _, s := range []string{"copy of it to every activated device", "a desktop never receives pushes"} {
		if !strings.Contains(text, s) {
			t.Errorf("the push flow does not say %q", s)
		}
	}
}

// The prompt shows an intent: link only to an Android browser and only with
// an Android app configured (app_links); the document says so.
func TestDeviceAPIDocIntentLinkNeedsAppLinks(t *testing.T) {
	t.Parallel()
	fp := strings.TrimSuffix(strings.Repeat("AB:", 32), ":")
	for _, apps := range [][]device.AndroidApp{nil, {{Package: "com.example.trustgate", Fingerprints: []string{fp}}}} {
		srv := newLinkGateway(t, apps)
		status, page := newPhone(t).signIn(srv.URL)
		if status != http.StatusOK || !strings.Contains(page, `id="open-app"`) {
			t.Fatalf("prompt: %d\n%s", status, page)
		}
		if got, want := strings.Contains(page, "intent://"), len(apps) > 0; got != want {
			t.Errorf("with %d Android apps configured, the prompt has an intent: link: %v, want %v", len(apps), got, want)
		}
	}
	doc, _ := loadDeviceAPIDoc(t)
	if notes := docText(t, doc, "x-trustgate-links", "verify", "notes"); !strings.Contains(notes, "only when it is configured with an Android app") || !strings.Contains(notes, "app_links") {
		t.Errorf("the verify link notes do not say the intent: link needs app_links:\n%s", notes)
	}
}

// newLinkGateway is a gate in mode block with alice (password pw-alice)
// and the Android apps apps, behind an httptest server.
func newLinkGateway(t *testing.T, apps []device.AndroidApp) *httptest.Server {
	t.Helper()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	codec, err := session.NewCookieCodec([]store.CookieKey{session.NewCookieKey(time.Now())}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw-alice"), bcrypt.MinCost)
	users, err := signin.ParseUsers(fmt.Appendf(nil, `{"users":[{"username":"alice","password_hash":%q}]}`, hash), ".json")
	if err != nil {
		t.Fatal(err)
	}
	cache, _ := device.NewTrustCache(100, nil)
	g, err := NewGate(Config{
		Application: "legacy", Users: users, Store: st, Cookies: codec, Logger: zap.NewNop(),
		Device: &DeviceTrust{
			Policy:      policy.Policy{Mode: policy.ModeBlock, Integration: policy.Integration{State: policy.All}},
			Cache:       cache,
			AndroidApps: apps,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, handled := g.Authenticate(w, r); !handled {
			fmt.Fprint(w, "upstream")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// internals are words that tell of the server's implementation, not of the
// API; no error message may contain one.
var internals = []string{"Go struct", "Go value", "unmarshal", "json:", "go-jose", "square/go-jose", "int64", "ProofClaims", "policy.", "protocol.", "struct field", "reflect"}

// checkPlain fails t when msg names an implementation detail.
func checkPlain(t *testing.T, what, msg string) {
	t.Helper()
	for _, s := range internals {
		if strings.Contains(msg, s) {
			t.Errorf("%s: error %q exposes %q", what, msg, s)
		}
	}
}

// Malformed bodies and proofs get plain messages that name the field and
// what it must be, never Go types or the decoder's wording.
func TestDeviceAPIErrorsInPlainWords(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	tx, _ := d.startInline(t)
	report := protocol.PathReportPrefix + tx.ID + "/report"
	bodies := []struct {
		name, path, body, want string
	}{
		{"number for a string", protocol.PathPushes + "/x", `{"answer":1}`, "field answer must be a string"},
		{"unknown field", protocol.PathPushes + "/x", `{"answer":"approve","decision":"yes"}`, `unknown field "decision"`},
		{"not JSON", protocol.PathPushes + "/x", `{"answer":`, "JSON ends too early"},
		{"syntax error", protocol.PathPushes + "/x", `{"answer" "approve"}`, "not valid JSON at byte"},
		{"array body", protocol.PathPushes + "/x", `[1]`, "the body must be an object"},
		{"empty body", protocol.PathPushes + "/x", ``, "the body is empty"},
		{"trailing data", protocol.PathPushes + "/x", `{"answer":"approve"}}`, "trailing data"},
		{"facts of the wrong type", report, `{"challenge":"c","facts":[]}`, "facts must be an object"},
		{"fact of the wrong type", report, `{"challenge":"c","facts":{"tampered":"no"}}`, "field facts.tampered must be true or false"},
		{"huge number for a string fact", report, `{"challenge":"c","facts":{"os_version":1e400}}`, "field facts.os_version must be a string"},
		{"unknown fact", report, `{"challenge":"c","facts":{"jailbroken":false}}`, `unknown field "facts.jailbroken"`},
		{"challenge of the wrong type", report, `{"challenge":1}`, "field challenge must be a string"},
	}
	for _, b := range bodies {
		t.Run(b.name, func(t *testing.T) {
			w := d.deviceCall(t, d.key, http.MethodPost, b.path, []byte(b.body))
			e := errorOf(t, w)
			if w.Code != http.StatusBadRequest || !strings.Contains(e.Error, b.want) {
				t.Errorf("%s: %d %q, want 400 saying %q", b.body, w.Code, e.Error, b.want)
			}
			checkPlain(t, b.body, e.Error)
		})
	}
	// Proofs whose claims or form are wrong.
	devID, _ := protocol.DeviceID(&d.key.PublicKey)
	u, _ := url.Parse("http://gw.test" + protocol.PathDevice)
	sign := func(payload string) string {
		opts := (&jose.SignerOptions{}).WithType(protocol.ProofType).WithHeader(jose.HeaderKey("kid"), devID)
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: d.key}, opts)
		if err != nil {
			t.Fatal(err)
		}
		jws, err := signer.Sign([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		s, _ := jws.CompactSerialize()
		return s
	}
	claims := func(iat string) string {
		return fmt.Sprintf(`{"htm":"GET","htu":%q,"iat":%s,"jti":%q,"bh":%q}`, protocol.ProofURL(u), iat, secret.Token(), protocol.BodyHash(nil))
	}
	proofs := []struct {
		name, proof, want string
	}{
		{"iat as a string", sign(claims(`"now"`)), "field iat must be a whole number of seconds"},
		{"iat with a fraction", sign(claims(fmt.Sprintf("%d.5", d.clock.Now().Unix()))), "field iat must be a whole number of seconds"},
		{"iat too large", sign(claims("1e400")), "field iat must be a whole number of seconds"},
		{"claims not JSON", sign(`not json`), "claims: not valid JSON"},
		{"claims an array", sign(`[]`), "the claims must be a JSON object"},
		{"not a JWS", "abc", "compact JWS"},
		{"two parts", "a.b", "compact JWS"},
		{"bad base64", "!!.??.**", "compact JWS"},
	}
	for _, p := range proofs {
		t.Run(p.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, u.String(), nil)
			r.Header.Set("Authorization", protocol.AuthScheme+" "+p.proof)
			w := httptest.NewRecorder()
			d.gate.Authenticate(w, r)
			e := errorOf(t, w)
			if w.Code != http.StatusUnauthorized || e.Code != "invalid_proof" || !strings.Contains(e.Error, p.want) {
				t.Errorf("%d %+v, want 401 invalid_proof saying %q", w.Code, e, p.want)
			}
			checkPlain(t, p.name, e.Error)
		})
	}
}
