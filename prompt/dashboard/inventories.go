package dashboard

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
	"unicode"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/adminapi"
	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
)

// inventoriesView is the inventories page: every inventory, the upload
// form, and the bad rows of an upload that was refused.
type inventoriesView struct {
	Action, CSRF string
	Inventories  []store.Inventory
	// HasPrevious offers the restore button.
	HasPrevious bool
	// Source is the upload's source as typed, kept when it is refused.
	Source string
	// BadRows are the first bad rows of a refused upload, BadTotal how
	// many there were.
	BadRows  []badRow
	BadTotal int
}

// badRow is one bad row of a refused upload.
type badRow struct {
	Line  int
	Error string
}

// maxSourceLength bounds an inventory's source, as the admin API does.
const maxSourceLength = 200

// inventoriesPage is the inventories page with the current list.
func (v *request) inventoriesPage() (*inventoriesView, pageData, error) {
	list, err := v.h.cfg.Gateway.Inventories(v.r.Context())
	if err != nil {
		return nil, pageData{}, storeFailed("listing inventories", err)
	}
	view := &inventoriesView{Action: v.h.link("/inventories"), CSRF: v.person.CSRF, Inventories: list}
	for _, inv := range list {
		view.HasPrevious = view.HasPrevious || inv.State == store.InventoryPrevious
	}
	if msg := inventoryMessages[v.r.URL.Query().Get("done")]; msg != "" {
		return view, pageData{Title: "Managed devices", Nav: "inventories", Message: msg, View: view}, nil
	}
	return view, pageData{Title: "Managed devices", Nav: "inventories", View: view}, nil
}

// inventoryMessages are what the page says after each change, by the
// ?done= its redirect carries.
var inventoryMessages = map[string]string{
	"uploaded":  "Uploaded into a new pending inventory. Check its count, then activate it.",
	"activated": "Activated: every instance now checks device certificates against it.",
	"deleted":   "The pending inventory was deleted.",
	"restored":  "The previous inventory is active again; a second restore undoes this one.",
}

// inventories lists the inventories with the upload form.
func (v *request) inventories() error {
	_, page, err := v.inventoriesPage()
	if err != nil {
		return err
	}
	return v.render(http.StatusOK, "inventories", page)
}

// redirectInventories sends the browser back to the list after a change.
func (v *request) redirectInventories(done string) error {
	http.Redirect(v.w, v.r, v.h.link("/inventories")+"?done="+done, http.StatusSeeOther)
	return nil
}

// refused is the answer to a form whose CSRF token or origin is wrong.
func (v *request) refused(what string) error {
	v.h.cfg.Logger.Warn("dashboard inventory change refused: missing or wrong CSRF token, or a foreign origin",
		zap.String("user", v.person.User), zap.String("action", what))
	return fail(http.StatusForbidden, "inventory_refused",
		"The form did not come from this dashboard, or it has expired. Open the managed devices page again.")
}

// upload reads a multipart form as a stream, in the order the page's form
// sends it (csrf, source, file): the token is checked before the file is
// read, and the file goes straight into the parser, which adds its
// entries to a new pending inventory all or none. A refused upload leaves
// no inventory behind.
func (v *request) upload() error {
	v.r.Body = http.MaxBytesReader(v.w, v.r.Body, inventory.DefaultMaxBytes+1<<20)
	parts, err := v.r.MultipartReader()
	if err != nil || !validOrigin(v.r) {
		return v.refused("upload")
	}
	csrf, err := formField(parts, "csrf")
	if err != nil || !secret.Equal(csrf, v.person.CSRF) {
		return v.refused("upload")
	}
	view, page, err := v.inventoriesPage()
	if err != nil {
		return err
	}
	source, err := formField(parts, "source")
	view.Source = strings.TrimSpace(source)
	if err != nil || len(view.Source) > maxSourceLength || strings.ContainsFunc(view.Source, unicode.IsControl) {
		page.Error = "Source: give at most 200 characters, or none."
		return v.render(http.StatusBadRequest, "inventories", page)
	}
	file, err := parts.NextPart()
	if err != nil || file.FormName() != "file" || file.FileName() == "" {
		page.Error = "Choose a CSV or JSON file to upload."
		return v.render(http.StatusBadRequest, "inventories", page)
	}
	format, err := inventory.ParseFormat(strings.TrimPrefix(fileExtension(file.FileName()), "."))
	if err != nil {
		page.Error = "The file's name must end in .csv, .json, .jsonl or .ndjson, which says how it is written."
		return v.render(http.StatusBadRequest, "inventories", page)
	}
	if view.Source == "" {
		view.Source = "dashboard upload: " + strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, file.FileName())
	}
	return v.importInto(view, page, file, format)
}

// importInto creates a pending inventory and imports the file into it;
// on any failure it deletes the inventory again and shows why.
func (v *request) importInto(view *inventoriesView, page pageData, file io.Reader, format inventory.Format) error {
	gw := v.h.cfg.Gateway
	inv := store.Inventory{ID: secret.Token(), State: store.InventoryPending, Source: clip(view.Source, maxSourceLength), Created: time.Now().UTC()}
	if err := gw.CreateInventory(v.r.Context(), inv); err != nil {
		return storeFailed("creating inventory", err)
	}
	result, err := inventory.Import(v.r.Context(), gw, inv.ID, file, format)
	if err == nil {
		v.h.cfg.Logger.Info("inventory uploaded", zap.String("admin", v.person.User), zap.String("inventory_id", inv.ID),
			zap.Int("entries", result.Entries), zap.String("format", string(format)))
		return v.redirectInventories("uploaded")
	}
	if derr := gw.DeleteInventory(v.r.Context(), inv.ID); derr != nil {
		v.h.cfg.Logger.Error("deleting the pending inventory of a refused upload", zap.String("inventory_id", inv.ID), zap.Error(derr))
	}
	var parse *inventory.ParseError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &parse):
		page.Error = "The file has bad rows; nothing was added."
		view.BadTotal = parse.Total
		for _, row := range parse.Rows {
			view.BadRows = append(view.BadRows, badRow{Line: row.Line, Error: row.Err.Error()})
		}
	case errors.Is(err, inventory.ErrTooLarge), errors.Is(err, inventory.ErrTooManyRows), errors.Is(err, inventory.ErrNoEntries), errors.As(err, &tooBig):
		page.Error = err.Error() + "; nothing was added."
	default:
		return storeFailed("adding inventory entries (nothing was added)", err)
	}
	// The list was read before the upload: show it without the deleted one.
	return v.render(http.StatusBadRequest, "inventories", page)
}

// formField reads the next part of a multipart form, which must be the
// field name, and returns its value (at most 4 KiB).
func formField(parts *multipart.Reader, name string) (string, error) {
	part, err := parts.NextPart()
	if err != nil {
		return "", err
	}
	if part.FormName() != name || part.FileName() != "" {
		return "", errors.New("form field " + name + " missing or out of order")
	}
	b, err := io.ReadAll(io.LimitReader(part, 4<<10))
	return string(b), err
}

// fileExtension is the extension of an uploaded file's name, lowercase.
func fileExtension(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return strings.ToLower(name[i:])
	}
	return ""
}

// activateInventory activates a pending inventory on every instance, as
// the admin API does; an empty one is refused.
func (v *request) activateInventory() error {
	id := v.r.PathValue("id")
	if !v.postedForm() {
		return v.refused("activate")
	}
	list, err := v.h.cfg.Gateway.Inventories(v.r.Context())
	if err != nil {
		return storeFailed("listing inventories", err)
	}
	for _, inv := range list {
		if inv.ID == id && inv.State == store.InventoryPending && inv.Entries == 0 {
			return fail(http.StatusConflict, "inventory_conflict", "This inventory holds no entries: activating it would take the trust of every managed device away.")
		}
	}
	active, err := v.h.cfg.Gateway.ActivateInventory(v.r.Context(), id)
	if err := v.changed(err, "activating inventory"); err != nil {
		return err
	}
	v.h.cfg.Logger.Info("inventory activated", zap.String("admin", v.person.User), zap.String("inventory_id", id), zap.Int("entries", active.Entries))
	return v.redirectInventories("activated")
}

// deleteInventory deletes a pending inventory.
func (v *request) deleteInventory() error {
	id := v.r.PathValue("id")
	if !v.postedForm() {
		return v.refused("delete")
	}
	if err := v.changed(v.h.cfg.Gateway.DeleteInventory(v.r.Context(), id), "deleting inventory"); err != nil {
		return err
	}
	v.h.cfg.Logger.Info("inventory deleted", zap.String("admin", v.person.User), zap.String("inventory_id", id))
	return v.redirectInventories("deleted")
}

// restoreInventory makes the previous inventory active again.
func (v *request) restoreInventory() error {
	if !v.postedForm() {
		return v.refused("restore")
	}
	active, err := v.h.cfg.Gateway.RestorePreviousInventory(v.r.Context())
	if err := v.changed(err, "restoring the previous inventory"); err != nil {
		return err
	}
	v.h.cfg.Logger.Info("previous inventory restored", zap.String("admin", v.person.User), zap.String("inventory_id", active.ID))
	return v.redirectInventories("restored")
}

// postedForm checks a small posted form's CSRF token and origin.
func (v *request) postedForm() bool {
	v.r.Body = http.MaxBytesReader(v.w, v.r.Body, 16<<10)
	return validCSRF(v.r, v.person)
}

// changed answers the error of an inventory change: one stored but not
// announced holds (other instances load it on their next refresh).
func (v *request) changed(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, adminapi.ErrNotAnnounced):
		v.h.cfg.Logger.Warn(what+": stored, but other instances only load it on their next refresh", zap.Error(err))
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fail(http.StatusNotFound, "unknown_inventory", "There is no such inventory (or no previous one to restore).")
	case errors.Is(err, store.ErrConflict):
		return fail(http.StatusConflict, "inventory_conflict", "Only a pending inventory can be activated or deleted.")
	}
	return storeFailed(what, err)
}
