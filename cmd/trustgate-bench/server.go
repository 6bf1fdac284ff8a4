package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// server is a gateway child process serving one Caddyfile.
type server struct {
	name    string
	cmd     *exec.Cmd
	url     string // the site, http://127.0.0.1:port
	admin   string // the admin endpoint
	port    int
	dir     string
	config  string
	logPath string
	env     []string
	done    chan struct{}
}

// startServer writes cfg as the Caddyfile in dir and runs this binary as
// Caddy on it. The child's config and data directories are inside dir; its
// output goes to dir/server.log.
func startServer(name, dir, cfg string, port, adminPort int, extraEnv ...string) (*server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("making the %s server's directory: %w", name, err)
	}
	config := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("writing the %s server's Caddyfile: %w", name, err)
	}
	env := append(os.Environ(),
		"HOME="+dir,
		"XDG_DATA_HOME="+filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
	)
	s := &server{
		name: name, dir: dir, config: config, port: port,
		url:     fmt.Sprintf("http://127.0.0.1:%d", port),
		admin:   fmt.Sprintf("http://127.0.0.1:%d", adminPort),
		logPath: filepath.Join(dir, "server.log"),
		env:     append(env, extraEnv...),
	}
	return s, s.start()
}

// start runs the process and waits until it accepts connections.
func (s *server) start() error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this binary to run the %s server: %w", s.name, err)
	}
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening the %s server's log: %w", s.name, err)
	}
	defer logFile.Close()
	s.cmd = exec.Command(self, serveCommand, "run", "--config", s.config, "--adapter", "caddyfile")
	s.cmd.Dir, s.cmd.Env = s.dir, s.env
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	// Its own process group: a Ctrl-C to the bench reaches it through the
	// bench's cleanup, not twice.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting the %s server: %w", s.name, err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("the %s server exited at start:\n%s", s.name, s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("the %s server did not accept connections within a minute:\n%s", s.name, s.logTail())
		}
	}
}

// restart stops the process and runs it again on the same config and data.
func (s *server) restart() error {
	s.stop()
	return s.start()
}

// pid is the server process's ID.
func (s *server) pid() int { return s.cmd.Process.Pid }

// cpu is the CPU time the server has used so far.
func (s *server) cpu() (time.Duration, error) {
	if s.exited() {
		return 0, fmt.Errorf("the %s server exited:\n%s", s.name, s.logTail())
	}
	return processCPU(s.pid())
}

// rss is the server's resident memory in bytes.
func (s *server) rss() (int64, error) {
	if s.exited() {
		return 0, fmt.Errorf("the %s server exited:\n%s", s.name, s.logTail())
	}
	return processRSS(s.pid())
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop interrupts the server and waits for it, killing it after 10 s.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// logTail is the end of the server's log, for error messages.
func (s *server) logTail() string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	const keep = 4000
	text := string(data)
	if len(text) > keep {
		text = "…" + text[len(text)-keep:]
	}
	return strings.TrimRight(text, "\n")
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
