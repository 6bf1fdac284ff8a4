package deviceapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/protocol"
)

// FuzzDecodeDeviceRequest feeds arbitrary bodies to the device API's strict
// JSON decoder for each request type a device sends (activation, health
// report, push answer). A body is either refused with a 400 whose JSON body
// says why in plain words (no Go types nor decoder wording: internals), or
// it is exactly one valid JSON object whose fields all belong to the type.
func FuzzDecodeDeviceRequest(f *testing.F) {
	for _, s := range []string{
		`{"transaction":"t1","challenge":"c","facts":{"platform":"ios","os_version":"17.4","screen_lock":true}}`,
		`{"code":"ABCD-EFGH","platform":"android","model":"<b>x</b>"}`,
		`{"decision":"approve","number":42}`,
		`{}`, `{"transaction":"t"}]`, `{"a":1}`, `[]`, `{"facts":{"os_version":1e400}}`, "{\"x\":\"\xff\"}",
		`{"transaction":"t"} {"transaction":"u"}`, `null`, ``, `{`,
		`{"answer":1}`, `{"code":{}}`, `{"challenge":[1]}`, `{"number":true}`, `"x"`, `[{"a":1}]`,
	} {
		for kind := range uint8(3) {
			f.Add(kind, []byte(s))
		}
	}
	a := New(Config{})
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		var dst any
		switch kind % 3 {
		case 0:
			dst = new(protocol.ActivateRequest)
		case 1:
			dst = new(protocol.ReportRequest)
		default:
			dst = new(protocol.AnswerRequest)
		}
		w := httptest.NewRecorder()
		err := decodeStrict(body, dst)
		if err == nil {
			if !json.Valid(body) {
				t.Fatalf("accepted %q, which is not one valid JSON value", body)
			}
			if w.Body.Len() != 0 {
				t.Fatalf("accepted %q but wrote a response", body)
			}
			return
		}
		a.errors.Write(w, httptest.NewRequest(http.MethodPost, protocol.PathActivate, nil), a.webError(w, err))
		if w.Code != http.StatusBadRequest {
			t.Fatalf("refused %q with status %d, want 400", body, w.Code)
		}
		var e protocol.Error
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" || e.Code != "bad_request" {
			t.Fatalf("refusal of %q has body %q, want a JSON error naming the problem", body, w.Body.String())
		}
		for _, s := range internals {
			if strings.Contains(e.Error, s) {
				t.Fatalf("refusal of %q says %q, which exposes %q", body, e.Error, s)
			}
		}
	})
}

// internals are words of Go's and the libraries' internals that no answer
// to a device may show (as in prompt's protocol_doc_test.go).
var internals = []string{"Go struct", "Go value", "unmarshal", "json:", "go-jose", "square/go-jose", "int64", "ProofClaims", "policy.", "protocol.", "struct field", "reflect"}
