package pgstore

import (
	"testing"

	"github.com/trustgate/trustgate/prompt/store/storetest"
)

// TestAddInventoryEntriesFailingMidwayAddsNothing makes PostgreSQL refuse
// one entry of a large batch, which COPY sends in several messages, with a
// check constraint.
func TestAddInventoryEntriesFailingMidwayAddsNothing(t *testing.T) {
	dsn := newDatabase(t)
	s := openStore(t, dsn)
	adminExec(t, dsn, `ALTER TABLE inventory_entries ADD CONSTRAINT poison CHECK (label <> 'poison')`)
	storetest.AddInventoryEntriesFailingMidwayAddsNothing(t, s, "poison")
}
