package adminapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// routeInventories adds the routes of the inventories of managed devices.
func (h *Handler) routeInventories() {
	const base = "/trusted-endpoints/inventories"
	h.routeMethods(base, map[string]web.HandlerFunc{
		http.MethodGet:  h.listInventories,
		http.MethodPost: h.createInventory,
	})
	h.routeMethods(base+"/{id}", map[string]web.HandlerFunc{
		http.MethodGet:    h.showInventory,
		http.MethodDelete: h.deleteInventory,
	})
	h.routeMethods(base+"/{id}/entries", map[string]web.HandlerFunc{
		http.MethodGet: h.inventoryEntries,
		http.MethodPut: h.uploadInventoryEntries,
	})
	h.route(http.MethodPost, base+"/{id}/activate", h.activateInventory)
	h.route(http.MethodPost, base+"/previous/restore", h.restorePreviousInventory)
	h.mux.Handle(base+"/", h.errors.Handle(noRoute(
		"GET or DELETE "+base+"/{id}, GET or PUT "+base+"/{id}/entries, POST "+base+"/{id}/activate or POST "+base+"/previous/restore")))
}

// inventoriesList is the answer of GET /trusted-endpoints/inventories.
type inventoriesList struct {
	// Inventories are every inventory, newest first: the pending ones,
	// the active one and the previous one.
	Inventories []store.Inventory `json:"inventories"`
}

// listInventories serves GET /trusted-endpoints/inventories.
func (h *Handler) listInventories(w http.ResponseWriter, r *http.Request) error {
	if _, err := readQuery(r); err != nil {
		return err
	}
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	inventories, err := gw.Inventories(r.Context())
	if err != nil {
		return unavailable("listing inventories", err)
	}
	if inventories == nil {
		inventories = []store.Inventory{}
	}
	web.WriteJSON(w, http.StatusOK, inventoriesList{Inventories: inventories})
	return nil
}

// maxSourceLength bounds an inventory's source, which operators read in
// lists.
const maxSourceLength = 200

// createInventoryRequest is the optional body of
// POST /trusted-endpoints/inventories.
type createInventoryRequest struct {
	// Source says where the entries come from, for operators (an export's
	// name). Never a secret. Default: "admin API".
	Source string `json:"source,omitempty"`
}

// createInventory serves POST /trusted-endpoints/inventories: a new,
// empty, pending inventory with a random ID, answered with 201.
func (h *Handler) createInventory(w http.ResponseWriter, r *http.Request) error {
	var req createInventoryRequest
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	source := strings.TrimSpace(req.Source)
	if len(source) > maxSourceLength || strings.ContainsFunc(source, unicode.IsControl) {
		return badRequest("source", "want at most %d characters without control characters", maxSourceLength)
	}
	if source == "" {
		source = "admin API"
	}
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	inv := store.Inventory{ID: secret.Token(), State: store.InventoryPending, Source: source, Created: time.Now().UTC()}
	if err := gw.CreateInventory(r.Context(), inv); err != nil {
		return unavailable("creating inventory", err)
	}
	h.logger.Info("inventory created", zap.String("inventory_id", inv.ID), zap.String("source", source))
	web.WriteJSON(w, http.StatusCreated, inv)
	return nil
}

// showInventory serves GET /trusted-endpoints/inventories/{id}.
func (h *Handler) showInventory(w http.ResponseWriter, r *http.Request) error {
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	inv, err := findInventory(r, gw, r.PathValue("id"))
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, inv)
	return nil
}

// findInventory returns the inventory id, or a 404.
func findInventory(r *http.Request, gw Gateway, id string) (store.Inventory, error) {
	inventories, err := gw.Inventories(r.Context())
	if err != nil {
		return store.Inventory{}, unavailable("listing inventories", err)
	}
	for _, inv := range inventories {
		if inv.ID == id {
			return inv, nil
		}
	}
	return store.Inventory{}, web.Errorf(http.StatusNotFound, "no inventory %q", id)
}

// deleteInventory serves DELETE /trusted-endpoints/inventories/{id}: only
// a pending inventory is deleted; the active and previous ones are only
// ever replaced.
func (h *Handler) deleteInventory(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	if err := inventoryError(gw.DeleteInventory(r.Context(), id), id, "deleting inventory"); err != nil {
		return err
	}
	h.logger.Info("inventory deleted", zap.String("inventory_id", id))
	web.WriteJSON(w, http.StatusOK, map[string]string{"deleted": id})
	return nil
}

// inventoryError answers a store error about inventory id: a 404 for an
// unknown one, a 409 for one that is not pending, a 503 otherwise.
func inventoryError(err error, id, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return web.Errorf(http.StatusNotFound, "no inventory %q", id)
	case errors.Is(err, store.ErrConflict):
		return web.Errorf(http.StatusConflict, "inventory %q is not pending: only a pending inventory can be filled, activated or deleted", id)
	}
	return unavailable(what, err)
}

// inventoryPage is the answer of GET /trusted-endpoints/inventories/{id}/entries.
type inventoryPage struct {
	// Entries are the inventory's entries from offset, in the order they
	// were uploaded.
	Entries []store.InventoryEntry `json:"entries"`
	// NextOffset, when set, fetches the next page as ?offset=; absent on
	// the last page.
	NextOffset int `json:"next_offset,omitempty"`
}

// inventoryEntries serves GET /trusted-endpoints/inventories/{id}/entries.
func (h *Handler) inventoryEntries(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	offset, limit, err := readPage(r)
	if err != nil {
		return err
	}
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	entries, next, err := entriesPage(r.Context(), gw, id, offset, limit)
	if err != nil {
		return inventoryError(err, id, "reading inventory entries")
	}
	page := inventoryPage{Entries: entries, NextOffset: next}
	web.WriteJSON(w, http.StatusOK, page)
	return nil
}

// readPage reads the offset and limit of a paged inventory listing.
func readPage(r *http.Request) (offset, limit int, err error) {
	v, err := readQuery(r, "offset", "limit")
	if err != nil {
		return 0, 0, err
	}
	if offset, err = v.offset("offset"); err != nil {
		return 0, 0, err
	}
	if limit, err = v.limit("limit", defaultLimit); err != nil {
		return 0, 0, err
	}
	return offset, limit, nil
}

// entriesPage returns at most limit entries of inventory id from offset
// (never nil), and the offset of the next page, 0 on the last one.
func entriesPage(ctx context.Context, gw Inventories, id string, offset, limit int) ([]store.InventoryEntry, int, error) {
	// One more tells whether there is a next page.
	entries, err := gw.InventoryEntries(ctx, id, offset, limit+1)
	if err != nil {
		return nil, 0, err
	}
	next := 0
	if len(entries) > limit {
		entries, next = entries[:limit], offset+limit
	}
	if entries == nil {
		entries = []store.InventoryEntry{}
	}
	return entries, next, nil
}
