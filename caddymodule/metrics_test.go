package caddymodule

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

// metricsGateway loads a gateway for application "metrics" in mode check,
// on the store at dbPath, whose handler logs go to logPath as JSON. site
// holds extra lines for the site block, to make a reload differ.
func metricsGateway(t *testing.T, up *upstream, dbPath, usersFile, logPath, site string) {
	t.Helper()
	startGateway(t, fmt.Sprintf(`{
	admin localhost:%d
	http_port %d
	https_port %d
	skip_install_trust
	persist_config off
	log authlog {
		output file %s
		format json
		include http.handlers.trusted_endpoints
	}
	trusted_endpoints {
		storage sqlite %s
	}
}

http://localhost:%d {
	trusted_endpoints {
		application metrics
		login users_file %s
		mode check
		%s
		%s
	}
	reverse_proxy %s
}
`, adminPort, httpPort, httpsPort, logPath, dbPath, httpPort, usersFile, pilotMobile, site, up.hostPort()))
}

// scrape reads the admin endpoint's /metrics and returns every
// caddy_trusted_endpoints_* sample by seriesKey; a histogram gives its
// _count and _sum.
func scrape(t *testing.T) map[string]float64 {
	t.Helper()
	resp, err := http.Get(adminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	out := make(map[string]float64)
	for name, f := range families {
		if !strings.HasPrefix(name, "caddy_trusted_endpoints_") {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName(), l.GetValue())
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[seriesKey(name, labels...)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[seriesKey(name, labels...)] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[seriesKey(name+"_count", labels...)] = float64(m.GetHistogram().GetSampleCount())
				out[seriesKey(name+"_sum", labels...)] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

// seriesKey names a series: name{k=v,...} with the labels sorted, so the
// order they are given in does not matter.
func seriesKey(name string, labelPairs ...string) string {
	var pairs []string
	for i := 0; i+1 < len(labelPairs); i += 2 {
		pairs = append(pairs, labelPairs[i]+"="+labelPairs[i+1])
	}
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// checkSeries compares the change of each series since before with want.
func checkSeries(t *testing.T, when string, before, now map[string]float64, want map[string]float64) {
	t.Helper()
	for key, w := range want {
		if _, ok := now[key]; !ok {
			t.Errorf("%s: no series %s", when, key)
			continue
		}
		if got := now[key] - before[key]; got != w {
			t.Errorf("%s: %s went up by %v, want %v", when, key, got, w)
		}
	}
}

// TestSignedInRequestsMakeNoStoreCalls: signing in and the device check
// use storage, and store_calls_total counts it; the signed-in requests
// after them, with their trust cached, make no storage call at all.
func TestSignedInRequestsMakeNoStoreCalls(t *testing.T) {
	up := newUpstream(t)
	dbPath, usersFile := storePath(t), gatetest.WriteUsersFile(t)
	metricsGateway(t, up, dbPath, usersFile, filepath.Join(t.TempDir(), "auth.log"), "")
	calls := seriesKey("caddy_trusted_endpoints_store_calls_total", "application", "metrics")
	before := scrape(t)[calls]

	dev := newDevice(t, "alice", gatetest.Android14)
	alice := newPhoneBrowser(t, gatetest.AndroidUA)
	_, ans := inlineCheck(t, dev, openPrompt(t, alice, "alice", "/r"), gatetest.Healthy(), protocol.AnswerApprove)
	if r := alice.get(ans.ReturnURL); r.status != http.StatusSeeOther {
		t.Fatalf("return link: %d %s", r.status, r.body)
	}
	signedIn := scrape(t)[calls]
	if signedIn <= before {
		t.Fatalf("store_calls_total went from %v to %v through a sign-in and device check; want it to count them", before, signedIn)
	}
	for range 50 {
		decodeUpstream(t, alice.get(gateURL+"/r"))
	}
	if after := scrape(t)[calls]; after != signedIn {
		t.Errorf("50 signed-in requests made %v storage calls, want 0", after-signedIn)
	}
}

func TestMetricsCountScriptedLoginsAndSurviveReload(t *testing.T) {
	up := newUpstream(t)
	dbPath, usersFile := storePath(t), gatetest.WriteUsersFile(t)
	logPath := filepath.Join(t.TempDir(), "auth.log")
	metricsGateway(t, up, dbPath, usersFile, logPath, "")
	before := scrape(t)

	// bob is outside the pilot group: two password logins, no device
	// check, and one wrong password.
	for range 2 {
		b := newBrowser(t)
		if loc := b.login("bob", gatetest.Users["bob"].Password, "/"); loc != "/" {
			t.Fatalf("bob's login went to %q", loc)
		}
	}
	b := newBrowser(t)
	if r := b.submitLogin(b.openLoginForm("/"), "bob", "wrong password"); r.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.status)
	}
	// alice passes an inline check on her phone, and then denies a second
	// login request; a third sign-in stops at the prompt.
	dev := newDevice(t, "alice", gatetest.Android14)
	alice := newPhoneBrowser(t, gatetest.AndroidUA)
	_, ans := inlineCheck(t, dev, openPrompt(t, alice, "alice", "/r"), gatetest.Healthy(), protocol.AnswerApprove)
	if r := alice.get(ans.ReturnURL); r.status != http.StatusSeeOther {
		t.Fatalf("return link: %d %s", r.status, r.body)
	}
	decodeUpstream(t, alice.get(gateURL+"/r")) // a trust-cache hit
	denier := newPhoneBrowser(t, gatetest.AndroidUA)
	if _, ans := inlineCheck(t, dev, openPrompt(t, denier, "alice", "/"), gatetest.Healthy(), protocol.AnswerDeny); ans.State != store.PushDenied {
		t.Fatalf("deny: %+v", ans)
	}
	openPrompt(t, newPhoneBrowser(t, gatetest.AndroidUA), "alice", "/")

	app := func(name string, labelPairs ...string) string {
		return seriesKey("caddy_trusted_endpoints_"+name, append([]string{"application", "metrics"}, labelPairs...)...)
	}
	login := func(result, reason, factor, trust string) string {
		return app("logins_total", "result", result, "reason", reason, "factor", factor, "trust_status", trust)
	}
	want := map[string]float64{
		login("success", "valid_password", "password", "unknown"):                       2,
		login("denied", "invalid_password", "password", "unknown"):                      1,
		login("success", "user_approved", "mobile_inline", "trusted"):                   1,
		login("denied", "user_cancelled", "mobile_inline", "trusted"):                   1,
		app("verification_duration_seconds_count", "result", "success"):                 1,
		app("verification_duration_seconds_count", "result", "denied"):                  1,
		app("push_outcomes_total", "outcome", "approved"):                               1,
		app("push_outcomes_total", "outcome", "denied"):                                 1,
		app("pending_verifications"):                                                    1,
		app("degraded"):                                                                 0,
		seriesKey("caddy_trusted_endpoints_trust_cache_lookups_total", "result", "hit"): 1,
	}
	first := scrape(t)
	checkSeries(t, "after the scripted logins", before, first, want)
	for key := range first {
		for _, private := range []string{"alice", "bob", "example.com", dev.DeviceID(), "127.0.0.1"} {
			if strings.Contains(key, private) {
				t.Errorf("series %s holds %q", key, private)
			}
		}
	}

	// A reload (the config differs, so Caddy really loads it) brings a new
	// registry: the counts are still there, and still go up.
	metricsGateway(t, up, dbPath, usersFile, logPath, "session_lifetime 9h")
	checkSeries(t, "after the reload", before, scrape(t), want)
	newBrowser(t).login("bob", gatetest.Users["bob"].Password, "/")
	decodeUpstream(t, alice.get(gateURL+"/r")) // trust cached before the reload
	want[login("success", "valid_password", "password", "unknown")]++
	want[seriesKey("caddy_trusted_endpoints_trust_cache_lookups_total", "result", "hit")]++
	checkSeries(t, "after a login following the reload", before, scrape(t), want)

	// Every auth-log row also went to the handler's logger, and so to the
	// configured log file.
	rows := authLog(t, "application=metrics")
	var logged []map[string]any
	deadline := time.Now().Add(5 * time.Second)
	for {
		logged = loginLogLines(t, logPath)
		if len(logged) >= len(rows) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(logged) != len(rows) || len(rows) != 6 {
		t.Fatalf("%d login log lines for %d auth-log rows, want 6 of each", len(logged), len(rows))
	}
	byID := make(map[int64]map[string]any)
	for _, l := range logged {
		if l["logger"] != "http.handlers.trusted_endpoints" || l["level"] != "info" {
			t.Errorf("log line from %v at %v", l["logger"], l["level"])
		}
		id, _ := l["id"].(float64)
		byID[int64(id)] = l
	}
	for _, row := range rows {
		l, ok := byID[row.ID]
		if !ok {
			t.Errorf("auth-log row %d (%s %s) was not logged", row.ID, row.User, row.Result)
			continue
		}
		if l["user"] != row.User || l["result"] != row.Result || l["reason"] != row.Reason ||
			l["factor"] != row.Factor || l["trust_status"] != row.TrustStatus || l["application"] != "metrics" {
			t.Errorf("row %+v logged as %v", row, l)
		}
		if row.DeviceID != "" && l["device_id"] != row.DeviceID {
			t.Errorf("row %d: device_id %v, want %s", row.ID, l["device_id"], row.DeviceID)
		}
	}
	raw, _ := os.ReadFile(logPath)
	for _, secret := range []string{gatetest.Users["bob"].Password, gatetest.Users["alice"].Password, "wrong password"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the log file holds a password")
		}
	}
}

// loginLogLines returns the log file's "login" entries, decoded.
func loginLogLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			continue // a line being written
		}
		if l["msg"] == "login" {
			out = append(out, l)
		}
	}
	return out
}
