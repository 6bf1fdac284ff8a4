package store

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// Migration is one numbered schema step of a SQL backend. Applying steps
// 1..Version gives the schema of that version. A released step is never
// edited; a change is a new step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations reads the steps in directory dir of fsys, files named
// NNNN_name.sql, and returns them in order. It fails unless they are
// numbered 1, 2, 3... without gaps. Both SQL backends embed their steps and
// load them with it.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	var steps []Migration
	for _, e := range entries { // ReadDir sorts by name
		prefix, _, ok := strings.Cut(e.Name(), "_")
		version, err := strconv.Atoi(prefix)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name does not start with NNNN_", e.Name())
		}
		if want := len(steps) + 1; version != want {
			return nil, fmt.Errorf("migration %s: version %d, want %d", e.Name(), version, want)
		}
		text, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", e.Name(), err)
		}
		steps = append(steps, Migration{Version: version, Name: e.Name(), SQL: string(text)})
	}
	return steps, nil
}
