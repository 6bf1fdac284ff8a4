package inventory

import (
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// The whole path on a real store: an upload imported into a pending
// inventory, activated, loaded, looked up; a new inventory without the
// device takes its trust away on the next reload; restoring the previous
// one gives it back; a bad upload into a pending inventory adds nothing.
func TestActiveFollowsTheStoresInventories(t *testing.T) {
	t.Parallel()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	ca := newTestCA(t)
	laptop := ca.issue(t, big.NewInt(0x7001), "C02XK1")
	upload := func(id string, serials ...string) {
		t.Helper()
		if err := st.CreateInventory(ctx, store.Inventory{ID: id, Source: "test upload", Created: testNow}); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("serial,platform,label\n")
		for i, s := range serials {
			fmt.Fprintf(&b, "%s,macos,host-%d\n", s, i)
		}
		if _, err := Import(ctx, st, id, strings.NewReader(b.String()), FormatCSV); err != nil {
			t.Fatalf("importing %s: %v", id, err)
		}
		if err := st.ActivateInventory(ctx, id, testNow); err != nil {
			t.Fatal(err)
		}
	}
	var active Active
	reload := func() *Index {
		t.Helper()
		if _, err := active.Reload(ctx, st); err != nil {
			t.Fatal(err)
		}
		return active.Index()
	}

	upload("inv-1", "70:01", "1234")
	if e, ok := reload().Lookup(laptop, policy.MatchSerial); !ok || e.Label != "host-0" || e.Platform != "macos" {
		t.Fatalf("after the first activation: %+v, %v; want the laptop's entry", e, ok)
	}
	upload("inv-2", "1234", "5678")
	if e, ok := reload().Lookup(laptop, policy.MatchSerial); ok {
		t.Fatalf("the laptop is out of the active inventory, yet matched %+v", e)
	}
	if _, err := st.RestorePreviousInventory(ctx, testNow); err != nil {
		t.Fatal(err)
	}
	if _, ok := reload().Lookup(laptop, policy.MatchSerial); !ok {
		t.Fatal("restoring the previous inventory did not bring the laptop back")
	}

	if err := st.CreateInventory(ctx, store.Inventory{ID: "inv-3", Created: testNow}); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(ctx, st, "inv-3", strings.NewReader("serial,platform\n99,macos\nzz,macos\n"), FormatCSV); err == nil {
		t.Fatal("an upload with a bad row was imported")
	}
	if got, err := st.InventoryEntries(ctx, "inv-3", 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("after a refused upload, the pending inventory holds %d entries (%v); want none", len(got), err)
	}
}
