package dashboard

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/adminapi"
	"github.com/trustgate/trustgate/prompt/store"
)

type authLogFilters struct {
	User, Application, Result, Reason, Factor, TrustStatus, Integration, WouldBlock, Since, Until string
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

func (v *request) authLogFilters() (authLogFilters, store.AuthLogQuery, error) {
	q := v.r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	f := authLogFilters{User: get("user"), Application: get("application"), Result: get("result"), Reason: get("reason"),
		Factor: get("factor"), TrustStatus: get("trust_status"), Integration: get("integration"), WouldBlock: get("would_block"), Since: get("since"), Until: get("until")}
	sq := store.AuthLogQuery{User: f.User, Application: f.Application, Reason: f.Reason, Factor: f.Factor}
	if f.Result != "" && !slices.Contains([]string{store.ResultSuccess, store.ResultDenied, store.ResultError}, f.Result) {
		return f, sq, fmt.Errorf("result: want success, denied or error, got %q", f.Result)
	}
	sq.Result = f.Result
	if f.TrustStatus != "" && !slices.Contains([]string{string(policy.Trusted), string(policy.NotTrusted), string(policy.Unknown)}, f.TrustStatus) {
		return f, sq, fmt.Errorf("trust status: want trusted, not trusted or unknown, got %q", f.TrustStatus)
	}
	sq.TrustStatus = f.TrustStatus
	if f.Integration != "" && f.Integration != string(policy.DecidedByMobile) && f.Integration != string(policy.DecidedByManaged) {
		return f, sq, fmt.Errorf("integration: want mobile or managed, got %q", f.Integration)
	}
	sq.Integration = f.Integration
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
		"factor": f.Factor, "trust_status": f.TrustStatus, "integration": f.Integration, "would_block": f.WouldBlock, "since": f.Since, "until": f.Until} {
		if v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// authLog serves a page of the auth log, filtered.
func (v *request) authLog() error {
	f, q, err := v.authLogFilters()
	view := authLogView{Filters: f, Results: []string{store.ResultSuccess, store.ResultDenied, store.ResultError},
		Trust:   []string{string(policy.Trusted), string(policy.NotTrusted), string(policy.Unknown)},
		Factors: []string{"password", "oidc", "mobile_inline", "push", "passcode"}}
	if err != nil {
		return v.render(http.StatusBadRequest, "authlog", pageData{Title: "Auth log", Nav: "auth-log", Error: err.Error(), View: view})
	}
	q.Limit = dashboardPageSize + 1
	entries, err := v.store().QueryAuthLog(v.r.Context(), q)
	if err != nil {
		return storeFailed("querying the auth log", err)
	}
	base := f.values()
	if len(entries) > dashboardPageSize {
		entries = entries[:dashboardPageSize]
		next := cloneValues(base)
		next.Set("cursor", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		view.Next = v.h.link("/auth-log") + "?" + next.Encode()
	}
	if q.BeforeID != 0 {
		view.First = v.h.link("/auth-log") + "?" + base.Encode()
	}
	view.Entries = entries
	view.CSV = v.h.link("/auth-log.csv") + "?" + base.Encode()
	return v.render(http.StatusOK, "authlog", pageData{Title: "Auth log", Nav: "auth-log", View: view})
}

// authLogCSV exports the filtered auth log as the admin API's CSV does,
// from the cursor on, through the same code.
func (v *request) authLogCSV() error {
	_, q, err := v.authLogFilters()
	if err != nil {
		return fail(http.StatusBadRequest, "bad_filter", err.Error())
	}
	setHeaders(v.w)
	if err := adminapi.ExportAuthLog(v.w, v.r, v.h.cfg.Logger, v.store(), q, false); err != nil {
		// Before the first row the page can still say so; after it, the
		// export has logged and ended early.
		if v.w.Header().Get("Content-Type") == "" {
			return storeFailed("exporting the auth log", err)
		}
		v.h.cfg.Logger.Error("dashboard: auth-log export failed", zap.Error(err))
	}
	return nil
}
