package main

import "fmt"

// storage is where a trustgate server keeps its state.
type storage struct {
	name string // "sqlite" or "postgres", for tables
	// directive is the global option's storage line.
	directive string
	// env is what the directive's placeholders need.
	env []string
}

func sqliteStorage(path string) storage {
	return storage{name: "sqlite", directive: "storage sqlite " + path}
}

func postgresStorage(dsn string) storage {
	return storage{name: "postgres", directive: "storage postgres {env.TG_BENCH_DSN}", env: []string{"TG_BENCH_DSN=" + dsn}}
}

// proxyBlock is the reverse_proxy both configurations share, so that they
// differ only by the gate in front of it.
func proxyBlock(upstreamAddr string) string {
	return fmt.Sprintf(`reverse_proxy %s {
		transport http {
			keepalive 2m
			keepalive_idle_conns 1024
			keepalive_idle_conns_per_host 1024
		}
	}`, upstreamAddr)
}

// plainConfig is configuration A: Caddy proxying to the upstream.
func plainConfig(port, adminPort int, upstreamAddr string) string {
	return fmt.Sprintf(`{
	admin 127.0.0.1:%d
	persist_config off
}

http://:%d {
	bind 127.0.0.1
	%s
}
`, adminPort, port, proxyBlock(upstreamAddr))
}

// gatedConfig is configuration B: the same proxy with trusted_endpoints in
// front: users-file login, mode block, the mobile check for the pilot group.
// trustFor, when not empty, is the directive's trust_for.
func gatedConfig(port, adminPort int, upstreamAddr, usersPath string, st storage, trustFor string) string {
	if trustFor != "" {
		trustFor = "\n\t\ttrust_for " + trustFor
	}
	return fmt.Sprintf(`{
	admin 127.0.0.1:%d
	persist_config off
	trusted_endpoints {
		%s
	}
}

http://:%d {
	bind 127.0.0.1
	trusted_endpoints {
		application bench
		login users_file %s
		mode block%s
		mobile {
			enable groups pilot
			require screen_lock
		}
	}
	%s
}
`, adminPort, st.directive, port, usersPath, trustFor, proxyBlock(upstreamAddr))
}
