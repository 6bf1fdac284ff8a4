package adminapi

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/store"
)

// AuthLogCSVHeader names the CSV columns of an auth-log export, in
// authLogCSVRow's order.
func AuthLogCSVHeader() []string {
	return []string{
		"id", "time", "user", "email", "groups", "application", "result", "reason", "factor",
		"trust_status", "mode", "would_block", "failed_requirements", "warnings", "device_id",
		"ip", "user_agent", "access_kind", "access_os", "access_os_version", "access_browser",
		"unbound", "detail", "device_facts", "integration",
	}
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
		strconv.FormatBool(e.Unbound), e.Detail, string(e.DeviceFacts), e.Integration,
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

// ExportAuthLog writes the entries matching q as CSV, newest first, in
// pages of MaxLimit, so that an export of the whole log holds one page in
// memory. With limited, it stops after q.Limit entries. An error after
// the first row cannot change the status any more: it ends the body early
// and is logged. The admin API and the dashboard both export through it.
func ExportAuthLog(w http.ResponseWriter, r *http.Request, logger *zap.Logger, st AuthLogReader, q store.AuthLogQuery, limited bool) error {
	remaining := -1 // no limit
	if limited {
		remaining = q.Limit
	}
	nextPage := func() ([]store.AuthLogEntry, error) {
		q.Limit = MaxLimit
		if remaining >= 0 {
			q.Limit = min(remaining, MaxLimit)
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
	if err := out.Write(AuthLogCSVHeader()); err != nil {
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
