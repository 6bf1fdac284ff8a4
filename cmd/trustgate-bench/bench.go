package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/gateway"
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
func (b *bench) startGated(name string, st gateway.Storage, trustFor string) (*gateway.Server, error) {
	return gateway.StartOnFreePorts(func(port, adminPort int) (*gateway.Server, error) {
		cfg := gateway.GatedConfig(port, adminPort, b.upstream.addr, b.usersPath, st, trustFor)
		return gateway.Start(name, b.serverDir(name), cfg, port, adminPort, st.Env...)
	})
}

// startPlain runs configuration A.
func (b *bench) startPlain(name string) (*gateway.Server, error) {
	return gateway.StartOnFreePorts(func(port, adminPort int) (*gateway.Server, error) {
		return gateway.Start(name, b.serverDir(name), gateway.PlainConfig(port, adminPort, b.upstream.addr), port, adminPort)
	})
}

func (b *bench) close() {
	if b.upstream != nil {
		b.upstream.close()
	}
	if !b.opts.keep {
		os.RemoveAll(b.dir)
	}
}
