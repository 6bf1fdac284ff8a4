package dashboard

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
)

// chartWindow is a window the overview's login chart offers.
type chartWindow struct {
	span, bucket time.Duration
	label        string
}

// chartWindowOf returns the window named name ("48h", "14d" or "30d").
func chartWindowOf(name string) (chartWindow, bool) {
	switch name {
	case "48h":
		return chartWindow{48 * time.Hour, time.Hour, "hour (UTC)"}, true
	case "14d":
		return chartWindow{14 * 24 * time.Hour, 24 * time.Hour, "day (UTC)"}, true
	case "30d":
		return chartWindow{30 * 24 * time.Hour, 24 * time.Hour, "day (UTC)"}, true
	}
	return chartWindow{}, false
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

// overview serves the overview: counts, and charts of the logins in a
// window and of the active devices.
func (v *request) overview() error {
	window := v.r.URL.Query().Get("window")
	w, ok := chartWindowOf(window)
	if !ok {
		window = "14d"
		w, _ = chartWindowOf(window)
	}
	now := time.Now().UTC()
	// Buckets end with the current one.
	end := now.Truncate(w.bucket).Add(w.bucket)
	since := end.Add(-w.span)
	entries, cutLog, err := v.scanAuthLog(store.AuthLogQuery{Since: since})
	if err != nil {
		return storeFailed("reading the auth log", err)
	}
	devices, cutDevices, err := v.scanDevices(store.DeviceQuery{})
	if err != nil {
		return storeFailed("listing devices", err)
	}
	view := overviewView{Window: window, Windows: []string{"48h", "14d", "30d"}, Devices: len(devices), Truncated: cutLog || cutDevices}
	view.Logins = loginsChart(entries, window, w, since)
	view.addDenials(entries, window)
	view.addDevices(devices)
	return v.render(http.StatusOK, "overview", pageData{Title: "Overview", Nav: "overview", View: view})
}

// loginsChart charts the logins over time, by trust status.
func loginsChart(entries []store.AuthLogEntry, window string, w chartWindow, since time.Time) svgChart {
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
	counted := 0
	for _, e := range entries {
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
	return stackedTimeChart("chart-logins", "Logins by device trust, last "+window,
		fmt.Sprintf("Stacked bars per %s: logins whose access device was trusted, not trusted or unknown. %d logins in the window.",
			strings.TrimSuffix(w.label, " (UTC)"), counted),
		w.label, "logins", buckets, series)
}

// addDenials lists the window's latest denials and charts their reasons.
func (view *overviewView) addDenials(entries []store.AuthLogEntry, window string) {
	denials := make(map[string]int)
	for _, e := range entries {
		if e.Result != store.ResultDenied {
			continue
		}
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
	denialItems := countItems(denials, false)
	if len(denialItems) > 10 {
		denialItems = denialItems[:10]
	}
	view.Denials = hbarChart("chart-denials", "Top denial reasons, last "+window,
		"Denied logins by failed requirement, or by the auth log's reason when no requirement failed. "+chartSummary(denialItems, "logins"),
		"denied logins", denialItems)
}

// addDevices counts the devices by trust and charts their platforms and
// OS versions.
func (view *overviewView) addDevices(devices []store.Device) {
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
