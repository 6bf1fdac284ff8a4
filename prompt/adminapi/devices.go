package adminapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// devicesPage is the answer of GET /trusted-endpoints/devices.
type devicesPage struct {
	// Devices are the matching devices, by ID.
	Devices []mobileDevice `json:"devices"`
	// NextCursor, when set, fetches the next page as ?cursor=; absent on
	// the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// mobileDevice is a device of the mobile app, with the integration that
// vouches for it beside its stored fields.
type mobileDevice struct {
	store.Device
	// Integration is always "mobile"; managed devices are listed by
	// GET /trusted-endpoints/managed-devices.
	Integration string `json:"integration"`
}

// listDevices serves GET /trusted-endpoints/devices.
func (h *Handler) listDevices(w http.ResponseWriter, r *http.Request) error {
	q, err := parseDeviceQuery(r)
	if err != nil {
		return err
	}
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	limit := q.Limit
	q.Limit++ // one more tells whether there is a next page
	devices, err := gw.Store().ListDevices(r.Context(), q)
	if err != nil {
		return unavailable("listing devices", err)
	}
	page := devicesPage{Devices: []mobileDevice{}}
	if len(devices) > limit {
		devices = devices[:limit]
		page.NextCursor = devices[limit-1].ID
	}
	for _, d := range devices {
		page.Devices = append(page.Devices, mobileDevice{Device: d, Integration: "mobile"})
	}
	web.WriteJSON(w, http.StatusOK, page)
	return nil
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
		platform, version, err := ParseOSOlderThan(s, q.Platform)
		if err != nil {
			return q, web.Errorf(http.StatusBadRequest, "%v", err)
		}
		if q.OSOlderThan == nil {
			q.OSOlderThan = make(map[string]string)
		}
		q.OSOlderThan[platform] = version
	}
	return q, nil
}

// ParseOSOlderThan reads one os_older_than value: "ios:17.4" or, with the
// platform filter set, a bare version. Versions only compare within a
// platform. The error names the parameter.
func ParseOSOlderThan(s, platformFilter string) (platform, version string, err error) {
	p, version, ok := strings.Cut(s, ":")
	if !ok {
		if platformFilter == "" {
			return "", "", fmt.Errorf("os_older_than: %q names no platform: want PLATFORM:VERSION (ios:17.4), or set platform", s)
		}
		p, version = platformFilter, s
	}
	parsed, err := policy.ParsePlatform(p)
	if err != nil {
		return "", "", fmt.Errorf("os_older_than: unknown platform in %q (want ios or android)", s)
	}
	if _, err := policy.ParseVersion(version); err != nil {
		return "", "", fmt.Errorf("os_older_than: %q is not a version: %v", version, err)
	}
	return string(parsed), version, nil
}

// deviceDetail is the answer of GET /trusted-endpoints/devices/{id}.
type deviceDetail struct {
	Device store.Device `json:"device"`
	// HealthHistory are the device's health reports, newest first.
	HealthHistory []store.HealthRecord `json:"health_history"`
}

// showDevice serves GET /trusted-endpoints/devices/{id}.
func (h *Handler) showDevice(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	v, err := readQuery(r, "history_limit")
	if err != nil {
		return err
	}
	limit, err := v.limit("history_limit", defaultLimit)
	if err != nil {
		return err
	}
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	device, err := gw.Store().Device(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return web.Errorf(http.StatusNotFound, "no device %q", id)
	case err != nil:
		return unavailable("loading device", err)
	}
	history, err := gw.Store().DeviceHealthHistory(r.Context(), id, limit)
	if err != nil {
		return unavailable("loading health history", err)
	}
	if history == nil {
		history = []store.HealthRecord{}
	}
	web.WriteJSON(w, http.StatusOK, deviceDetail{Device: device, HealthHistory: history})
	return nil
}

// revokeDevice serves POST /trusted-endpoints/devices/{id}/revoke.
func (h *Handler) revokeDevice(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	device, err := gw.RevokeDevice(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return web.Errorf(http.StatusNotFound, "no device %q", id)
	case err != nil:
		return unavailable("revoking device", err)
	}
	h.logger.Info("device revoked", zap.String("device_id", id), zap.String("user", device.User))
	web.WriteJSON(w, http.StatusOK, map[string]any{
		"id":      device.ID,
		"user":    device.User,
		"revoked": device.Revoked.UTC().Format(time.RFC3339),
	})
	return nil
}
