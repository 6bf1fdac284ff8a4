package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
)

// devicesPage is the answer of GET /trusted-endpoints/devices.
type devicesPage struct {
	// Devices are the matching devices, by ID.
	Devices []store.Device `json:"devices"`
	// NextCursor, when set, fetches the next page as ?cursor=; absent on
	// the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// handleListDevices serves GET /trusted-endpoints/devices.
func (a *AdminAPI) handleListDevices(w http.ResponseWriter, r *http.Request) error {
	if err := allowMethod(w, r, http.MethodGet); err != nil {
		return err
	}
	q, err := parseDeviceQuery(r)
	if err != nil {
		return err
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	limit := q.Limit
	q.Limit++ // one more tells whether there is a next page
	devices, err := app.Store().ListDevices(r.Context(), q)
	if err != nil {
		return unavailable("listing devices", err)
	}
	page := devicesPage{Devices: devices}
	if len(devices) > limit {
		page.Devices = devices[:limit]
		page.NextCursor = page.Devices[limit-1].ID
	}
	if page.Devices == nil {
		page.Devices = []store.Device{}
	}
	return writeJSON(w, http.StatusOK, page)
}

// parseDeviceQuery reads the filters of GET /trusted-endpoints/devices.
func parseDeviceQuery(r *http.Request) (store.DeviceQuery, error) {
	v, err := readQuery(r, "user", "platform", "trusted", "os_older_than",
		"seen_before", "seen_after", "include_revoked", "cursor", "limit")
	if err != nil {
		return store.DeviceQuery{}, err
	}
	q := store.DeviceQuery{User: v.get("user"), AfterID: v.get("cursor")}
	if p := v.get("platform"); p != "" {
		platform, err := policy.ParsePlatform(p)
		if err != nil {
			return q, badRequest("platform", "want ios or android, got %q", p)
		}
		q.Platform = string(platform)
	}
	if q.Trusted, err = v.bool("trusted"); err != nil {
		return q, err
	}
	if q.SeenBefore, err = v.time("seen_before"); err != nil {
		return q, err
	}
	if q.SeenAfter, err = v.time("seen_after"); err != nil {
		return q, err
	}
	includeRevoked, err := v.bool("include_revoked")
	if err != nil {
		return q, err
	}
	q.IncludeRevoked = includeRevoked != nil && *includeRevoked
	if q.Limit, err = v.limit("limit", defaultLimit); err != nil {
		return q, err
	}
	for _, s := range v.values["os_older_than"] {
		platform, version, err := parseOSOlderThan(s, q.Platform)
		if err != nil {
			return q, err
		}
		if q.OSOlderThan == nil {
			q.OSOlderThan = make(map[string]string)
		}
		q.OSOlderThan[platform] = version
	}
	return q, nil
}

// parseOSOlderThan reads one os_older_than value: "ios:17.4" or, with the
// platform filter set, a bare version. Versions only compare within a
// platform.
func parseOSOlderThan(s, platformFilter string) (platform, version string, err error) {
	p, version, ok := strings.Cut(s, ":")
	if !ok {
		if platformFilter == "" {
			return "", "", badRequest("os_older_than", "%q names no platform: want PLATFORM:VERSION (ios:17.4), or set platform", s)
		}
		p, version = platformFilter, s
	}
	parsed, err := policy.ParsePlatform(p)
	if err != nil {
		return "", "", badRequest("os_older_than", "unknown platform in %q (want ios or android)", s)
	}
	if _, err := policy.ParseVersion(version); err != nil {
		return "", "", badRequest("os_older_than", "%q is not a version: %v", version, err)
	}
	return string(parsed), version, nil
}

// deviceDetail is the answer of GET /trusted-endpoints/devices/{id}.
type deviceDetail struct {
	Device store.Device `json:"device"`
	// HealthHistory are the device's health reports, newest first.
	HealthHistory []store.HealthRecord `json:"health_history"`
}

// handleDevice serves GET /trusted-endpoints/devices/{id} and
// POST /trusted-endpoints/devices/{id}/revoke.
func (a *AdminAPI) handleDevice(w http.ResponseWriter, r *http.Request) error {
	id, action, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/trusted-endpoints/devices/"), "/")
	switch {
	case id != "" && action == "":
		return a.handleShowDevice(w, r, id)
	case id != "" && action == "revoke":
		return a.handleRevokeDevice(w, r, id)
	}
	return caddy.APIError{HTTPStatus: http.StatusNotFound,
		Err: errors.New("no such route; want GET /trusted-endpoints/devices/{id} or POST /trusted-endpoints/devices/{id}/revoke")}
}

func (a *AdminAPI) handleShowDevice(w http.ResponseWriter, r *http.Request, id string) error {
	if err := allowMethod(w, r, http.MethodGet); err != nil {
		return err
	}
	v, err := readQuery(r, "history_limit")
	if err != nil {
		return err
	}
	limit, err := v.limit("history_limit", defaultLimit)
	if err != nil {
		return err
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	device, err := app.Store().Device(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no device %q", id)}
	case err != nil:
		return unavailable("loading device", err)
	}
	history, err := app.Store().DeviceHealthHistory(r.Context(), id, limit)
	if err != nil {
		return unavailable("loading health history", err)
	}
	if history == nil {
		history = []store.HealthRecord{}
	}
	return writeJSON(w, http.StatusOK, deviceDetail{Device: device, HealthHistory: history})
}

// handleRevokeDevice serves POST /trusted-endpoints/devices/{id}/revoke.
func (a *AdminAPI) handleRevokeDevice(w http.ResponseWriter, r *http.Request, id string) error {
	if err := allowMethod(w, r, http.MethodPost); err != nil {
		return err
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	device, err := revokeDevice(r.Context(), app, a.logger, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no device %q", id)}
	case err != nil:
		return unavailable("revoking device", err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"id":      device.ID,
		"user":    device.User,
		"revoked": device.Revoked.UTC().Format(time.RFC3339),
	})
}

// revokeDevice revokes a device in the store and drops every trust
// decision cached for it, here at once and on the other instances through
// the store's events: the next request of a session it vouched for is
// checked again. It returns the revoked device; an unknown device is
// store.ErrNotFound. The admin API and the dashboard both revoke through
// it.
func revokeDevice(ctx context.Context, app *App, logger *zap.Logger, id string) (store.Device, error) {
	if err := app.Store().RevokeDevice(ctx, id, time.Now()); err != nil {
		return store.Device{}, fmt.Errorf("revoking device %s: %w", id, err)
	}
	// After the store, so a decision made before the revocation cannot
	// outlive it in this cache.
	app.TrustCache().RevokeDevice(id)
	if n, ok := app.Store().(store.Notifier); ok {
		// Every other instance drops its decisions for the device at once.
		if err := n.Notify(ctx, store.Event{Kind: store.EventRevoke, ID: id}); err != nil {
			logger.Error("telling other instances about a revocation; they notice on their next cache miss", zap.String("device_id", id), zap.Error(err))
		}
	}
	device, err := app.Store().Device(ctx, id)
	if err != nil {
		return store.Device{}, fmt.Errorf("reading revoked device %s: %w", id, err)
	}
	logger.Info("device revoked", zap.String("device_id", id), zap.String("user", device.User))
	return device, nil
}
