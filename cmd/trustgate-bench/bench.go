package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// bench is what every run shares: the options, a temporary directory, the
// upstream and a users file.
type bench struct {
	opts      options
	dir       string
	upstream  *upstream
	usersPath string
}

func newBench(o options) (*bench, error) {
	dir, err := os.MkdirTemp("", "trustgate-bench-")
	if err != nil {
		return nil, fmt.Errorf("making a temporary directory: %w", err)
	}
	b := &bench{opts: o, dir: dir, usersPath: filepath.Join(dir, "users.yaml")}
	users := o.verifyUsers
	if slices.Contains(o.runs, "pending") {
		users = max(users, o.pending)
	}
	users = max(users, o.verifyWorkers)
	if err := writeUsersFile(b.usersPath, users); err != nil {
		b.close()
		return nil, err
	}
	if b.upstream, err = startUpstream(); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// serverDir is a fresh directory for one server of a run.
func (b *bench) serverDir(name string) string {
	return filepath.Join(b.dir, name)
}

// startGated runs configuration B on storage st, with trustFor as its
// trust_for (empty: the default).
func (b *bench) startGated(name string, st storage, trustFor string) (*server, error) {
	return startOnFreePorts(func(port, adminPort int) (*server, error) {
		cfg := gatedConfig(port, adminPort, b.upstream.addr, b.usersPath, st, trustFor)
		return startServer(name, b.serverDir(name), cfg, port, adminPort, st.env...)
	})
}

// startPlain runs configuration A.
func (b *bench) startPlain(name string) (*server, error) {
	return startOnFreePorts(func(port, adminPort int) (*server, error) {
		return startServer(name, b.serverDir(name), plainConfig(port, adminPort, b.upstream.addr), port, adminPort)
	})
}

// startOnFreePorts starts a server on two free ports, trying other ports
// when another process took one between the choice and the listen.
func startOnFreePorts(start func(port, adminPort int) (*server, error)) (*server, error) {
	var err error
	for range 3 {
		var ports []int
		if ports, err = freePorts(2); err != nil {
			return nil, err
		}
		var srv *server
		if srv, err = start(ports[0], ports[1]); err == nil || !strings.Contains(err.Error(), "address already in use") {
			return srv, err
		}
	}
	return nil, err
}

func (b *bench) close() {
	if b.upstream != nil {
		b.upstream.close()
	}
	if !b.opts.keep {
		os.RemoveAll(b.dir)
	}
}
