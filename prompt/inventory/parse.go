package inventory

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/trustgate/trustgate/prompt/store"
)

// Parser reads uploads of inventory entries. Its zero value is ready to
// use, with the defaults below.
type Parser struct {
	// MaxRows is the most entries one upload may hold; a longer upload is
	// refused with ErrTooManyRows. Default: 200000.
	MaxRows int
	// MaxBytes is the largest upload in bytes; a larger one is refused
	// with ErrTooLarge. It bounds the memory one upload takes, also when
	// a single row is absurdly long. Default: 128 MiB.
	MaxBytes int64
}

// Defaults of a Parser.
const (
	DefaultMaxRows  = 200_000
	DefaultMaxBytes = 128 << 20
)

// ImportStore is what Import needs from storage.
type ImportStore interface {
	AddInventoryEntries(ctx context.Context, id string, entries []store.InventoryEntry) error
}

// Result is what an import added.
type Result struct {
	// Entries is how many entries were added.
	Entries int
}

// ErrNoEntries is the error of an import whose upload holds no entries
// (a header row alone, an empty array): almost surely the wrong file.
var ErrNoEntries = errors.New("the upload holds no entries")

// Parse reads r with the default limits; see Parser.Parse.
func Parse(r io.Reader, format Format) ([]store.InventoryEntry, error) {
	return Parser{}.Parse(r, format)
}

// Import reads r with the default limits; see Parser.Import.
func Import(ctx context.Context, st ImportStore, id string, r io.Reader, format Format) (Result, error) {
	return Parser{}.Import(ctx, st, id, r, format)
}

// Parse reads a whole upload from r, as a stream, and returns its entries
// in normal form (see Normalize) and in the order of the upload. It
// returns entries only when the whole upload is good: otherwise a
// *ParseError lists the bad rows with their lines (bad fields, unknown
// columns or keys, identifiers that an earlier row has too, rows that
// cannot be read), or the error wraps ErrTooManyRows or ErrTooLarge, or
// it is the error of reading r.
func (p Parser) Parse(r io.Reader, format Format) ([]store.InventoryEntry, error) {
	c := newCollector(p.maxRows())
	in := bufio.NewReaderSize(&limitedReader{r: r, left: p.maxBytes(), limit: p.maxBytes()}, 64<<10)
	skipBOM(in)
	var err error
	switch format {
	case FormatCSV:
		err = parseCSV(in, c)
	case FormatJSON:
		err = parseJSON(in, c)
	default:
		return nil, fmt.Errorf("upload format %q: want csv or json", truncate(string(format)))
	}
	if err != nil {
		if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrTooManyRows) {
			return nil, err
		}
		return nil, fmt.Errorf("reading the upload: %w", err)
	}
	return c.result()
}

// Import parses the whole upload r, then adds its entries to the pending
// inventory id in one call of the store, which adds all or none: an
// upload with any bad row changes nothing. It returns ErrNoEntries for an
// upload without entries, the errors of Parse, and the store's error
// wrapped (store.ErrNotFound, store.ErrConflict when the inventory is not
// pending).
func (p Parser) Import(ctx context.Context, st ImportStore, id string, r io.Reader, format Format) (Result, error) {
	entries, err := p.Parse(r, format)
	if err != nil {
		return Result{}, err
	}
	if len(entries) == 0 {
		return Result{}, ErrNoEntries
	}
	if err := st.AddInventoryEntries(ctx, id, entries); err != nil {
		return Result{}, fmt.Errorf("adding %d entries to inventory %s: %w", len(entries), id, err)
	}
	return Result{Entries: len(entries)}, nil
}

func (p Parser) maxRows() int {
	if p.MaxRows > 0 {
		return p.MaxRows
	}
	return DefaultMaxRows
}

func (p Parser) maxBytes() int64 {
	if p.MaxBytes > 0 {
		return p.MaxBytes
	}
	return DefaultMaxBytes
}

// limitedReader reads at most left bytes from r and then fails with
// ErrTooLarge, unlike io.LimitReader, whose silent end would let a cut
// upload pass for a short one.
type limitedReader struct {
	r           io.Reader
	left, limit int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// Whether r has more is known only by reading one byte more.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.limit)
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// skipBOM drops a UTF-8 byte order mark, which spreadsheet programs put
// at the start of the CSV files they save.
func skipBOM(in *bufio.Reader) {
	if b, err := in.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = in.Discard(3)
	}
}

// Interface guards: the store's inventory contract is what Import needs.
var _ ImportStore = store.InventoryStore(nil)
