package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// These tests build the real trustgate binary and run it as a user would.

// binary is the trustgate binary; deviceBinary the reference agent.
var binary, deviceBinary string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("skipping trustgate binary tests in -short mode")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "trustgate-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "trustgate")
	deviceBinary = filepath.Join(dir, "trustgate-device")
	for out, pkg := range map[string]string{binary: ".", deviceBinary: "../trustgate-device"} {
		build := exec.Command("go", "build", "-o", out, pkg)
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Println("building", pkg+":", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is where Caddyfile.example and its users file live.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// isolatedEnv points Caddy's config and data directories into a temp dir.
func isolatedEnv(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	return append(os.Environ(),
		"HOME="+home,
		"XDG_DATA_HOME="+filepath.Join(home, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
	)
}

func runTrustgate(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("trustgate %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestListModulesShowsTrustgateModules(t *testing.T) {
	out := runTrustgate(t, repoRoot(t), isolatedEnv(t), "list-modules")
	for _, id := range []string{"trusted_endpoints", "http.handlers.trusted_endpoints", "admin.api.trusted_endpoints", "http.handlers.reverse_proxy"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(id) + `$`).MatchString(out) {
			t.Errorf("list-modules lacks %s", id)
		}
	}
}

func TestValidateAndAdaptCaddyfileExample(t *testing.T) {
	env := isolatedEnv(t)
	out := runTrustgate(t, repoRoot(t), env, "validate", "--config", "Caddyfile.example")
	if !strings.Contains(out, "Valid configuration") {
		t.Fatalf("validate: %s", out)
	}
	adapt := exec.Command(binary, "adapt", "--config", "Caddyfile.example")
	adapt.Dir, adapt.Env = repoRoot(t), env
	jsonOut, err := adapt.Output() // stdout only: the JSON
	if err != nil {
		t.Fatalf("adapt: %v", err)
	}
	adapted := string(jsonOut)
	var cfg struct {
		Apps map[string]json.RawMessage `json:"apps"`
	}
	if err := json.Unmarshal([]byte(adapted), &cfg); err != nil {
		t.Fatalf("adapt output is not JSON: %v\n%s", err, adapted)
	}
	if _, ok := cfg.Apps["trusted_endpoints"]; !ok {
		t.Fatal("adapted config has no trusted_endpoints app")
	}
	if !strings.Contains(adapted, `"handler":"trusted_endpoints"`) {
		t.Fatal("adapted config has no trusted_endpoints handler")
	}
}

func TestHashPasswordMakesHashesTheUsersFileAccepts(t *testing.T) {
	env := isolatedEnv(t)
	dir := t.TempDir()
	var users strings.Builder
	users.WriteString("users:\n")
	for i, alg := range []string{"argon2id", "bcrypt"} {
		hash := strings.TrimSpace(runTrustgate(t, dir, env, "hash-password", "--algorithm", alg, "--plaintext", "s3cret-pass"))
		fmt.Fprintf(&users, "  - username: user%d\n    password_hash: %q\n", i, hash)
	}
	usersPath := filepath.Join(dir, "users.yaml")
	if err := os.WriteFile(usersPath, []byte(users.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := startGateway(t, env, dir, usersPath)
	defer gw.stop()
	for _, user := range []string{"user0", "user1"} {
		c := newClient(t)
		if status := c.login(gw.url, user, "s3cret-pass"); status != http.StatusSeeOther {
			t.Fatalf("%s: login status %d", user, status)
		}
	}
}

func TestExampleServesDemoBehindLogin(t *testing.T) {
	// The README's first command is what launchExample runs (with the
	// ports changed), and the address it opens is the example's gateway.
	intro := readmeSection(t, "## Two commands")
	if cmds := shellCommands(t, intro); len(cmds) == 0 || strings.Join(cmds[0], " ") != "go run ./cmd/trustgate run --config Caddyfile.example" {
		t.Fatalf("the README's first command is not the one this test runs: %q", cmds)
	}
	env := isolatedEnv(t)
	root := repoRoot(t)
	example, err := os.ReadFile(filepath.Join(root, "Caddyfile.example"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(intro, "Open <http://localhost:8080>") || !strings.Contains(string(example), "\nhttp://localhost:8080 {") {
		t.Fatal("the README opens another address than the example's gateway site")
	}
	gw, _ := launchExample(t, env, root, example)
	defer gw.stop()

	c := newClient(t)
	if status := c.login(gw.url, "alice", "trustgate-demo"); status != http.StatusSeeOther {
		t.Fatalf("demo login: %d", status)
	}
	status, body := c.get(gw.url + "/")
	if status != http.StatusOK || !strings.Contains(body, "Hello, alice!") || !strings.Contains(body, "X-Trustgate-Groups: staff,pilot") {
		t.Fatalf("demo app: %d\n%s", status, body)
	}
}

// launchExample runs Caddyfile.example on free ports, with the admin
// endpoint moved off 2019, and returns it with its admin URL.
func launchExample(t *testing.T, env []string, root string, example []byte) (*gateway, string) {
	t.Helper()
	gatePort, appPort, adminPort := freePort(t), freePort(t), freePort(t)
	cfg := strings.ReplaceAll(string(example), ":8080", fmt.Sprintf(":%d", gatePort))
	cfg = strings.ReplaceAll(cfg, ":8081", fmt.Sprintf(":%d", appPort))
	cfg = strings.Replace(cfg, "{\n", fmt.Sprintf("{\n\tadmin localhost:%d\n", adminPort), 1)
	cfgPath := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return launch(t, env, root, cfgPath, gatePort), fmt.Sprintf("http://localhost:%d", adminPort)
}

// runDevice runs the reference agent with its state in stateDir.
func runDevice(t *testing.T, stateDir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(deviceBinary, append(args, "--state", stateDir)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("trustgate-device %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestExampleDeviceFlowWithReferenceAgent runs the README's "Try the whole
// flow on one machine" as written: its commands, taken from the README
// (curl, the reference agent's activate and verify), against the example's
// gateway, with only the ports changed (as for the Caddyfile) and the
// values the reader copies ("...") filled in; the browser steps are a
// client that says it is Chrome on Android.
func TestExampleDeviceFlowWithReferenceAgent(t *testing.T) {
	cmds := shellCommands(t, readmeSection(t, "### Try the whole flow on one machine"))
	if len(cmds) != 3 || cmds[0][0] != "curl" || strings.Join(cmds[1][:3], " ") != "go run ./cmd/trustgate-device" || cmds[1][3] != "activate" || cmds[2][3] != "verify" {
		t.Fatalf("the README's commands are not curl, trustgate-device activate, trustgate-device verify: %q", cmds)
	}
	env := isolatedEnv(t)
	root := repoRoot(t)
	example, err := os.ReadFile(filepath.Join(root, "Caddyfile.example"))
	if err != nil {
		t.Fatal(err)
	}
	gw, admin := launchExample(t, env, root, example)
	defer gw.stop()
	// Only the ports change, as in launchExample.
	ports := strings.NewReplacer("localhost:2019", strings.TrimPrefix(admin, "http://"), "localhost:8080", strings.TrimPrefix(gw.url, "http://"))
	run := func(args []string) string {
		t.Helper()
		name := args[0]
		if strings.Join(args[:3], " ") == "go run ./cmd/trustgate-device" {
			name, args = deviceBinary, args[2:]
		}
		cmd := exec.Command(name, args[1:]...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	for _, c := range cmds {
		for i := range c {
			c[i] = ports.Replace(c[i])
		}
	}

	// 1. An activation code for alice from the admin API.
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("the README's first command needs curl")
	}
	var issued struct {
		Code  string            `json:"code"`
		Links map[string]string `json:"links"`
	}
	if answer := run(cmds[0]); json.Unmarshal([]byte(answer), &issued) != nil || issued.Code == "" {
		t.Fatalf("activation answer: %s", answer)
	}
	// 2. Activate the "phone" with the link from the answer.
	activate := cmds[1]
	for i, a := range activate {
		if strings.HasSuffix(a, "...") {
			activate[i] = fillIn(t, a, issued.Links["https"])
		}
	}
	run(activate)

	// 3. Sign in as alice in a browser that says it is an Android phone
	// and copy the prompt's "Try the app link" address.
	c := newClient(t)
	c.ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
	if status := c.login(gw.url, "alice", "trustgate-demo"); status != http.StatusSeeOther {
		t.Fatalf("login: %d", status)
	}
	status, page := c.get(gw.url + "/.trustgate/verify")
	m := regexp.MustCompile(`href="([^"]+)">Try the app link<`).FindStringSubmatch(page)
	if status != http.StatusOK || m == nil {
		t.Fatalf("prompt: %d\n%s", status, page)
	}
	// 4. The agent checks and approves; the return link it prints opens
	// in that browser.
	verify := cmds[2]
	for i, a := range verify {
		if strings.HasSuffix(a, "...") {
			verify[i] = fillIn(t, a, html.UnescapeString(m[1]))
		}
	}
	out := run(verify)
	ret := regexp.MustCompile(`http://\S+/\.trustgate/return\?\S+`).FindString(out)
	if ret == "" {
		t.Fatalf("verify printed no return link:\n%s", out)
	}
	if status, _ := c.get(ret); status != http.StatusSeeOther {
		t.Fatalf("return link: %d; the agent said:\n%s", status, out)
	}
	status, body := c.get(gw.url + "/")
	if status != http.StatusOK || !strings.Contains(body, "X-Trustgate-Device-Trust: trusted") {
		t.Fatalf("demo app after the check: %d\n%s", status, body)
	}
}

func TestSessionSurvivesRestart(t *testing.T) {
	env := isolatedEnv(t)
	dir := t.TempDir()
	usersPath := filepath.Join(repoRoot(t), "docs", "demo", "users.yaml")
	gw := startGateway(t, env, dir, usersPath)
	c := newClient(t)
	if status := c.login(gw.url, "bob", "trustgate-demo"); status != http.StatusSeeOther {
		t.Fatalf("login: %d", status)
	}
	if status, body := c.get(gw.url + "/"); status != http.StatusOK || !strings.Contains(body, "user=bob") {
		t.Fatalf("before restart: %d %s", status, body)
	}
	// Kill hard: nothing gets a chance to flush.
	gw.kill()

	gw = launch(t, env, dir, gw.config, gw.port)
	defer gw.stop()
	if status, body := c.get(gw.url + "/"); status != http.StatusOK || !strings.Contains(body, "user=bob") {
		t.Fatalf("after restart the session no longer works: %d %s", status, body)
	}
}

func TestLockoutHoldsAcrossInstances(t *testing.T) {
	env := isolatedEnv(t)
	dir := t.TempDir()
	usersPath := filepath.Join(repoRoot(t), "docs", "demo", "users.yaml")
	// Two instances sharing one store, as behind a load balancer.
	a := startGateway(t, env, dir, usersPath)
	defer a.stop()
	b := startGateway(t, env, dir, usersPath)
	defer b.stop()

	c := newClient(t)
	for i := range 3 {
		if status := c.login(a.url, "alice", fmt.Sprintf("guess-%d", i)); status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d on instance A: %d", i, status)
		}
	}
	// The fourth attempt, with the right password, on the other instance.
	if status := c.login(b.url, "alice", "trustgate-demo"); status != http.StatusTooManyRequests {
		t.Fatalf("instance B after 3 failures on A: %d, want 429", status)
	}
	// bob is not affected.
	if status := c.login(b.url, "bob", "trustgate-demo"); status != http.StatusSeeOther {
		t.Fatalf("bob on B: %d", status)
	}
}

// gateway is a running trustgate process.
type gateway struct {
	cmd    *exec.Cmd
	url    string
	port   int
	config string
	done   chan struct{}
}

// startGateway writes a Caddyfile that protects a respond handler echoing
// the user header, with the given users file, and runs it.
func startGateway(t *testing.T, env []string, dir, usersPath string) *gateway {
	t.Helper()
	port, adminPort := freePort(t), freePort(t)
	cfg := fmt.Sprintf(`{
	admin localhost:%d
	persist_config off
	trusted_endpoints {
		storage sqlite %s
	}
}
http://localhost:%d {
	trusted_endpoints {
		login users_file %s
		lockout 3 15m
	}
	respond "user={http.request.header.X-Trustgate-User}"
}
`, adminPort, filepath.Join(dir, "tg.db"), port, usersPath)
	cfgPath := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return launch(t, env, dir, cfgPath, port)
}

func launch(t *testing.T, env []string, dir, cfgPath string, port int) *gateway {
	t.Helper()
	cmd := exec.Command(binary, "run", "--config", cfgPath, "--adapter", "caddyfile")
	cmd.Dir, cmd.Env = dir, env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	gw := &gateway{cmd: cmd, url: fmt.Sprintf("http://localhost:%d", port), port: port, config: cfgPath, done: make(chan struct{})}
	logs := make(chan string, 1)
	go func() {
		var all strings.Builder
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			all.WriteString(s.Text() + "\n")
		}
		logs <- all.String()
	}()
	go func() { _ = cmd.Wait(); close(gw.done) }()
	t.Cleanup(gw.kill)

	// Wait until it serves, or fail with its logs.
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			conn.Close()
			return gw
		}
		select {
		case <-gw.done:
			t.Fatalf("trustgate exited at start:\n%s", <-logs)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			gw.kill()
			t.Fatalf("trustgate did not start serving:\n%s", <-logs)
		}
	}
}

func (g *gateway) kill() {
	if g.cmd.Process != nil {
		_ = g.cmd.Process.Kill()
	}
	<-g.done
}

func (g *gateway) stop() {
	if g.cmd.Process != nil {
		_ = g.cmd.Process.Signal(os.Interrupt)
	}
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		g.kill()
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type client struct {
	t  *testing.T
	c  *http.Client
	ua string
}

func newClient(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, c: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *client) get(u string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/html")
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login fills in the gateway's login form and returns the post's status.
func (c *client) login(base, user, password string) int {
	c.t.Helper()
	status, body := c.get(base + "/.trustgate/login")
	m := csrfField.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		c.t.Fatalf("login form: %d\n%s", status, body)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/.trustgate/login",
		strings.NewReader(url.Values{"csrf": {m[1]}, "username": {user}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
