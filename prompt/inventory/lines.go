package inventory

import (
	"bytes"
	"io"
)

// lineCounter passes a stream through and tells the line of an offset in
// it, for a decoder that reports offsets (json.Decoder.InputOffset). It
// keeps the bytes read but not yet counted, which are about the
// decoder's read-ahead when it is asked after every token: it never
// holds more than the decoder does, and counting costs a pass over each
// byte once.
type lineCounter struct {
	r io.Reader
	// pending are the bytes from offset base on, read but not yet
	// counted; line is the line of offset base.
	pending []byte
	base    int64
	line    int
}

func newLineCounter(r io.Reader) *lineCounter { return &lineCounter{r: r, line: 1} }

func (l *lineCounter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.pending = append(l.pending, p[:n]...)
	return n, err
}

// lineAt returns the line, from 1, of the byte at offset off. Offsets
// must be asked in order: an offset before the last one asked gets the
// last one's line.
func (l *lineCounter) lineAt(off int64) int {
	k := min(max(off-l.base, 0), int64(len(l.pending)))
	l.line += bytes.Count(l.pending[:k], []byte{'\n'})
	l.pending = l.pending[k:]
	l.base += k
	return l.line
}
