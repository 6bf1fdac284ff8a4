package dashboard

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/trustgate/trustgate/prompt/adminapi"
	"github.com/trustgate/trustgate/prompt/store"
)

type impactView struct {
	Since, Until, Application string
	From, To                  time.Time
	Impact                    store.RolloutImpact
	Reasons                   svgChart
}

// impact serves what mode block would have refused, from the logins
// mode check marked would_block.
func (v *request) impact() error {
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
			rq.Since = rq.Until.Add(-adminapi.DefaultImpactWindow)
		}
		if !rq.Since.Before(rq.Until) {
			err = errors.New("since: must be before until")
		}
	}
	if err != nil {
		return v.render(http.StatusBadRequest, "impact", pageData{Title: "Rollout impact", Nav: "impact", Error: err.Error(), View: view})
	}
	rq.Authorized = v.h.cfg.Gateway.Authorized()
	impact, err := v.store().RolloutImpact(v.r.Context(), rq)
	if err != nil {
		return storeFailed("summing rollout impact", err)
	}
	view.From, view.To, view.Impact = rq.Since, rq.Until, impact
	items := make([]chartBarItem, 0, len(impact.ByReason))
	for _, c := range impact.ByReason {
		items = append(items, chartBarItem{Label: c.Key, Value: c.Logins})
	}
	view.Reasons = hbarChart("chart-impact", "Would-block logins by reason",
		"Logins mode check let in that mode block would have refused, by failed requirement. "+chartSummary(items, "logins"),
		"logins", items)
	return v.render(http.StatusOK, "impact", pageData{Title: "Rollout impact", Nav: "impact", View: view})
}
