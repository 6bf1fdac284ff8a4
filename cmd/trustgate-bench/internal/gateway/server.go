// Package gateway runs the servers trustgate-bench measures. The bench
// binary re-executes itself with a hidden first argument (IsServeInvocation,
// Serve) as Caddy with trustgate's modules, on a Caddyfile it writes:
// plain reverse_proxy (PlainConfig) or trusted_endpoints in front of the
// same proxy (GatedConfig), on SQLite or on a fresh PostgreSQL database
// (FreshDatabase). A Server is one such child process: it starts, restarts
// and stops it, reads its CPU time and memory from /proc and from Caddy's
// admin endpoint, and gives the end of its log for error messages.
package gateway

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/proc"
)

// Server is a gateway child process serving one Caddyfile.
type Server struct {
	// URL is the site, http://127.0.0.1:port.
	URL string

	// Admin is Caddy's admin endpoint, http://127.0.0.1:adminPort: the
	// activations API, the metrics and the Go runtime's figures.
	Admin string

	name    string
	cmd     *exec.Cmd
	port    int
	dir     string
	config  string
	logPath string
	env     []string
	done    chan struct{}
}

// Start writes cfg as the Caddyfile in dir and runs this binary as
// Caddy on it. The child's config and data directories are inside dir; its
// output goes to dir/server.log.
func Start(name, dir, cfg string, port, adminPort int, extraEnv ...string) (*Server, error) {
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
	s := &Server{
		name: name, dir: dir, config: config, port: port,
		URL:     fmt.Sprintf("http://127.0.0.1:%d", port),
		Admin:   fmt.Sprintf("http://127.0.0.1:%d", adminPort),
		logPath: filepath.Join(dir, "server.log"),
		env:     append(env, extraEnv...),
	}
	return s, s.start()
}

// start runs the process and waits until it accepts connections.
func (s *Server) start() error {
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
			return fmt.Errorf("the %s server exited at start:\n%s", s.name, s.LogTail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("the %s server did not accept connections within a minute:\n%s", s.name, s.LogTail())
		}
	}
}

// Restart stops the process and runs it again on the same config and data.
func (s *Server) Restart() error {
	s.Stop()
	return s.start()
}

// pid is the server process's ID.
func (s *Server) pid() int { return s.cmd.Process.Pid }

// CPU is the CPU time the server has used so far.
func (s *Server) CPU() (time.Duration, error) {
	if s.exited() {
		return 0, fmt.Errorf("the %s server exited:\n%s", s.name, s.LogTail())
	}
	return proc.CPU(s.pid())
}

// RSS is the server's resident memory in bytes.
func (s *Server) RSS() (int64, error) {
	if s.exited() {
		return 0, fmt.Errorf("the %s server exited:\n%s", s.name, s.LogTail())
	}
	return proc.RSS(s.pid())
}

func (s *Server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Stop interrupts the server and waits for it, killing it after 10 s.
func (s *Server) Stop() {
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

// LogTail is the end of the server's log, for error messages.
func (s *Server) LogTail() string {
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
