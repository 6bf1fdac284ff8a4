package pgstore

import (
	"testing"

	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/storetest"
)

// openBench opens a store on a new database of the test server, which is
// dropped when b ends, skipping b when no server is configured.
func openBench(b *testing.B) store.Store {
	b.Helper()
	return openStore(b, newDatabase(b))
}

func BenchmarkAuthLogWrite(b *testing.B) {
	storetest.BenchAuthLogWrite(b, openBench)
}

func BenchmarkDeviceLookup(b *testing.B) {
	storetest.BenchDeviceLookup(b, openBench)
}

func BenchmarkVerification(b *testing.B) {
	storetest.BenchVerification(b, openBench)
}

func BenchmarkInventoryImport(b *testing.B) {
	storetest.BenchInventoryImport(b, openBench)
}
