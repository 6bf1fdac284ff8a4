package adminapi

import (
	"net/http"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// DefaultImpactWindow is how far back the rollout impact looks without
// since.
const DefaultImpactWindow = 7 * 24 * time.Hour

// RolloutImpactAnswer is the answer of GET /trusted-endpoints/rollout-impact.
type RolloutImpactAnswer struct {
	// Since and Until are the window the counts cover.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Application is the application filter, if any.
	Application string `json:"application,omitempty"`
	store.RolloutImpact
}

// rolloutImpact serves GET /trusted-endpoints/rollout-impact: from the
// logins that mode check marked would_block, how many logins and users
// mode block would have refused, by reason, group, platform and
// application. The logins of people whom their application's access rules
// now refuse are counted apart, as not_authorized.
func (h *Handler) rolloutImpact(w http.ResponseWriter, r *http.Request) error {
	v, err := readQuery(r, "since", "until", "application")
	if err != nil {
		return err
	}
	q := store.RolloutQuery{Application: v.get("application")}
	if q.Since, err = v.time("since"); err != nil {
		return err
	}
	if q.Until, err = v.time("until"); err != nil {
		return err
	}
	if q.Until.IsZero() {
		q.Until = time.Now()
	}
	if q.Since.IsZero() {
		q.Since = q.Until.Add(-DefaultImpactWindow)
	}
	if !q.Since.Before(q.Until) {
		return badRequest("since", "%s is not before until (%s)", q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339))
	}
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	q.Authorized = gw.Authorized()
	impact, err := gw.Store().RolloutImpact(r.Context(), q)
	if err != nil {
		return unavailable("summing rollout impact", err)
	}
	web.WriteJSON(w, http.StatusOK, RolloutImpactAnswer{
		Since: q.Since.UTC(), Until: q.Until.UTC(), Application: q.Application, RolloutImpact: impact,
	})
	return nil
}
