package caddymodule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/store"
)

// whatIfRequest is the body of POST /trusted-endpoints/what-if.
type whatIfRequest struct {
	// User is the person. Required.
	User string `json:"user"`
	// Groups are the person's groups. Default: the groups of their latest
	// auth-log entry, the gateway's last word on them.
	Groups *[]string `json:"groups,omitempty"`
	// Email is the person's email address, for the application's access
	// rules. Default: the email of their latest auth-log entry.
	Email *string `json:"email,omitempty"`
	// Application names the protected application, as its site's
	// application setting does. Required.
	Application string `json:"application"`
	// DeviceID is the device to ask about; it must be the user's.
	DeviceID string `json:"device_id,omitempty"`
	// Facts are health facts to evaluate instead of the device's latest
	// report, as the device API takes them.
	Facts json.RawMessage `json:"facts,omitempty"`
	// AccessPlatform is the platform of the browser's device: ios,
	// android, or desktop (anything the app cannot check). Default: the
	// device's own platform.
	AccessPlatform string `json:"access_platform,omitempty"`
}

// whatIfAnswer is the answer of POST /trusted-endpoints/what-if.
type whatIfAnswer struct {
	User        string `json:"user"`
	Application string `json:"application"`
	// Groups are the groups the answer assumed, and GroupsSource where they
	// came from: request, auth_log (the user's latest entry) or none.
	Groups       []string `json:"groups"`
	GroupsSource string   `json:"groups_source"`
	// Email is the email address the answer assumed, and EmailSource
	// where it came from, as for the groups.
	Email       string `json:"email"`
	EmailSource string `json:"email_source"`
	// DeviceID is the device the answer is about, when there is one.
	DeviceID string `json:"device_id,omitempty"`
	prompt.WhatIfAnswer
}

// handleWhatIf serves POST /trusted-endpoints/what-if: would the user, on
// the device (or with the facts), reach the application under its current
// policy? It answers from the store (the device, its latest report, the
// user's groups) and the running configuration's policy, with the
// decisions of the live flow (prompt.WhatIf).
func (a *AdminAPI) handleWhatIf(w http.ResponseWriter, r *http.Request) error {
	if err := allowMethod(w, r, http.MethodPost); err != nil {
		return err
	}
	var req whatIfRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("decoding request: %w", err)}
	}
	if strings.TrimSpace(req.User) == "" {
		return badRequest("user", "required")
	}
	if req.Application == "" {
		return badRequest("application", "required")
	}
	var q prompt.WhatIfQuery
	if len(req.Facts) > 0 && !bytes.Equal(bytes.TrimSpace(req.Facts), []byte("null")) {
		var facts policy.Facts
		fd := json.NewDecoder(bytes.NewReader(req.Facts))
		fd.DisallowUnknownFields()
		if err := fd.Decode(&facts); err != nil {
			return badRequest("facts", "not health facts: %v", err)
		}
		q.Facts = &facts
	}
	if p := strings.ToLower(strings.TrimSpace(req.AccessPlatform)); p != "" {
		if _, err := policy.ParsePlatform(p); err != nil && p != "desktop" && p != "unknown" {
			return badRequest("access_platform", "want ios, android or desktop, got %q", req.AccessPlatform)
		}
		q.AccessPlatform = p
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	pol, ok := app.sites.policy(req.Application)
	if !ok {
		return badRequest("application", "no site of the running configuration protects %q (known: %s; a site without an application setting cannot be named)",
			req.Application, strings.Join(app.sites.applications(), ", "))
	}
	ctx := r.Context()
	answer := whatIfAnswer{User: req.User, Application: req.Application, GroupsSource: "request", EmailSource: "request"}
	if req.Groups != nil {
		answer.Groups = *req.Groups
	}
	if req.Email != nil {
		answer.Email = *req.Email
	}
	if req.Groups == nil || req.Email == nil {
		latest, err := app.Store().QueryAuthLog(ctx, store.AuthLogQuery{User: req.User, Limit: 1})
		if err != nil {
			return unavailable("reading the user's groups from the auth log", err)
		}
		source := "none"
		if len(latest) > 0 {
			source = "auth_log"
		}
		if req.Groups == nil {
			answer.GroupsSource = source
			if len(latest) > 0 {
				answer.Groups = latest[0].Groups
			}
		}
		if req.Email == nil {
			answer.EmailSource = source
			if len(latest) > 0 {
				answer.Email = latest[0].Email
			}
		}
	}
	if answer.Groups == nil {
		answer.Groups = []string{}
	}
	q.User, q.Email, q.Groups = req.User, answer.Email, answer.Groups
	q.Access = app.sites.accessRules(req.Application)
	// The application's sites count only devices of their realm (or of
	// none); "" where they are in several.
	realm := app.sites.applicationRealmID(req.Application)

	switch {
	case req.DeviceID != "":
		device, err := app.Store().Device(ctx, req.DeviceID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("device_id: no device %q", req.DeviceID)}
		case err != nil:
			return unavailable("loading device", err)
		case device.User != req.User:
			return badRequest("device_id", "device %q belongs to another user", req.DeviceID)
		case !prompt.DeviceInRealm(&device, realm):
			return badRequest("device_id", "device %q is bound to another realm than the sites of %q: it counts for another login source's %s", req.DeviceID, req.Application, req.User)
		}
		q.Device = &device
	case q.Facts == nil:
		// No device named: the user's most recently seen active device, as
		// the one they would most likely check with.
		devices, err := app.Store().UserDevices(ctx, req.User)
		if err != nil {
			return unavailable("loading the user's devices", err)
		}
		for i := range devices {
			d := &devices[i]
			if d.Active() && prompt.DeviceInRealm(d, realm) && (q.Device == nil || d.LastSeen.After(q.Device.LastSeen)) {
				q.Device = d
			}
		}
	}
	if q.Device != nil {
		answer.DeviceID = q.Device.ID
	}
	answer.WhatIfAnswer = prompt.WhatIf(pol, q, time.Now())
	return writeJSON(w, http.StatusOK, answer)
}
