package gateway

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// StartOnFreePorts runs start on two free ports, the site's and the admin
// endpoint's, trying other ports when another process took one between the
// choice and the listen.
func StartOnFreePorts(start func(port, adminPort int) (*Server, error)) (*Server, error) {
	var err error
	for range 3 {
		var ports []int
		if ports, err = freePorts(2); err != nil {
			return nil, err
		}
		var srv *Server
		if srv, err = start(ports[0], ports[1]); err == nil || !strings.Contains(err.Error(), "address already in use") {
			return srv, err
		}
	}
	return nil, err
}

// freePort returns a loopback TCP port nobody listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("finding a free port: not a TCP address")
	}
	return addr.Port, nil
}

// freePorts returns n distinct free ports.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	seen := map[int]bool{}
	for len(ports) < n {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}
