package adminapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// authLogPage is the JSON answer of GET /trusted-endpoints/auth-log.
type authLogPage struct {
	// Entries are the matching entries, newest first.
	Entries []store.AuthLogEntry `json:"entries"`
	// NextCursor, when set, fetches the next (older) page as ?cursor=;
	// absent on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// authLog serves GET /trusted-endpoints/auth-log: a page of entries as
// JSON, or, with format=csv or Accept: text/csv, every matching entry (up
// to limit, when given) as CSV.
func (h *Handler) authLog(w http.ResponseWriter, r *http.Request) error {
	q, format, limited, err := parseAuthLogQuery(r)
	if err != nil {
		return err
	}
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	if format == "csv" {
		return ExportAuthLog(w, r, h.logger, gw.Store(), q, limited)
	}
	limit := q.Limit
	q.Limit++ // one more tells whether there is a next page
	entries, err := gw.Store().QueryAuthLog(r.Context(), q)
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
	web.WriteJSON(w, http.StatusOK, page)
	return nil
}

// parseAuthLogQuery reads the filters of GET /trusted-endpoints/auth-log,
// the answer's format (json or csv), and whether a limit was given.
func parseAuthLogQuery(r *http.Request) (q store.AuthLogQuery, format string, limited bool, err error) {
	v, err := readQuery(r, "user", "application", "result", "reason", "factor", "trust_status",
		"integration", "would_block", "since", "until", "cursor", "before", "limit", "format")
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
	if q.Integration, err = v.oneOf("integration", string(policy.DecidedByMobile), string(policy.DecidedByManaged)); err != nil {
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
