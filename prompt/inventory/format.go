package inventory

import (
	"fmt"
	"mime"
	"strings"
)

// Format is how an upload is written.
type Format string

// The formats of an upload.
const (
	// FormatCSV is comma-separated values with a header row naming the
	// columns: fingerprint, serial, san_uri, hardware_serial, platform,
	// owner and label, in any order and any case; only the columns an
	// export has need be there, but a platform column and at least one
	// identifier column must. An unknown column is an error, so that a
	// misspelt name never drops an identifier silently. Blank lines, and
	// rows whose fields are all blank (as spreadsheets write them), are
	// skipped; a UTF-8 byte order mark is ignored; fields may be quoted
	// as RFC 4180 says.
	FormatCSV Format = "csv"
	// FormatJSON is either one JSON array of objects or JSON lines (one
	// object per line; any white space between objects will do), told
	// apart by the first character. An object has the keys of the CSV
	// columns, in any case, with string values (null is the same as
	// absent); an unknown or repeated key is an error.
	FormatJSON Format = "json"
)

// ParseFormat returns the format that name stands for: "csv" or "json"
// (also "jsonl" and "ndjson"), or the media type of an upload
// (text/csv, application/json, application/jsonl, application/x-ndjson;
// parameters such as charset=utf-8 are ignored).
func ParseFormat(name string) (Format, error) {
	word := strings.ToLower(strings.TrimSpace(name))
	if strings.Contains(word, "/") {
		mediaType, _, err := mime.ParseMediaType(word)
		if err != nil {
			return "", fmt.Errorf("upload format %q: %v", truncate(name), err)
		}
		word = mediaType
	}
	switch word {
	case "csv", "text/csv":
		return FormatCSV, nil
	case "json", "jsonl", "ndjson", "application/json", "application/jsonl", "application/x-ndjson":
		return FormatJSON, nil
	}
	return "", fmt.Errorf("upload format %q: want csv or json", truncate(name))
}
