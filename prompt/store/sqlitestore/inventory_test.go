package sqlitestore

import (
	"testing"

	"github.com/trustgate/trustgate/prompt/store/storetest"
)

// TestAddInventoryEntriesFailingMidwayAddsNothing makes SQLite refuse one
// entry of a large batch, with a trigger.
func TestAddInventoryEntriesFailingMidwayAddsNothing(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	if _, err := s.db.ExecContext(t.Context(), `
		CREATE TRIGGER poison BEFORE INSERT ON inventory_entries
		WHEN NEW.label = 'poison'
		BEGIN SELECT RAISE(ABORT, 'poisoned entry'); END`); err != nil {
		t.Fatal(err)
	}
	storetest.AddInventoryEntriesFailingMidwayAddsNothing(t, s, "poison")
}
