package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
	"github.com/trustgate/trustgate/prompt/whatif"
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
	// android, windows, macos, linux (which a managed device may vouch
	// for), or desktop (anything no integration can check). Default: the
	// device's own platform.
	AccessPlatform string `json:"access_platform,omitempty"`
	// DeviceCertificate names the client certificate the browser would
	// present, verified, by the identifier the site's managed { match }
	// compares: its SHA-256 fingerprint (the default; hex, colons
	// allowed), serial number, a SAN URI or the hardware serial. It is
	// looked up in this instance's active inventory, and decides where
	// the managed integration does. Default: no certificate.
	DeviceCertificate string `json:"device_certificate,omitempty"`
}

// WhatIfAnswer is the answer of POST /trusted-endpoints/what-if.
type WhatIfAnswer struct {
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
	// ManagedDevice is the entry of the active inventory that
	// device_certificate names, and Inventory that inventory's ID; absent
	// when the request names no certificate or the inventory holds none
	// such.
	ManagedDevice *store.InventoryEntry `json:"managed_device,omitempty"`
	Inventory     string                `json:"inventory,omitempty"`
	whatif.Answer
}

// whatIf serves POST /trusted-endpoints/what-if: would the user, on the
// device (or with the facts), reach the application under its current
// policy? It answers from the store (the device, its latest report, the
// user's groups) and the running configuration's policy, with the
// decisions of the live flow (Sites.WhatIf).
func (h *Handler) whatIf(w http.ResponseWriter, r *http.Request) error {
	var req whatIfRequest
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	q, err := parseWhatIf(req)
	if err != nil {
		return err
	}
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	pol, ok := gw.Policy(req.Application)
	if !ok {
		return badRequest("application", "no site of the running configuration protects %q (known: %s; a site without an application setting cannot be named)",
			req.Application, strings.Join(gw.Applications(), ", "))
	}
	answer := WhatIfAnswer{User: req.User, Application: req.Application, GroupsSource: "request", EmailSource: "request"}
	if err := assumePerson(r, gw.Store(), req, &answer); err != nil {
		return err
	}
	q.User, q.Email, q.Groups = req.User, answer.Email, answer.Groups
	q.Access = gw.AccessRules(req.Application)
	if q.Device, err = whatIfDevice(r, gw, req, q.Facts != nil); err != nil {
		return err
	}
	if q.Device != nil {
		answer.DeviceID = q.Device.ID
	}
	if req.DeviceCertificate != "" {
		index := gw.ActiveInventory()
		if e, ok := index.Find(pol.Managed.MatchBy(), req.DeviceCertificate); ok {
			q.ManagedDevice, answer.ManagedDevice, answer.Inventory = &e, &e, index.Inventory().ID
		}
	}
	answer.Answer = whatif.Decide(pol, q, time.Now())
	web.WriteJSON(w, http.StatusOK, answer)
	return nil
}

// parseWhatIf checks a what-if request and reads its facts and access
// platform.
func parseWhatIf(req whatIfRequest) (whatif.Query, error) {
	var q whatif.Query
	if strings.TrimSpace(req.User) == "" {
		return q, badRequest("user", "required")
	}
	if req.Application == "" {
		return q, badRequest("application", "required")
	}
	if len(req.Facts) > 0 && !bytes.Equal(bytes.TrimSpace(req.Facts), []byte("null")) {
		var facts policy.Facts
		fd := json.NewDecoder(bytes.NewReader(req.Facts))
		fd.DisallowUnknownFields()
		if err := fd.Decode(&facts); err != nil {
			return q, badRequest("facts", "not health facts: %v", err)
		}
		q.Facts = &facts
	}
	if p := strings.ToLower(strings.TrimSpace(req.AccessPlatform)); p != "" {
		if _, err := policy.ParseManagedPlatform(p); err != nil && p != "desktop" && p != "unknown" {
			return q, badRequest("access_platform", "want ios, android, windows, macos, linux or desktop, got %q", req.AccessPlatform)
		}
		q.AccessPlatform = p
	}
	if len(req.DeviceCertificate) > 1024 {
		return q, badRequest("device_certificate", "want an identifier of at most 1024 characters")
	}
	return q, nil
}

// assumePerson fills the answer's groups and email: the request's, or
// else those of the user's latest auth-log entry.
func assumePerson(r *http.Request, st Store, req whatIfRequest, answer *WhatIfAnswer) error {
	if req.Groups != nil {
		answer.Groups = *req.Groups
	}
	if req.Email != nil {
		answer.Email = *req.Email
	}
	if req.Groups == nil || req.Email == nil {
		latest, err := st.QueryAuthLog(r.Context(), store.AuthLogQuery{User: req.User, Limit: 1})
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
	return nil
}

// whatIfDevice returns the device the question is about: the one named,
// which must be the user's and count for the application's sites (those
// count only devices of their realm, or of none); or, with neither a
// device nor facts, the user's most recently seen active device there, as
// the one they would most likely check with. Nil when there is none.
func whatIfDevice(r *http.Request, gw Gateway, req whatIfRequest, haveFacts bool) (*store.Device, error) {
	ctx := r.Context()
	if req.DeviceID != "" {
		device, err := gw.Store().Device(ctx, req.DeviceID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, web.Errorf(http.StatusNotFound, "device_id: no device %q", req.DeviceID)
		case err != nil:
			return nil, unavailable("loading device", err)
		case device.User != req.User:
			return nil, badRequest("device_id", "device %q belongs to another user", req.DeviceID)
		case !gw.CountsDevice(req.Application, &device):
			return nil, badRequest("device_id", "device %q is bound to another realm than the sites of %q: it counts for another login source's %s", req.DeviceID, req.Application, req.User)
		}
		return &device, nil
	}
	if haveFacts {
		return nil, nil
	}
	devices, err := gw.Store().UserDevices(ctx, req.User)
	if err != nil {
		return nil, unavailable("loading the user's devices", err)
	}
	var latest *store.Device
	for i := range devices {
		d := &devices[i]
		if d.Active() && gw.CountsDevice(req.Application, d) && (latest == nil || d.LastSeen.After(latest.LastSeen)) {
			latest = d
		}
	}
	return latest, nil
}
