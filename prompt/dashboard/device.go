package dashboard

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

type deviceView struct {
	Device     store.Device
	OS         string
	Facts      []factRow
	History    []historyRow
	RevokeLink string
	CSRF       string
	Back       string
}

type factRow struct{ Name, Value string }

type historyRow struct {
	At      time.Time
	Verdict string
	Facts   string
}

// loadDevice loads the device the path names, or says why it cannot.
func (v *request) loadDevice() (store.Device, error) {
	id := v.r.PathValue("id")
	if id == "" {
		return store.Device{}, notFound(v.w, v.r)
	}
	dev, err := v.store().Device(v.r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return dev, fail(http.StatusNotFound, "unknown_device", "There is no device with this ID. It may have been purged for inactivity.")
	case err != nil:
		return dev, storeFailed("loading device", err)
	}
	return dev, nil
}

// device serves one device: its facts and health history.
func (v *request) device() error {
	dev, err := v.loadDevice()
	if err != nil {
		return err
	}
	history, err := v.store().DeviceHealthHistory(v.r.Context(), dev.ID, 0)
	if err != nil {
		return storeFailed("loading health history", err)
	}
	view := deviceView{Device: dev, OS: dev.CurrentOSVersion(), Facts: factRows(dev.Health),
		RevokeLink: v.h.link("/endpoints/" + url.PathEscape(dev.ID) + "/revoke"), Back: v.h.link("/endpoints")}
	for _, h := range history {
		view.History = append(view.History, historyRow{At: h.At, Verdict: h.Verdict, Facts: factSummary(h.Health)})
	}
	page := pageData{Title: "Device", Nav: "endpoints", View: view}
	if v.r.URL.Query().Get("revoked") != "" && !dev.Active() {
		page.Message = "Device revoked. Every session it vouched for is checked again on its next request."
	}
	return v.render(http.StatusOK, "device", page)
}

// factRows lists health facts (JSON from the device) by name.
func factRows(raw json.RawMessage) []factRow {
	var facts map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &facts) != nil {
		return nil
	}
	rows := make([]factRow, 0, len(facts))
	for _, k := range slices.Sorted(maps.Keys(facts)) {
		rows = append(rows, factRow{Name: k, Value: factValue(facts[k])})
	}
	return rows
}

func factValue(v any) string {
	switch v := v.(type) {
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case string:
		return v
	case nil:
		return "—"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// factSummary is a health report on one line.
func factSummary(raw json.RawMessage) string {
	rows := factRows(raw)
	parts := make([]string, 0, len(rows))
	for _, r := range rows {
		parts = append(parts, r.Name+"="+r.Value)
	}
	return strings.Join(parts, " ")
}
