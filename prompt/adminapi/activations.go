package adminapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/web"
)

// Limits of an admin-issued activation code's life.
const (
	DefaultActivationTTL = 10 * time.Minute
	MaxActivationTTL     = 7 * 24 * time.Hour
)

// activationRequest is the body of POST /trusted-endpoints/activations.
type activationRequest struct {
	User   string `json:"user"`
	TTL    string `json:"ttl,omitempty"`
	Origin string `json:"origin,omitempty"`
	// Application binds the device to the realm of that application's
	// sites; without it, to the realm every site shares, if they do.
	Application string `json:"application,omitempty"`
}

// issueActivation serves POST /trusted-endpoints/activations.
func (h *Handler) issueActivation(w http.ResponseWriter, r *http.Request) error {
	var req activationRequest
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	if strings.TrimSpace(req.User) == "" {
		return web.Errorf(http.StatusBadRequest, "user is required")
	}
	ttl := DefaultActivationTTL
	if req.TTL != "" {
		d, ok := ParseActivationTTL(req.TTL)
		if !ok {
			return web.Errorf(http.StatusBadRequest, "ttl: want a positive duration of at most 7 days, got %q", req.TTL)
		}
		ttl = d
	}
	origin := strings.TrimSuffix(req.Origin, "/")
	if origin != "" {
		if err := web.CheckOrigin(origin); err != nil {
			return web.Errorf(http.StatusBadRequest, "%v", err)
		}
	}
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	realm, realmID, err := gw.ActivationRealm(req.Application)
	if err != nil {
		return web.Errorf(http.StatusBadRequest, "%v", err)
	}
	now := time.Now()
	code, err := gw.IssueActivation(r.Context(), req.User, realmID, ttl, now)
	if err != nil {
		return &web.Error{Status: http.StatusServiceUnavailable, Message: err.Error(), Err: err}
	}
	h.logger.Info("activation code issued", zap.String("user", req.User), zap.Duration("ttl", ttl),
		zap.String("application", req.Application), zap.String("realm", realm))
	resp := map[string]any{
		"user":    req.User,
		"code":    code,
		"expires": now.Add(ttl).UTC().Format(time.RFC3339),
		// realm is the realm the device will be bound to; "" for none
		// (every site counts it). realm_id is what devices list.
		"realm":    realm,
		"realm_id": realmID,
	}
	if origin != "" {
		appLink, httpsLink := gw.ActivationLinks(origin, code)
		resp["links"] = map[string]string{"app": appLink, "https": httpsLink}
	}
	web.WriteJSON(w, http.StatusCreated, resp)
	return nil
}

// ParseActivationTTL reads an activation code's life as Caddy reads a
// duration (Go's units and d for days, such as 10m, 24h or 7d) and
// reports whether it is positive and at most MaxActivationTTL.
func ParseActivationTTL(s string) (time.Duration, bool) {
	d, err := parseDuration(s)
	if err != nil || d <= 0 || d > MaxActivationTTL {
		return 0, false
	}
	return d, true
}

// parseDuration is time.ParseDuration with d for days, as
// caddy.ParseDuration reads durations in the configuration.
func parseDuration(s string) (time.Duration, error) {
	if len(s) > 1024 {
		return 0, fmt.Errorf("parsing duration: input string too long")
	}
	var inNumber bool
	var numStart int
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == 'd' {
			days, err := strconv.ParseFloat(s[numStart:i], 64)
			if err != nil {
				return 0, fmt.Errorf("parsing duration %q: %w", s, err)
			}
			s = s[:numStart] + strconv.FormatFloat(days*24, 'f', -1, 64) + "h" + s[i+1:]
			i--
			continue
		}
		if !inNumber {
			numStart = i
		}
		inNumber = (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+'
	}
	return time.ParseDuration(s)
}
