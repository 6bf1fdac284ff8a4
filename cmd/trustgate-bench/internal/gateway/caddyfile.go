package gateway

import "fmt"

// Storage is where a trustgate server keeps its state.
type Storage struct {
	// Name is "sqlite" or "postgres", for tables and directory names.
	Name string

	// Env is what the storage line's placeholders need: Start it with
	// the server.
	Env []string

	// directive is the global option's storage line.
	directive string
}

// SQLiteStorage keeps the state in the SQLite database at path.
func SQLiteStorage(path string) Storage {
	return Storage{Name: "sqlite", directive: "storage sqlite " + path}
}

// PostgresStorage keeps the state in the PostgreSQL database at dsn, which
// reaches the server through the environment, not the Caddyfile.
func PostgresStorage(dsn string) Storage {
	return Storage{Name: "postgres", directive: "storage postgres {env.TG_BENCH_DSN}", Env: []string{"TG_BENCH_DSN=" + dsn}}
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

// PlainConfig is configuration A: Caddy proxying to the upstream.
func PlainConfig(port, adminPort int, upstreamAddr string) string {
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

// GatedConfig is configuration B: the same proxy with trusted_endpoints in
// front: users-file login, mode block, the mobile check for the pilot group.
// trustFor, when not empty, is the directive's trust_for.
func GatedConfig(port, adminPort int, upstreamAddr, usersPath string, st Storage, trustFor string) string {
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
