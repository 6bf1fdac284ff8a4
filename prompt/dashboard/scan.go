package dashboard

import (
	"fmt"
	"net/http"

	"github.com/trustgate/trustgate/prompt/adminapi"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// Sizes of the dashboard's pages and of the data its summaries read.
const (
	dashboardPageSize = 50
	// dashboardScanCap bounds how many devices a sorted list or the
	// overview reads, and how many auth-log entries the charts read: the
	// dashboard is for an organisation's phones, not for bulk export.
	dashboardScanCap = 20000
	scanBatch        = 1000
)

// render writes a view with status.
func (v *request) render(status int, view string, pg pageData) error {
	return v.h.render(v.w, v.person, status, view, pg)
}

// fail is an error whose page says msg, under the title of code.
func fail(status int, code, msg string) error {
	return web.Errorf(status, "%s", msg).WithCode(code)
}

// storeFailed is a 503 whose cause, what failed, goes to the log.
func storeFailed(what string, err error) error {
	return &web.Error{Status: http.StatusServiceUnavailable, Code: "storage_unavailable",
		Message: "The gateway's storage could not be read. Try again in a moment.", Err: fmt.Errorf("%s: %w", what, err)}
}

func (v *request) store() adminapi.Store { return v.h.cfg.Gateway.Store() }

// scanDevices reads the devices matching q, by ID, up to the scan cap,
// and reports whether the cap cut them short.
func (v *request) scanDevices(q store.DeviceQuery) ([]store.Device, bool, error) {
	q.Limit = scanBatch
	return scanPages(
		func() ([]store.Device, error) { return v.store().ListDevices(v.r.Context(), q) },
		func(last store.Device) { q.AfterID = last.ID })
}

// scanAuthLog reads the entries matching q, newest first, up to the scan
// cap, and reports whether the cap cut them short.
func (v *request) scanAuthLog(q store.AuthLogQuery) ([]store.AuthLogEntry, bool, error) {
	q.Limit = scanBatch
	return scanPages(
		func() ([]store.AuthLogEntry, error) { return v.store().QueryAuthLog(v.r.Context(), q) },
		func(last store.AuthLogEntry) { q.BeforeID = last.ID })
}

// scanPages reads pages of up to scanBatch items from next, moving past
// each page's last item with after, until a short page or the scan cap,
// and reports whether the cap cut them short.
func scanPages[T any](next func() ([]T, error), after func(last T)) ([]T, bool, error) {
	var all []T
	for {
		batch, err := next()
		if err != nil {
			return nil, false, err
		}
		all = append(all, batch...)
		if len(all) >= dashboardScanCap {
			return all[:dashboardScanCap], true, nil
		}
		if len(batch) < scanBatch {
			return all, false, nil
		}
		after(batch[len(batch)-1])
	}
}
