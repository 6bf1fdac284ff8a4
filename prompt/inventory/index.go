package inventory

import (
	"crypto/x509"
	"strings"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
)

// Index is one inventory held in memory, with a map per kind of
// identifier, for lookups on every request without storage. It never
// changes once made, so it is safe for concurrent use; a nil *Index is
// the empty inventory, in which nothing matches.
type Index struct {
	inventory store.Inventory
	entries   []store.InventoryEntry
	// byIdentifier maps, per kind of identifier (the first four fields),
	// each identifier to the position of its entry.
	byIdentifier [fieldHardwareSerial + 1]map[string]int
}

// NewIndex indexes the entries of inv. Each identifier is brought to its
// normal form (an entry that a store holds in another form still
// matches; an identifier with none is left out); when two entries have
// the same identifier, the first one holds it. The index keeps entries:
// do not change them afterwards.
func NewIndex(inv store.Inventory, entries []store.InventoryEntry) *Index {
	x := &Index{inventory: inv, entries: entries}
	normalizers := [...]func(string) (string, error){
		fieldFingerprint:    normalizeFingerprint,
		fieldSerial:         normalizeSerial,
		fieldSANURI:         normalizeSANURI,
		fieldHardwareSerial: textOf(maxHardwareSerial),
	}
	for kind, normalize := range normalizers {
		x.byIdentifier[kind] = make(map[string]int)
		for i := range entries {
			v := strings.TrimSpace(*fieldOf(&entries[i], kind))
			if v == "" {
				continue
			}
			v, err := normalize(v)
			if err != nil {
				continue
			}
			if _, ok := x.byIdentifier[kind][v]; !ok {
				x.byIdentifier[kind][v] = i
			}
		}
	}
	return x
}

// Inventory returns the inventory the index holds (its ID and when it
// was activated); the zero Inventory for the empty index.
func (x *Index) Inventory() store.Inventory {
	if x == nil {
		return store.Inventory{}
	}
	return x.inventory
}

// Len returns how many entries the index holds.
func (x *Index) Len() int {
	if x == nil {
		return 0
	}
	return len(x.entries)
}

// Lookup returns the entry that the identifier m of cert names. With
// policy.MatchSANURI, any URI of the certificate may name it (the first one that
// does, in the certificate's order). cert must be the leaf of a chain
// that the TLS handshake verified; Lookup checks nothing but the
// identifier.
func (x *Index) Lookup(cert *x509.Certificate, m policy.Match) (store.InventoryEntry, bool) {
	if x == nil || cert == nil {
		return store.InventoryEntry{}, false
	}
	var i int
	var ok bool
	switch m {
	case policy.MatchFingerprint:
		var buf [64]byte
		i, ok = x.byIdentifier[fieldFingerprint][string(fingerprintOf(cert, &buf))]
	case policy.MatchSerial:
		i, ok = x.find(fieldSerial, serialOf(cert))
	case policy.MatchSANURI:
		for _, u := range sanURIsOf(cert) {
			if i, ok = x.find(fieldSANURI, u); ok {
				break
			}
		}
	case policy.MatchHardwareSerial:
		i, ok = x.find(fieldHardwareSerial, hardwareSerialOf(cert))
	}
	if !ok {
		return store.InventoryEntry{}, false
	}
	return x.entries[i], true
}

// Find returns the entry whose identifier of kind m is identifier,
// written in any form an upload accepts (such as a fingerprint with
// colons, or a serial with leading zeros). It is the lookup of the
// what-if question, which names a certificate by its identifier; an
// identifier that is not well formed matches nothing.
func (x *Index) Find(m policy.Match, identifier string) (store.InventoryEntry, bool) {
	if x == nil {
		return store.InventoryEntry{}, false
	}
	kinds := map[policy.Match]int{policy.MatchFingerprint: fieldFingerprint, policy.MatchSerial: fieldSerial,
		policy.MatchSANURI: fieldSANURI, policy.MatchHardwareSerial: fieldHardwareSerial}
	kind, ok := kinds[m]
	if !ok {
		return store.InventoryEntry{}, false
	}
	var probe store.InventoryEntry
	*fieldOf(&probe, kind) = identifier
	probe.Platform = "linux"
	n, err := Normalize(probe)
	if err != nil {
		return store.InventoryEntry{}, false
	}
	i, ok := x.find(kind, *fieldOf(&n, kind))
	if !ok {
		return store.InventoryEntry{}, false
	}
	return x.entries[i], true
}

func (x *Index) find(kind int, v string) (int, bool) {
	if v == "" {
		return 0, false
	}
	i, ok := x.byIdentifier[kind][v]
	return i, ok
}
