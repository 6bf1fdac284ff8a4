package gateway

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// GoMemory is what the gateway's Go runtime says it holds, read from the
// admin endpoint (Caddy serves expvar's /debug/vars and pprof there).
type GoMemory struct {
	// HeapInuse is the bytes in heap spans with at least one object:
	// live objects and the garbage not yet collected.
	HeapInuse int64
	// StackInuse is the bytes of goroutine stacks.
	StackInuse int64
	// Sys is everything the runtime has mapped.
	Sys int64
	// NumGC is how many garbage collections have run.
	NumGC int64
	// Goroutines is how many goroutines there are.
	Goroutines int64
}

// adminGet reads u from the admin endpoint over a connection of its own,
// closed after the answer, so the reads cost the gateway nothing between
// them.
func adminGet(u string) (*http.Response, error) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	return client.Get(u)
}

// GoMemory reads the server's runtime memory figures and goroutine count.
func (s *Server) GoMemory() (GoMemory, error) {
	var m GoMemory
	resp, err := adminGet(s.Admin + "/debug/vars")
	if err != nil {
		return m, fmt.Errorf("reading the %s server's memory statistics: %w", s.name, err)
	}
	var vars struct {
		Memstats struct {
			HeapInuse, StackInuse, Sys int64
			NumGC                      int64
		} `json:"memstats"`
	}
	err = json.NewDecoder(resp.Body).Decode(&vars)
	resp.Body.Close()
	if err != nil {
		return m, fmt.Errorf("decoding the %s server's memory statistics: %w", s.name, err)
	}
	m.HeapInuse, m.StackInuse, m.Sys, m.NumGC = vars.Memstats.HeapInuse, vars.Memstats.StackInuse, vars.Memstats.Sys, vars.Memstats.NumGC
	if m.Goroutines, err = s.goroutines(); err != nil {
		return m, err
	}
	return m, nil
}

// Collect makes the server run a garbage collection (the heap profile's
// gc=1), so that the heap figures read next count live memory, not
// whatever garbage the last collection left.
func (s *Server) Collect() error {
	resp, err := adminGet(s.Admin + "/debug/pprof/heap?gc=1")
	if err != nil {
		return fmt.Errorf("collecting the %s server's garbage: %w", s.name, err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("collecting the %s server's garbage: %w", s.name, err)
	}
	return nil
}

// goroutines reads the goroutine count from the first line of the text
// goroutine profile ("goroutine profile: total N").
func (s *Server) goroutines() (int64, error) {
	resp, err := adminGet(s.Admin + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, fmt.Errorf("reading the %s server's goroutines: %w", s.name, err)
	}
	defer resp.Body.Close()
	first, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("reading the %s server's goroutines: %w", s.name, err)
	}
	_, total, ok := strings.Cut(strings.TrimSpace(first), "total ")
	if !ok {
		return 0, fmt.Errorf("reading the %s server's goroutines: unexpected profile header %q", s.name, first)
	}
	n, err := strconv.ParseInt(total, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading the %s server's goroutines: %w", s.name, err)
	}
	return n, nil
}

// SaveProfiles writes the server's heap and goroutine profiles into its
// directory, as name-heap.pb.gz and name-goroutine.txt, for
// `go tool pprof` after a -keep run.
func (s *Server) SaveProfiles(name string) error {
	for _, p := range []struct{ path, file string }{
		{"/debug/pprof/heap", name + "-heap.pb.gz"},
		{"/debug/pprof/goroutine?debug=1", name + "-goroutine.txt"},
	} {
		if err := s.saveURL(s.Admin+p.path, filepath.Join(s.dir, p.file)); err != nil {
			return err
		}
	}
	return nil
}

// saveURL writes what the admin endpoint answers at u into the file path.
func (s *Server) saveURL(u, path string) error {
	resp, err := adminGet(u)
	if err != nil {
		return fmt.Errorf("saving %s: %w", u, err)
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("saving %s: %w", u, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("saving %s: %w", u, err)
	}
	return f.Close()
}
