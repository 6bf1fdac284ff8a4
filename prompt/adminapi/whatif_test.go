package adminapi

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// managedGateway answers the what-if of one application whose managed
// integration decides for desktops, over a real SQLite store and an
// active inventory of two desktops.
type managedGateway struct {
	Gateway
	st    *sqlitestore.Store
	match policy.Match
	index *inventory.Index
}

func (g *managedGateway) Store() Store                            { return g.st }
func (g *managedGateway) Applications() []string                  { return []string{"crm"} }
func (g *managedGateway) AccessRules(string) *policy.Access       { return nil }
func (g *managedGateway) CountsDevice(string, *store.Device) bool { return true }
func (g *managedGateway) ActiveInventory() *inventory.Index       { return g.index }

func (g *managedGateway) Policy(application string) (policy.Policy, bool) {
	return policy.Policy{Mode: policy.ModeBlock, Managed: policy.Managed{State: policy.All, Match: g.match}}, application == "crm"
}

// TestWhatIfWithADeviceCertificateAsksTheActiveInventory: the request's
// device_certificate, by the site's match kind and in any written form,
// is looked up in the active inventory, so the answer is trusted for a
// listed desktop and names its entry; an unlisted one is denied with
// no_device_certificate.
func TestWhatIfWithADeviceCertificateAsksTheActiveInventory(t *testing.T) {
	t.Parallel()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "trustgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	entries, err := inventory.Parse(strings.NewReader("fingerprint,serial,platform,label\n"+fingerprintA+",0a01,windows,laptop-a\n"+fingerprintB+",0b02,macos,mac-b\n"), inventory.FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	index := inventory.NewIndex(store.Inventory{ID: "inv-7", State: store.InventoryActive}, entries)
	for _, tt := range []struct {
		name        string
		match       policy.Match
		certificate string
		platform    string
		outcome     string
		label       string
		reason      string
	}{
		{"listed fingerprint", policy.MatchFingerprint, strings.ToUpper(fingerprintA), "windows", "allow", "laptop-a", ""},
		{"listed fingerprint, its own platform", policy.MatchFingerprint, fingerprintB, "", "allow", "mac-b", ""},
		{"listed serial under match serial", policy.MatchSerial, "00:0B:02", "macos", "allow", "mac-b", ""},
		{"fingerprint under match serial", policy.MatchSerial, fingerprintA, "windows", "deny", "", "no_device_certificate"},
		{"unlisted fingerprint", policy.MatchFingerprint, strings.Repeat("cd", 32), "windows", "deny", "", "no_device_certificate"},
		{"no certificate", policy.MatchFingerprint, "", "linux", "deny", "", "no_device_certificate"},
	} {
		gw := &managedGateway{st: st, match: tt.match, index: index}
		h := New(func() (Gateway, error) { return gw, nil }, zap.NewNop())
		body := `{"user":"alice","groups":[],"email":"","application":"crm","access_platform":"` + tt.platform + `","device_certificate":"` + tt.certificate + `"}`
		var answer WhatIfAnswer
		if status := call(t, h, "POST", "/trusted-endpoints/what-if", "application/json", body, &answer); status != http.StatusOK {
			t.Fatalf("%s: %d %+v", tt.name, status, answer)
		}
		if answer.Outcome != tt.outcome || answer.Integration != policy.DecidedByManaged || !strings.Contains(strings.Join(answer.Reasons, ","), tt.reason) {
			t.Errorf("%s: %s %s %s %v, want %s by managed (%s)", tt.name, answer.Outcome, answer.Status, answer.Integration, answer.Reasons, tt.outcome, tt.reason)
		}
		switch {
		case tt.label == "" && answer.ManagedDevice != nil:
			t.Errorf("%s: names entry %+v", tt.name, answer.ManagedDevice)
		case tt.label != "" && (answer.ManagedDevice == nil || answer.ManagedDevice.Label != tt.label || answer.Inventory != "inv-7"):
			t.Errorf("%s: entry %+v of %q, want %s of inv-7", tt.name, answer.ManagedDevice, answer.Inventory, tt.label)
		}
	}
}
