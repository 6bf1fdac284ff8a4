package caddymodule

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
)

// authLogPage is the JSON answer of GET /trusted-endpoints/auth-log.
type authLogPage struct {
	// Entries are the matching entries, newest first.
	Entries []store.AuthLogEntry `json:"entries"`
	// NextCursor, when set, fetches the next (older) page as ?cursor=;
	// absent on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// handleAuthLog serves GET /trusted-endpoints/auth-log: a page of entries
// as JSON, or, with format=csv or Accept: text/csv, every matching entry
// (up to limit, when given) as CSV.
func (a *AdminAPI) handleAuthLog(w http.ResponseWriter, r *http.Request) error {
	if err := allowMethod(w, r, http.MethodGet); err != nil {
		return err
	}
	q, format, limited, err := parseAuthLogQuery(r)
	if err != nil {
		return err
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	if format == "csv" {
		return exportAuthLog(w, r, a.logger, app.Store(), q, limited)
	}
	limit := q.Limit
	q.Limit++ // one more tells whether there is a next page
	entries, err := app.Store().QueryAuthLog(r.Context(), q)
	if err != nil {
		return unavailable("querying auth log", err)
	}
	page := authLogPage{Entries: entries}
	if len(entries) > limit {
		page.Entries = entries[:limit]
		page.NextCursor = strconv.FormatInt(page.Entries[limit-1].ID, 10)
	}
	if page.Entries == nil {
		page.Entries = []store.AuthLogEntry{}
	}
	return writeJSON(w, http.StatusOK, page)
}

// parseAuthLogQuery reads the filters of GET /trusted-endpoints/auth-log,
// the answer's format (json or csv), and whether a limit was given.
func parseAuthLogQuery(r *http.Request) (q store.AuthLogQuery, format string, limited bool, err error) {
	v, err := readQuery(r, "user", "application", "result", "reason", "factor", "trust_status",
		"would_block", "since", "until", "cursor", "before", "limit", "format")
	if err != nil {
		return q, "", false, err
	}
	q = store.AuthLogQuery{
		User:        v.get("user"),
		Application: v.get("application"),
		Reason:      v.get("reason"),
		Factor:      v.get("factor"),
	}
	if q.Result, err = v.oneOf("result", store.ResultSuccess, store.ResultDenied, store.ResultError); err != nil {
		return q, "", false, err
	}
	if q.TrustStatus, err = v.oneOf("trust_status", string(policy.Trusted), string(policy.NotTrusted), string(policy.Unknown)); err != nil {
		return q, "", false, err
	}
	if q.WouldBlock, err = v.bool("would_block"); err != nil {
		return q, "", false, err
	}
	if q.Since, err = v.time("since"); err != nil {
		return q, "", false, err
	}
	if q.Until, err = v.time("until"); err != nil {
		return q, "", false, err
	}
	// before is the older name of cursor.
	for _, name := range []string{"cursor", "before"} {
		if s := v.get(name); s != "" {
			if q.BeforeID, err = strconv.ParseInt(s, 10, 64); err != nil || q.BeforeID < 1 {
				return q, "", false, badRequest(name, "want the next_cursor of the previous page, got %q", s)
			}
		}
	}
	limited = v.get("limit") != ""
	if q.Limit, err = v.limit("limit", defaultLimit); err != nil {
		return q, "", false, err
	}
	if format, err = v.oneOf("format", "json", "csv"); err != nil {
		return q, "", false, err
	}
	if format == "" {
		format = "json"
		if accept := r.Header.Get("Accept"); strings.Contains(accept, "text/csv") && !strings.Contains(accept, "application/json") {
			format = "csv"
		}
	}
	return q, format, limited, nil
}

// authLogCSVHeader names the CSV columns, in authLogCSVRow's order.
var authLogCSVHeader = []string{
	"id", "time", "user", "email", "groups", "application", "result", "reason", "factor",
	"trust_status", "mode", "would_block", "failed_requirements", "warnings", "device_id",
	"ip", "user_agent", "access_kind", "access_os", "access_os_version", "access_browser",
	"unbound", "detail", "device_facts",
}

// authLogCSVRow is one entry as CSV cells. Lists are joined with spaces,
// which no group name or reason code in them needs.
func authLogCSVRow(e store.AuthLogEntry) []string {
	row := []string{
		strconv.FormatInt(e.ID, 10), e.Time.UTC().Format(time.RFC3339Nano), e.User, e.Email,
		strings.Join(e.Groups, " "), e.Application, e.Result, e.Reason, e.Factor,
		e.TrustStatus, e.Mode, strconv.FormatBool(e.WouldBlock), strings.Join(e.FailedRequirements, " "),
		strings.Join(e.Warnings, " "), e.DeviceID, e.IP, e.UserAgent, e.AccessDevice.Kind,
		e.AccessDevice.OS, e.AccessDevice.OSVersion, e.AccessDevice.Browser,
		strconv.FormatBool(e.Unbound), e.Detail, string(e.DeviceFacts),
	}
	for i, cell := range row {
		row[i] = neutralizeFormula(cell)
	}
	return row
}

// neutralizeFormula keeps a spreadsheet from running a cell as a formula
// (CSV injection): user names, user agents and device facts come from
// people and devices, and a cell starting with = + - @, a tab or a carriage
// return may be read as one. A leading single quote makes it text, as
// OWASP recommends.
func neutralizeFormula(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}

// exportAuthLog writes the entries matching q as CSV, newest first, in
// pages of maxLimit, so that an export of the whole log holds one page in
// memory. With limited, it stops after q.Limit entries. An error after
// the first row cannot change the status any more: it ends the body early
// and is logged.
// The admin API and the dashboard both use it.
func exportAuthLog(w http.ResponseWriter, r *http.Request, logger *zap.Logger, st store.Store, q store.AuthLogQuery, limited bool) error {
	remaining := -1 // no limit
	if limited {
		remaining = q.Limit
	}
	nextPage := func() ([]store.AuthLogEntry, error) {
		q.Limit = maxLimit
		if remaining >= 0 {
			q.Limit = min(remaining, maxLimit)
		}
		return st.QueryAuthLog(r.Context(), q)
	}
	entries, err := nextPage()
	if err != nil {
		return unavailable("querying auth log", err)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="auth-log.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	out := csv.NewWriter(w)
	if err := out.Write(authLogCSVHeader); err != nil {
		return err
	}
	for {
		for _, e := range entries {
			if err := out.Write(authLogCSVRow(e)); err != nil {
				return err
			}
		}
		if remaining >= 0 {
			remaining -= len(entries)
		}
		if len(entries) < q.Limit || remaining == 0 {
			break
		}
		q.BeforeID = entries[len(entries)-1].ID
		if entries, err = nextPage(); err != nil {
			logger.Error("auth-log export ended early", zap.Error(err))
			break
		}
	}
	out.Flush()
	return out.Error()
}
