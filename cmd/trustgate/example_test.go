package main

import (
	"encoding/json"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestExampleListensOnLoopbackOnly adapts Caddyfile.example and checks the
// listen addresses of every server: the demo's password is published, so
// nothing may listen beyond loopback, and the gateway listens on both
// loopback addresses, so that http://localhost:8080 works whichever one a
// browser picks.
func TestExampleListensOnLoopbackOnly(t *testing.T) {
	adapt := exec.Command(binary, "adapt", "--config", "Caddyfile.example")
	adapt.Dir, adapt.Env = repoRoot(t), isolatedEnv(t)
	out, err := adapt.Output()
	if err != nil {
		t.Fatalf("adapt: %v", err)
	}
	var cfg struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Listen []string `json:"listen"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("adapt output: %v\n%s", err, out)
	}
	var gateway []string
	for name, srv := range cfg.Apps.HTTP.Servers {
		if len(srv.Listen) == 0 {
			t.Errorf("server %s has no listen address, so it listens on every interface", name)
		}
		for _, addr := range srv.Listen {
			_, hostPort, _ := strings.Cut(addr, "/")
			if !strings.Contains(addr, "/") {
				hostPort = addr
			}
			host, port, err := net.SplitHostPort(hostPort)
			if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
				t.Errorf("server %s listens on %q, not on loopback only", name, addr)
			}
			if port == "8080" {
				gateway = append(gateway, host)
			}
		}
	}
	slices.Sort(gateway)
	if !slices.Equal(gateway, []string{"127.0.0.1"}) {
		t.Errorf("the gateway listens on %q, want 127.0.0.1", gateway)
	}
}
