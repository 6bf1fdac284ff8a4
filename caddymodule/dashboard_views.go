package caddymodule

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/store"
)

// Sizes of the dashboard's pages and of the data its summaries read.
const (
	dashboardPageSize = 50
	// dashboardScanCap bounds how many devices a sorted list or the
	// overview reads, and how many auth-log entries the charts read: the
	// dashboard is for an organisation's phones, not for bulk export.
	dashboardScanCap = 20000
	scanBatch        = 1000
)

// dashboardRequest is one request to a dashboard view.
type dashboardRequest struct {
	d       *Dashboard
	w       http.ResponseWriter
	r       *http.Request
	session *prompt.Session
}

func (v *dashboardRequest) render(status int, view string, page dashboardPage) {
	v.d.render(v.w, v.session, status, view, page)
}

func (v *dashboardRequest) fail(status int, title, msg string) {
	v.d.renderError(v.w, v.session, status, title, msg)
}

func (v *dashboardRequest) notFound() {
	v.fail(http.StatusNotFound, "Not found", "There is no such page in the dashboard.")
}

func (v *dashboardRequest) methodNotAllowed() {
	v.fail(http.StatusMethodNotAllowed, "Not allowed", "This page cannot be used that way.")
}

// storeFailed shows a 503 and logs the cause.
func (v *dashboardRequest) storeFailed(what string, err error) {
	v.d.logger.Error("dashboard: "+what, zap.Error(err))
	v.fail(http.StatusServiceUnavailable, "Storage unavailable", "The gateway's storage could not be read. Try again in a moment.")
}

func (v *dashboardRequest) store() store.Store { return v.d.app.Store() }

// scanDevices reads the devices matching q, by ID, up to the scan cap,
// and reports whether the cap cut them short.
func (v *dashboardRequest) scanDevices(q store.DeviceQuery) ([]store.Device, bool, error) {
	q.Limit = scanBatch
	return scanPages(
		func() ([]store.Device, error) { return v.store().ListDevices(v.r.Context(), q) },
		func(last store.Device) { q.AfterID = last.ID })
}

// scanAuthLog reads the entries matching q, newest first, up to the scan
// cap, and reports whether the cap cut them short.
func (v *dashboardRequest) scanAuthLog(q store.AuthLogQuery) ([]store.AuthLogEntry, bool, error) {
	q.Limit = scanBatch
	return scanPages(
		func() ([]store.AuthLogEntry, error) { return v.store().QueryAuthLog(v.r.Context(), q) },
		func(last store.AuthLogEntry) { q.BeforeID = last.ID })
}

// scanPages reads pages of up to scanBatch items from next, moving past
// each page's last item with after, until a short page or the scan cap,
// and reports whether the cap cut them short.
func scanPages[T any](next func() ([]T, error), after func(last T)) ([]T, bool, error) {
	var all []T
	for {
		batch, err := next()
		if err != nil {
			return nil, false, err
		}
		all = append(all, batch...)
		if len(all) >= dashboardScanCap {
			return all[:dashboardScanCap], true, nil
		}
		if len(batch) < scanBatch {
			return all, false, nil
		}
		after(batch[len(batch)-1])
	}
}

// --- overview ---

// chartWindows are the windows the overview's login chart offers.
var chartWindows = map[string]struct {
	span, bucket time.Duration
	label        string
}{
	"48h": {48 * time.Hour, time.Hour, "hour (UTC)"},
	"14d": {14 * 24 * time.Hour, 24 * time.Hour, "day (UTC)"},
	"30d": {30 * 24 * time.Hour, 24 * time.Hour, "day (UTC)"},
}

type overviewView struct {
	Window        string
	Windows       []string
	Devices       int
	Trusted       int
	NotTrusted    int
	NeverReported int
	Platforms     []chartBarItem
	Logins        svgChart
	OSCharts      []svgChart
	Denials       svgChart
	RecentDenials []store.AuthLogEntry
	Truncated     bool
}

func (v *dashboardRequest) overview() {
	window := v.r.URL.Query().Get("window")
	if _, ok := chartWindows[window]; !ok {
		window = "14d"
	}
	w := chartWindows[window]
	now := time.Now().UTC()
	// Buckets end with the current one.
	end := now.Truncate(w.bucket).Add(w.bucket)
	since := end.Add(-w.span)
	entries, cutLog, err := v.scanAuthLog(store.AuthLogQuery{Since: since})
	if err != nil {
		v.storeFailed("reading the auth log", err)
		return
	}
	devices, cutDevices, err := v.scanDevices(store.DeviceQuery{})
	if err != nil {
		v.storeFailed("listing devices", err)
		return
	}
	view := overviewView{Window: window, Windows: []string{"48h", "14d", "30d"}, Devices: len(devices), Truncated: cutLog || cutDevices}

	// Logins over time, by trust status.
	n := int(w.span / w.bucket)
	buckets := make([]string, n)
	for i := range buckets {
		t := since.Add(time.Duration(i) * w.bucket)
		if w.bucket == time.Hour {
			buckets[i] = t.Format("Jan 2 15h")
		} else {
			buckets[i] = t.Format("Jan 2")
		}
	}
	statuses := []struct{ status, class string }{
		{string(policy.Trusted), "trusted"}, {string(policy.NotTrusted), "untrusted"}, {string(policy.Unknown), "unknown"},
	}
	series := make([]timeSeries, len(statuses))
	for i, s := range statuses {
		series[i] = timeSeries{Name: s.status, Class: s.class, Values: make([]int, n)}
	}
	denials := make(map[string]int)
	counted := 0
	for _, e := range entries {
		if e.Result == store.ResultDenied {
			if len(view.RecentDenials) < 10 {
				view.RecentDenials = append(view.RecentDenials, e)
			}
			reasons := e.FailedRequirements
			if len(reasons) == 0 {
				reasons = []string{cmp.Or(e.Reason, "(none)")}
			}
			for _, reason := range reasons {
				denials[reason]++
			}
		}
		i := int(e.Time.Sub(since) / w.bucket)
		if i < 0 || i >= n {
			continue
		}
		for j, s := range statuses {
			if e.TrustStatus == s.status {
				series[j].Values[i]++
				counted++
			}
		}
	}
	view.Logins = stackedTimeChart("chart-logins", "Logins by device trust, last "+window,
		fmt.Sprintf("Stacked bars per %s: logins whose access device was trusted, not trusted or unknown. %d logins in the window.",
			strings.TrimSuffix(w.label, " (UTC)"), counted),
		w.label, "logins", buckets, series)

	// Devices: trust and OS versions by platform.
	versions := map[string]map[string]int{}
	platforms := map[string]int{}
	for _, dev := range devices {
		switch {
		case dev.Verdict == string(policy.Trusted):
			view.Trusted++
		case dev.Verdict == "":
			view.NeverReported++
		default:
			view.NotTrusted++
		}
		platforms[platformName(dev.Platform)]++
		if versions[dev.Platform] == nil {
			versions[dev.Platform] = map[string]int{}
		}
		versions[dev.Platform][majorVersion(dev.CurrentOSVersion())]++
	}
	view.Platforms = countItems(platforms, false)
	for _, p := range slices.Sorted(maps.Keys(versions)) {
		items := countItems(versions[p], true)
		name := platformName(p)
		view.OSCharts = append(view.OSCharts, hbarChart("chart-os-"+p, name+" versions",
			fmt.Sprintf("Active %s devices by major OS version of their latest report, newest version first. %s", name, chartSummary(items, "devices")),
			"devices", items))
	}
	if len(view.OSCharts) == 0 {
		view.OSCharts = append(view.OSCharts, hbarChart("chart-os", "OS versions", "No active devices.", "devices", nil))
	}
	denialItems := countItems(denials, false)
	if len(denialItems) > 10 {
		denialItems = denialItems[:10]
	}
	view.Denials = hbarChart("chart-denials", "Top denial reasons, last "+window,
		"Denied logins by failed requirement, or by the auth log's reason when no requirement failed. "+chartSummary(denialItems, "logins"),
		"denied logins", denialItems)
	v.render(http.StatusOK, "overview", dashboardPage{Title: "Overview", Nav: "overview", View: view})
}

// majorVersion returns the first part of a version ("17" of "17.4.1"), or
// "unknown".
func majorVersion(s string) string {
	major, _, _ := strings.Cut(strings.TrimSpace(s), ".")
	if major == "" {
		return "unknown"
	}
	return major
}

func platformName(p string) string {
	switch p {
	case string(policy.IOS):
		return "iOS"
	case string(policy.Android):
		return "Android"
	}
	return cmp.Or(p, "unknown")
}

// countItems turns counts into bars: by count, most first, or, with
// byVersion, by version, newest first.
func countItems(counts map[string]int, byVersion bool) []chartBarItem {
	items := make([]chartBarItem, 0, len(counts))
	for k, n := range counts {
		items = append(items, chartBarItem{Label: k, Value: n})
	}
	slices.SortFunc(items, func(a, b chartBarItem) int {
		if byVersion {
			if c, err := policy.CompareVersions(b.Label, a.Label); err == nil {
				return c
			}
			return cmp.Compare(a.Label, b.Label)
		}
		return cmp.Or(cmp.Compare(b.Value, a.Value), cmp.Compare(a.Label, b.Label))
	})
	return items
}

// --- endpoints ---

// endpointColumns are the columns the endpoints table sorts by.
var endpointColumns = []struct{ Key, Name string }{
	{"user", "User"}, {"platform", "Platform"}, {"model", "Model"}, {"os", "OS version"},
	{"verdict", "Trust"}, {"last_seen", "Last seen"}, {"revoked", "Revoked"},
}

type endpointFilters struct {
	User, Platform, Trusted, OSOlderThan string
	IncludeRevoked                       bool
	Sort, Dir                            string
}

type endpointColumn struct {
	Key, Name, Link, Arrow string
}

type endpointsView struct {
	Filters   endpointFilters
	Columns   []endpointColumn
	Devices   []deviceRow
	Total     int
	Next      string
	First     string
	Truncated bool
}

type deviceRow struct {
	store.Device
	OS   string
	Link string
}

func (v *dashboardRequest) endpoints() {
	q := v.r.URL.Query()
	f := endpointFilters{
		User: strings.TrimSpace(q.Get("user")), Platform: q.Get("platform"), Trusted: q.Get("trusted"),
		OSOlderThan: strings.TrimSpace(q.Get("os_older_than")), IncludeRevoked: q.Get("include_revoked") != "",
		Sort: q.Get("sort"), Dir: q.Get("dir"),
	}
	if !slices.ContainsFunc(endpointColumns, func(c struct{ Key, Name string }) bool { return c.Key == f.Sort }) {
		f.Sort = "user"
	}
	if f.Dir != "desc" {
		f.Dir = "asc"
	}
	view := endpointsView{Filters: f}
	sq, err := f.query()
	if err != nil {
		v.render(http.StatusBadRequest, "endpoints", dashboardPage{Title: "Endpoints", Nav: "endpoints", Error: err.Error(), View: view})
		return
	}
	devices, cut, err := v.scanDevices(sq)
	if err != nil {
		v.storeFailed("listing devices", err)
		return
	}
	view.Truncated = cut
	view.Total = len(devices)
	sortDevices(devices, f.Sort, f.Dir == "desc")
	// The cursor is the last device shown: the next page starts after
	// it in the chosen order.
	start := 0
	if c := q.Get("cursor"); c != "" {
		if i := slices.IndexFunc(devices, func(d store.Device) bool { return d.ID == c }); i >= 0 {
			start = i + 1
		}
	}
	end := min(start+dashboardPageSize, len(devices))
	for _, dev := range devices[start:end] {
		view.Devices = append(view.Devices, deviceRow{Device: dev, OS: dev.CurrentOSVersion(), Link: v.d.link("/endpoints/" + url.PathEscape(dev.ID))})
	}
	base := f.values()
	if end < len(devices) {
		next := cloneValues(base)
		next.Set("cursor", devices[end-1].ID)
		view.Next = v.d.link("/endpoints") + "?" + next.Encode()
	}
	if start > 0 {
		view.First = v.d.link("/endpoints") + "?" + base.Encode()
	}
	for _, c := range endpointColumns {
		link := cloneValues(base)
		link.Set("sort", c.Key)
		col := endpointColumn{Key: c.Key, Name: c.Name}
		dir := "asc"
		if c.Key == f.Sort {
			col.Arrow = "▲"
			if f.Dir == "asc" {
				dir = "desc"
			} else {
				col.Arrow = "▼"
			}
		}
		link.Set("dir", dir)
		col.Link = v.d.link("/endpoints") + "?" + link.Encode()
		view.Columns = append(view.Columns, col)
	}
	v.render(http.StatusOK, "endpoints", dashboardPage{Title: "Endpoints", Nav: "endpoints", View: view})
}

// query turns the filters into a store query, or says which is wrong.
func (f endpointFilters) query() (store.DeviceQuery, error) {
	q := store.DeviceQuery{User: f.User, IncludeRevoked: f.IncludeRevoked}
	if f.Platform != "" {
		p, err := policy.ParsePlatform(f.Platform)
		if err != nil {
			return q, fmt.Errorf("platform: want ios or android, got %q", f.Platform)
		}
		q.Platform = string(p)
	}
	switch f.Trusted {
	case "":
	case "true", "false":
		b := f.Trusted == "true"
		q.Trusted = &b
	default:
		return q, fmt.Errorf("trusted: want true or false, got %q", f.Trusted)
	}
	if f.OSOlderThan != "" {
		p, version, err := parseOSOlderThan(f.OSOlderThan, q.Platform)
		if err != nil {
			return q, err
		}
		q.OSOlderThan = map[string]string{p: version}
	}
	return q, nil
}

// values are the filters as a query string, without the cursor.
func (f endpointFilters) values() url.Values {
	out := url.Values{}
	set := func(k, v string) {
		if v != "" {
			out.Set(k, v)
		}
	}
	set("user", f.User)
	set("platform", f.Platform)
	set("trusted", f.Trusted)
	set("os_older_than", f.OSOlderThan)
	if f.IncludeRevoked {
		out.Set("include_revoked", "on")
	}
	out.Set("sort", f.Sort)
	out.Set("dir", f.Dir)
	return out
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vals := range v {
		out[k] = slices.Clone(vals)
	}
	return out
}

// sortDevices orders devices by a column, then by ID, so that the order
// and the cursor are stable.
func sortDevices(devices []store.Device, column string, desc bool) {
	compare := func(a, b store.Device) int {
		switch column {
		case "platform":
			return cmp.Compare(a.Platform, b.Platform)
		case "model":
			return cmp.Compare(strings.ToLower(a.Model), strings.ToLower(b.Model))
		case "os":
			if c := cmp.Compare(a.Platform, b.Platform); c != 0 {
				return c
			}
			if c, err := policy.CompareVersions(a.CurrentOSVersion(), b.CurrentOSVersion()); err == nil {
				return c
			}
			return cmp.Compare(a.CurrentOSVersion(), b.CurrentOSVersion())
		case "verdict":
			return cmp.Compare(a.Verdict, b.Verdict)
		case "last_seen":
			return a.LastSeen.Compare(b.LastSeen)
		case "revoked":
			return a.Revoked.Compare(b.Revoked)
		}
		return cmp.Compare(strings.ToLower(a.User), strings.ToLower(b.User))
	}
	sort.SliceStable(devices, func(i, j int) bool {
		c := compare(devices[i], devices[j])
		if desc {
			c = -c
		}
		if c == 0 {
			return devices[i].ID < devices[j].ID
		}
		return c < 0
	})
}

// --- one device ---

type deviceView struct {
	Device     store.Device
	OS         string
	Facts      []factRow
	History    []historyRow
	RevokeLink string
	CSRF       string
	Back       string
}

type factRow struct{ Name, Value string }

type historyRow struct {
	At      time.Time
	Verdict string
	Facts   string
}

// loadDevice loads a device or shows why it cannot.
func (v *dashboardRequest) loadDevice(id string) (store.Device, bool) {
	dev, err := v.store().Device(v.r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		v.fail(http.StatusNotFound, "Unknown device", "There is no device with this ID. It may have been purged for inactivity.")
		return dev, false
	case err != nil:
		v.storeFailed("loading device", err)
		return dev, false
	}
	return dev, true
}

func (v *dashboardRequest) device(id string) {
	dev, ok := v.loadDevice(id)
	if !ok {
		return
	}
	history, err := v.store().DeviceHealthHistory(v.r.Context(), id, 0)
	if err != nil {
		v.storeFailed("loading health history", err)
		return
	}
	view := deviceView{Device: dev, OS: dev.CurrentOSVersion(), Facts: factRows(dev.Health),
		RevokeLink: v.d.link("/endpoints/" + url.PathEscape(id) + "/revoke"), Back: v.d.link("/endpoints")}
	for _, h := range history {
		view.History = append(view.History, historyRow{At: h.At, Verdict: h.Verdict, Facts: factSummary(h.Health)})
	}
	page := dashboardPage{Title: "Device", Nav: "endpoints", View: view}
	if v.r.URL.Query().Get("revoked") != "" && !dev.Active() {
		page.Message = "Device revoked. Every session it vouched for is checked again on its next request."
	}
	v.render(http.StatusOK, "device", page)
}

// factRows lists health facts (JSON from the device) by name.
func factRows(raw json.RawMessage) []factRow {
	var facts map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &facts) != nil {
		return nil
	}
	rows := make([]factRow, 0, len(facts))
	for _, k := range slices.Sorted(maps.Keys(facts)) {
		rows = append(rows, factRow{Name: k, Value: factValue(facts[k])})
	}
	return rows
}

func factValue(v any) string {
	switch v := v.(type) {
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case string:
		return v
	case nil:
		return "—"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// factSummary is a health report on one line.
func factSummary(raw json.RawMessage) string {
	rows := factRows(raw)
	parts := make([]string, 0, len(rows))
	for _, r := range rows {
		parts = append(parts, r.Name+"="+r.Value)
	}
	return strings.Join(parts, " ")
}

func (v *dashboardRequest) confirmRevoke(id string) {
	dev, ok := v.loadDevice(id)
	if !ok {
		return
	}
	view := deviceView{Device: dev, OS: dev.CurrentOSVersion(), CSRF: v.session.CSRF,
		RevokeLink: v.d.link("/endpoints/" + url.PathEscape(id) + "/revoke"),
		Back:       v.d.link("/endpoints/" + url.PathEscape(id))}
	v.render(http.StatusOK, "confirm", dashboardPage{Title: "Revoke this device?", Nav: "endpoints", View: view})
}

func (v *dashboardRequest) revoke(id string) {
	v.r.Body = http.MaxBytesReader(v.w, v.r.Body, 16<<10)
	if !validCSRF(v.r, v.session) {
		v.d.logger.Warn("dashboard revocation refused: missing or wrong CSRF token, or a foreign origin",
			zap.String("user", v.session.User), zap.String("device_id", id))
		v.fail(http.StatusForbidden, "Revocation refused",
			"The form did not come from this dashboard, or it has expired. Open the device again and use its Revoke button.")
		return
	}
	_, err := revokeDevice(v.r.Context(), v.d.app, v.d.logger.With(zap.String("admin", v.session.User)), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		v.fail(http.StatusNotFound, "Unknown device", "There is no device with this ID.")
		return
	case err != nil:
		v.storeFailed("revoking device", err)
		return
	}
	http.Redirect(v.w, v.r, v.d.link("/endpoints/"+url.PathEscape(id))+"?revoked=1", http.StatusSeeOther)
}

// --- auth log ---

type authLogFilters struct {
	User, Application, Result, Reason, Factor, TrustStatus, WouldBlock, Since, Until string
}

type authLogView struct {
	Filters authLogFilters
	Entries []store.AuthLogEntry
	Next    string
	First   string
	CSV     string
	Results []string
	Trust   []string
	Factors []string
}

func (v *dashboardRequest) authLogFilters() (authLogFilters, store.AuthLogQuery, error) {
	q := v.r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	f := authLogFilters{User: get("user"), Application: get("application"), Result: get("result"), Reason: get("reason"),
		Factor: get("factor"), TrustStatus: get("trust_status"), WouldBlock: get("would_block"), Since: get("since"), Until: get("until")}
	sq := store.AuthLogQuery{User: f.User, Application: f.Application, Reason: f.Reason, Factor: f.Factor}
	if f.Result != "" && !slices.Contains([]string{store.ResultSuccess, store.ResultDenied, store.ResultError}, f.Result) {
		return f, sq, fmt.Errorf("result: want success, denied or error, got %q", f.Result)
	}
	sq.Result = f.Result
	if f.TrustStatus != "" && !slices.Contains([]string{string(policy.Trusted), string(policy.NotTrusted), string(policy.Unknown)}, f.TrustStatus) {
		return f, sq, fmt.Errorf("trust status: want trusted, not trusted or unknown, got %q", f.TrustStatus)
	}
	sq.TrustStatus = f.TrustStatus
	switch f.WouldBlock {
	case "":
	case "true", "false":
		b := f.WouldBlock == "true"
		sq.WouldBlock = &b
	default:
		return f, sq, fmt.Errorf("would block: want true or false, got %q", f.WouldBlock)
	}
	var err error
	if sq.Since, err = parseDashboardTime("since", f.Since, false); err != nil {
		return f, sq, err
	}
	if sq.Until, err = parseDashboardTime("until", f.Until, true); err != nil {
		return f, sq, err
	}
	if c := q.Get("cursor"); c != "" {
		if sq.BeforeID, err = strconv.ParseInt(c, 10, 64); err != nil || sq.BeforeID < 1 {
			return f, sq, fmt.Errorf("cursor: not a page of this log: %q", c)
		}
	}
	return f, sq, nil
}

// parseDashboardTime reads a form's date (2026-05-01), date and time
// (2026-05-01T09:30, as a datetime-local field sends it) or RFC 3339 time,
// in UTC. A bare date as an upper bound means the end of that day.
func parseDashboardTime(name, s string, upper bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02T15:04", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		if upper {
			t = t.Add(24 * time.Hour)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s: want a date such as 2026-05-01 or a time such as 2026-05-01T09:30, got %q", name, s)
}

func (f authLogFilters) values() url.Values {
	out := url.Values{}
	for k, v := range map[string]string{"user": f.User, "application": f.Application, "result": f.Result, "reason": f.Reason,
		"factor": f.Factor, "trust_status": f.TrustStatus, "would_block": f.WouldBlock, "since": f.Since, "until": f.Until} {
		if v != "" {
			out.Set(k, v)
		}
	}
	return out
}

func (v *dashboardRequest) authLog() {
	f, q, err := v.authLogFilters()
	view := authLogView{Filters: f, Results: []string{store.ResultSuccess, store.ResultDenied, store.ResultError},
		Trust:   []string{string(policy.Trusted), string(policy.NotTrusted), string(policy.Unknown)},
		Factors: []string{"password", "oidc", "mobile_inline", "push", "passcode"}}
	if err != nil {
		v.render(http.StatusBadRequest, "authlog", dashboardPage{Title: "Auth log", Nav: "auth-log", Error: err.Error(), View: view})
		return
	}
	q.Limit = dashboardPageSize + 1
	entries, err := v.store().QueryAuthLog(v.r.Context(), q)
	if err != nil {
		v.storeFailed("querying the auth log", err)
		return
	}
	base := f.values()
	if len(entries) > dashboardPageSize {
		entries = entries[:dashboardPageSize]
		next := cloneValues(base)
		next.Set("cursor", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		view.Next = v.d.link("/auth-log") + "?" + next.Encode()
	}
	if q.BeforeID != 0 {
		view.First = v.d.link("/auth-log") + "?" + base.Encode()
	}
	view.Entries = entries
	view.CSV = v.d.link("/auth-log.csv") + "?" + base.Encode()
	v.render(http.StatusOK, "authlog", dashboardPage{Title: "Auth log", Nav: "auth-log", View: view})
}

// authLogCSV exports the filtered auth log as the admin API's CSV does,
// from the cursor on, through the same code.
func (v *dashboardRequest) authLogCSV() {
	_, q, err := v.authLogFilters()
	if err != nil {
		v.fail(http.StatusBadRequest, "Bad filter", err.Error())
		return
	}
	dashboardHeaders(v.w)
	if err := exportAuthLog(v.w, v.r, v.d.logger, v.store(), q, false); err != nil {
		// Before the first row the page can still say so; after it, the
		// export has logged and ended early.
		if v.w.Header().Get("Content-Type") == "" {
			v.storeFailed("exporting the auth log", err)
			return
		}
		v.d.logger.Error("dashboard: auth-log export failed", zap.Error(err))
	}
}

// --- rollout impact ---

type impactView struct {
	Since, Until, Application string
	From, To                  time.Time
	Impact                    store.RolloutImpact
	Reasons                   svgChart
}

func (v *dashboardRequest) impact() {
	q := v.r.URL.Query()
	view := impactView{Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until")), Application: strings.TrimSpace(q.Get("application"))}
	rq := store.RolloutQuery{Application: view.Application}
	var err error
	if rq.Since, err = parseDashboardTime("since", view.Since, false); err == nil {
		rq.Until, err = parseDashboardTime("until", view.Until, true)
	}
	if err == nil {
		if rq.Until.IsZero() {
			rq.Until = time.Now()
		}
		if rq.Since.IsZero() {
			rq.Since = rq.Until.Add(-defaultImpactWindow)
		}
		if !rq.Since.Before(rq.Until) {
			err = errors.New("since: must be before until")
		}
	}
	if err != nil {
		v.render(http.StatusBadRequest, "impact", dashboardPage{Title: "Rollout impact", Nav: "impact", Error: err.Error(), View: view})
		return
	}
	rq.Authorized = v.d.app.sites.authorized()
	impact, err := v.store().RolloutImpact(v.r.Context(), rq)
	if err != nil {
		v.storeFailed("summing rollout impact", err)
		return
	}
	view.From, view.To, view.Impact = rq.Since, rq.Until, impact
	items := make([]chartBarItem, 0, len(impact.ByReason))
	for _, c := range impact.ByReason {
		items = append(items, chartBarItem{Label: c.Key, Value: c.Logins})
	}
	view.Reasons = hbarChart("chart-impact", "Would-block logins by reason",
		"Logins mode check let in that mode block would have refused, by failed requirement. "+chartSummary(items, "logins"),
		"logins", items)
	v.render(http.StatusOK, "impact", dashboardPage{Title: "Rollout impact", Nav: "impact", View: view})
}
