package dashboard

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/adminapi"
	"github.com/trustgate/trustgate/prompt/store"
)

// endpointColumns are the columns the endpoints table sorts by.
func endpointColumns() []struct{ Key, Name string } {
	return []struct{ Key, Name string }{
		{"user", "User"}, {"platform", "Platform"}, {"model", "Model"}, {"os", "OS version"},
		{"verdict", "Trust"}, {"last_seen", "Last seen"}, {"revoked", "Revoked"},
	}
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
	// Managed are the active inventory's managed devices, nil while none
	// is active.
	Managed *managedView
}

type deviceRow struct {
	store.Device
	OS   string
	Link string
}

// endpoints serves the devices: filtered, sorted, a page at a time.
func (v *request) endpoints() error {
	q := v.r.URL.Query()
	f := endpointFilters{
		User: strings.TrimSpace(q.Get("user")), Platform: q.Get("platform"), Trusted: q.Get("trusted"),
		OSOlderThan: strings.TrimSpace(q.Get("os_older_than")), IncludeRevoked: q.Get("include_revoked") != "",
		Sort: q.Get("sort"), Dir: q.Get("dir"),
	}
	if !slices.ContainsFunc(endpointColumns(), func(c struct{ Key, Name string }) bool { return c.Key == f.Sort }) {
		f.Sort = "user"
	}
	if f.Dir != "desc" {
		f.Dir = "asc"
	}
	view := endpointsView{Filters: f}
	sq, err := f.query()
	if err != nil {
		return v.render(http.StatusBadRequest, "endpoints", pageData{Title: "Endpoints", Nav: "endpoints", Error: err.Error(), View: view})
	}
	devices, cut, err := v.scanDevices(sq)
	if err != nil {
		return storeFailed("listing devices", err)
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
		view.Devices = append(view.Devices, deviceRow{Device: dev, OS: dev.CurrentOSVersion(), Link: v.h.link("/endpoints/" + url.PathEscape(dev.ID))})
	}
	base := f.values()
	if end < len(devices) {
		next := cloneValues(base)
		next.Set("cursor", devices[end-1].ID)
		view.Next = v.h.link("/endpoints") + "?" + next.Encode()
	}
	if start > 0 {
		view.First = v.h.link("/endpoints") + "?" + base.Encode()
	}
	for _, c := range endpointColumns() {
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
		col.Link = v.h.link("/endpoints") + "?" + link.Encode()
		view.Columns = append(view.Columns, col)
	}
	offset, _ := strconv.Atoi(q.Get("managed_offset"))
	if view.Managed, err = v.managedDevices(max(offset, 0)); err != nil {
		return err
	}
	return v.render(http.StatusOK, "endpoints", pageData{Title: "Endpoints", Nav: "endpoints", View: view})
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
		p, version, err := adminapi.ParseOSOlderThan(f.OSOlderThan, q.Platform)
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
