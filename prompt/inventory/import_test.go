package inventory

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/store"
)

// recordingStore is an ImportStore that records its calls and fails with
// err.
type recordingStore struct {
	calls [][]store.InventoryEntry
	ids   []string
	err   error
}

func (s *recordingStore) AddInventoryEntries(_ context.Context, id string, entries []store.InventoryEntry) error {
	s.calls = append(s.calls, entries)
	s.ids = append(s.ids, id)
	return s.err
}

func TestImportAddsAllEntriesInOneCall(t *testing.T) {
	t.Parallel()
	st := &recordingStore{}
	res, err := Import(context.Background(), st, "inv-1", strings.NewReader(csvUpload(1234)), FormatCSV)
	if err != nil || res.Entries != 1234 {
		t.Fatalf("Import = %+v, %v", res, err)
	}
	if len(st.calls) != 1 || len(st.calls[0]) != 1234 || st.ids[0] != "inv-1" {
		t.Fatalf("store called %d times (%v)", len(st.calls), st.ids)
	}
	if st.calls[0][0].Fingerprint != strings.Repeat("0", 63)+"1" || st.calls[0][0].Serial != "3e8" {
		t.Errorf("first entry not in normal form: %+v", st.calls[0][0])
	}
}

func TestImportOfABadUploadChangesNothing(t *testing.T) {
	t.Parallel()
	upload := csvUpload(1000) + "zz,,,,linux,,\n" + csvUpload(3)[len("fingerprint,serial,san_uri,hardware_serial,platform,owner,label\n"):]
	for name, r := range map[string]string{
		"bad row at the end":      upload,
		"too many rows":           csvUpload(DefaultMaxRows/1000 + 1),
		"empty":                   "serial,platform\n",
		"header alone with blank": "serial,platform\n\n,\n",
	} {
		st := &recordingStore{}
		p := Parser{MaxRows: DefaultMaxRows / 1000}
		res, err := p.Import(context.Background(), st, "inv-1", strings.NewReader(r), FormatCSV)
		if err == nil || res.Entries != 0 || len(st.calls) != 0 {
			t.Errorf("%s: Import = %+v, %v after %d store calls; want an error and no call", name, res, err, len(st.calls))
		}
	}
	_, err := Import(context.Background(), &recordingStore{}, "inv-1", strings.NewReader("serial,platform\n"), FormatCSV)
	if !errors.Is(err, ErrNoEntries) {
		t.Errorf("Import of a header alone = %v, want ErrNoEntries", err)
	}
}

func TestImportWrapsTheStoresError(t *testing.T) {
	t.Parallel()
	st := &recordingStore{err: store.ErrConflict}
	_, err := Import(context.Background(), st, "inv-9", strings.NewReader(jsonLinesUpload(3)), FormatJSON)
	if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "adding 3 entries to inventory inv-9") {
		t.Fatalf("Import = %v, want the store's ErrConflict with context", err)
	}
}
