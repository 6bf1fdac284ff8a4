package adminapi

import (
	"errors"
	"io"
	"net/http"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// uploadInventoryEntries serves PUT /trusted-endpoints/inventories/{id}/entries:
// the body, CSV or JSON (the Content-Type, or ?format=csv|json), is read
// as a stream and its entries added to the pending, still empty inventory
// id in one all-or-nothing call of the store. Bad rows are a 400 that
// lists them with their lines (badUploadError), and nothing is added.
func (h *Handler) uploadInventoryEntries(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	format, err := uploadFormat(r)
	if err != nil {
		return err
	}
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	// Checked before the body is read, so a mistaken upload of tens of
	// megabytes is refused at once; the store checks again when adding.
	inv, err := findInventory(r, gw, id)
	if err != nil {
		return err
	}
	switch {
	case inv.State != store.InventoryPending:
		return inventoryError(store.ErrConflict, id, "")
	case inv.Entries > 0:
		// One upload per inventory: a second would add to the first
		// without the duplicate check a single upload gets.
		return web.Errorf(http.StatusConflict, "inventory %q already holds %d entries: create a new inventory for another upload", id, inv.Entries)
	}
	body := &bodyReader{r: r.Body}
	result, err := h.Uploads.Import(r.Context(), gw, id, body, format)
	if err != nil {
		return uploadError(err, body, id)
	}
	h.logger.Info("inventory entries uploaded", zap.String("inventory_id", id), zap.Int("entries", result.Entries), zap.String("format", string(format)))
	web.WriteJSON(w, http.StatusOK, map[string]any{"id": id, "entries": result.Entries})
	return nil
}

// uploadFormat reads an upload's format from ?format= or, without it,
// from the Content-Type.
func uploadFormat(r *http.Request) (inventory.Format, error) {
	v, err := readQuery(r, "format")
	if err != nil {
		return "", err
	}
	if name := v.get("format"); name != "" {
		format, err := inventory.ParseFormat(name)
		if err != nil {
			return "", badRequest("format", "want csv or json, got %q", name)
		}
		return format, nil
	}
	contentType := r.Header.Get("Content-Type")
	format, err := inventory.ParseFormat(contentType)
	if err != nil || contentType == "" {
		return "", web.Errorf(http.StatusUnsupportedMediaType,
			"Content-Type %q: want text/csv, application/json or application/x-ndjson, or set ?format=csv|json", contentType)
	}
	return format, nil
}

// uploadError answers a failed import: the upload's fault (bad rows, too
// big, empty, unreadable) or the store's.
func uploadError(err error, body *bodyReader, id string) error {
	var parse *inventory.ParseError
	switch {
	case errors.As(err, &parse):
		return &badUploadError{parse: parse}
	case errors.Is(err, inventory.ErrTooLarge), errors.Is(err, inventory.ErrTooManyRows):
		return &web.Error{Status: http.StatusRequestEntityTooLarge, Message: err.Error() + "; nothing was added", Err: err}
	case errors.Is(err, inventory.ErrNoEntries):
		return web.Errorf(http.StatusBadRequest, "%v; nothing was added", err)
	case body.err != nil:
		return &web.Error{Status: http.StatusBadRequest, Message: "reading the upload failed; nothing was added", Err: err}
	}
	return inventoryError(err, id, "adding inventory entries (nothing was added)")
}

// bodyReader remembers the error of reading an upload (other than its
// end), which tells the client's failure from the store's.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// badUploadError is an upload with bad rows, answered 400 with every row
// (as many as inventory.MaxReported) by writeBadUpload.
type badUploadError struct {
	parse *inventory.ParseError
}

func (e *badUploadError) Error() string { return "bad upload: " + e.parse.Error() }

func (e *badUploadError) Unwrap() error { return e.parse }

// badUpload is the body of an upload's 400.
type badUpload struct {
	Error string `json:"error"`
	// Rows are the first bad rows, in the order of the upload.
	Rows []badRow `json:"rows"`
	// Total is how many rows are bad.
	Total int `json:"total"`
}

// badRow is one bad row of an upload.
type badRow struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// writeBadUpload answers an upload with bad rows.
func writeBadUpload(w http.ResponseWriter, e *badUploadError) {
	body := badUpload{Error: "the upload has bad rows; nothing was added", Total: e.parse.Total, Rows: make([]badRow, len(e.parse.Rows))}
	for i, row := range e.parse.Rows {
		body.Rows[i] = badRow{Line: row.Line, Error: row.Err.Error()}
	}
	web.WriteJSON(w, http.StatusBadRequest, body)
}

// activateInventory serves POST /trusted-endpoints/inventories/{id}/activate:
// the pending inventory id replaces the active one, on every instance at
// once; the active one is kept as previous. An empty inventory is refused,
// as it would take the trust of every managed device away.
func (h *Handler) activateInventory(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	inv, err := findInventory(r, gw, id)
	if err != nil {
		return err
	}
	if inv.State == store.InventoryPending && inv.Entries == 0 {
		return web.Errorf(http.StatusConflict, "inventory %q holds no entries: upload them before activating it", id)
	}
	active, err := gw.ActivateInventory(r.Context(), id)
	if err := h.changedActive(err, id, "activating inventory"); err != nil {
		return err
	}
	h.logger.Info("inventory activated", zap.String("inventory_id", active.ID), zap.Int("entries", active.Entries))
	web.WriteJSON(w, http.StatusOK, active)
	return nil
}

// restorePreviousInventory serves POST /trusted-endpoints/inventories/previous/restore:
// the previous inventory is active again, on every instance at once, and
// the active one previous, so a second restore undoes the first.
func (h *Handler) restorePreviousInventory(w http.ResponseWriter, r *http.Request) error {
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	active, err := gw.RestorePreviousInventory(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		return web.Errorf(http.StatusNotFound, "no previous inventory to restore")
	}
	if err := h.changedActive(err, "", "restoring the previous inventory"); err != nil {
		return err
	}
	h.logger.Info("previous inventory restored", zap.String("inventory_id", active.ID), zap.Int("entries", active.Entries))
	web.WriteJSON(w, http.StatusOK, active)
	return nil
}

// changedActive answers the error of a change of the active inventory:
// one stored but not announced holds (the other instances load it on
// their next refresh) and is only logged.
func (h *Handler) changedActive(err error, id, what string) error {
	if errors.Is(err, ErrNotAnnounced) {
		h.logger.Warn(what+": stored, but other instances only load it on their next refresh", zap.Error(err))
		return nil
	}
	return inventoryError(err, id, what)
}
