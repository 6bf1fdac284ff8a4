package deviceapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"testing"

	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
)

// A refusal of the device service is answered with the body devices parse
// (protocol.Error), byte for byte as protocol.Error marshals, and the
// status its code stands for.
func TestServiceRefusalIsAnsweredAsTheProtocolError(t *testing.T) {
	a := New(Config{})
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, protocol.PathActivate, nil)
	a.errors.Write(w, r, a.webError(w, &device.Error{Code: device.CodeAlreadyAnswered, Message: "the login request was already answered"}))
	want, _ := json.Marshal(protocol.Error{Error: "the login request was already answered", Code: device.CodeAlreadyAnswered})
	if w.Code != http.StatusConflict || w.Body.String() != string(want)+"\n" {
		t.Errorf("answered %d %q, want 409 %q", w.Code, w.Body, want)
	}
	if w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", w.Header().Get("Content-Type"))
	}
}

// Every code the device service declares has a status of its own, not
// the 500 an unknown code gets.
func TestEveryServiceCodeHasAStatus(t *testing.T) {
	src, err := os.ReadFile("../device/errors.go")
	if err != nil {
		t.Fatal(err)
	}
	codes := regexp.MustCompile(`\bCode[A-Za-z]+\s*=\s*"([a-z_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(codes) == 0 {
		t.Fatal("found no codes in device/errors.go")
	}
	for _, m := range codes {
		if _, ok := statusOf[m[1]]; !ok {
			t.Errorf("code %q has no status", m[1])
		}
	}
}

// A request to a site without device checks is refused before anything
// else, and an unknown endpoint gets the API's own 404.
func TestAPIWithoutServiceAndUnknownEndpoint(t *testing.T) {
	w := httptest.NewRecorder()
	New(Config{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, protocol.PathDevice, nil))
	var e protocol.Error
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != http.StatusNotFound || e.Code != device.CodeNotFound {
		t.Errorf("without a service: %d %s", w.Code, w.Body)
	}
	a := New(Config{Service: device.New(device.Config{}), ClientIP: func(*http.Request) string { return "192.0.2.1" }})
	for _, path := range []string{protocol.APIPrefix + "nothing", protocol.APIPrefix + "pushes/../device", protocol.APIPrefix + "transactions/t/x/report"} {
		w := httptest.NewRecorder()
		a.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, nil))
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != http.StatusNotFound || e.Code != device.CodeNotFound || e.Error != "no such device API endpoint" {
			t.Errorf("%s: %d %s", path, w.Code, w.Body)
		}
	}
	w = httptest.NewRecorder()
	a.ServeHTTP(w, httptest.NewRequest(http.MethodHead, protocol.PathDevice, nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != http.MethodGet {
		t.Errorf("HEAD device: %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
}
