package sqlitestore

import (
	"path/filepath"
	"testing"

	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/storetest"
)

// openBench opens a store in a new file under b's temporary directory: a
// real file, so that every commit pays for its fsync (synchronous=FULL).
func openBench(b *testing.B) store.Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "trustgate.db"))
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	return s
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
