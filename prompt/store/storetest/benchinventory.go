package storetest

import (
	"testing"

	"github.com/trustgate/trustgate/prompt/store"
)

// benchInventorySize is how many entries BenchInventoryImport imports: a
// large organisation's export of managed devices.
const benchInventorySize = 50_000

// BenchInventoryImport measures importing benchInventorySize entries into
// a new pending inventory and activating it, as an admin upload does: in
// one AddInventoryEntries call ("one-call"), and in calls of 1,000 entries
// ("batches-of-1000"), as a streamed upload might add them. One op is one
// whole import; entries/s is reported beside it. open is called once per
// variant and must return a new, empty store; BenchInventoryImport closes
// it. Every op activates its inventory, so the store holds at most two
// inventories' entries besides the one being imported.
func BenchInventoryImport(b *testing.B, open func(b *testing.B) store.Store) {
	entries := testEntries("bench", 0, benchInventorySize)
	for _, v := range []struct {
		name  string
		batch int
	}{
		{"one-call", benchInventorySize},
		{"batches-of-1000", 1000},
	} {
		b.Run(v.name, func(b *testing.B) {
			s := open(b)
			b.Cleanup(func() { s.Close() })
			ctx := b.Context()
			n := 0
			for b.Loop() {
				n++
				inv := testInventory(n, benchTime)
				if err := s.CreateInventory(ctx, inv); err != nil {
					b.Fatalf("CreateInventory: %v", err)
				}
				for from := 0; from < len(entries); from += v.batch {
					if err := s.AddInventoryEntries(ctx, inv.ID, entries[from:min(from+v.batch, len(entries))]); err != nil {
						b.Fatalf("AddInventoryEntries from %d: %v", from, err)
					}
				}
				if err := s.ActivateInventory(ctx, inv.ID, benchTime); err != nil {
					b.Fatalf("ActivateInventory: %v", err)
				}
			}
			b.ReportMetric(float64(n*benchInventorySize)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
