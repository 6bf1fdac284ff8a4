package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

// runWith runs the command line in-process with stdin and a context.
func runWith(ctx context.Context, stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	c := &cli{ctx: ctx, stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, now: time.Now}
	code = c.run(args)
	return code, out.String(), errOut.String()
}

// newGateway starts a real gate whose policy requires a screen lock and an
// untampered phone and warns about biometrics (gatetest.AgentPolicy).
func newGateway(t *testing.T) *gatetest.Gateway {
	t.Helper()
	return gatetest.New(t, gatetest.Options{Policy: gatetest.AgentPolicy})
}

// activateIn activates the device in dir (creating its key) for user on g
// and returns its device ID.
func activateIn(t *testing.T, g *gatetest.Gateway, dir, user string) string {
	t.Helper()
	_, link := g.IssueActivation(t, user)
	code, stdout, stderr := runCLI(t, "activate", link, "--state", dir, "-platform", "android", "-model", "Pixel 8", "-os", "14")
	if code != exitOK {
		t.Fatalf("activate exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "activated for user "+user) {
		t.Errorf("activate printed %q", stdout)
	}
	id, _ := idIn(t, dir)
	return id
}

func TestActivateCommandStoresActivationInPrivateFile(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	dir := filepath.Join(t.TempDir(), "state")
	id := activateIn(t, g, dir, "alice")
	info, err := os.Stat(filepath.Join(dir, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("state file mode %04o, want 0600", perm)
	}
	s, err := loadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Activations) != 1 {
		t.Fatalf("activations %+v", s.Activations)
	}
	act := s.Activations[0]
	d := g.Device(t, id)
	if act.User != "alice" || act.DeviceID != id || act.Origin != g.URL || !act.Allows(g.URL) || act.PasscodeSecret != d.PasscodeSecret {
		t.Errorf("stored activation %+v", act)
	}
	if d.Model != "Pixel 8" || d.OSVersion != "14" {
		t.Errorf("gateway record %+v", d)
	}
	// Activating the same key again is refused by the gateway, with a hint.
	_, link := g.IssueActivation(t, "alice")
	code, _, stderr := runCLI(t, "activate", link, "--state", dir)
	if code != exitError || !strings.Contains(stderr, "conflict") || !strings.Contains(stderr, "keygen --force") {
		t.Errorf("second activation: exit %d, stderr %q", code, stderr)
	}
}

func TestVerifyCommandReportsFactsAndApprovesInlinePush(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	dir := t.TempDir()
	activateIn(t, g, dir, "alice")
	profile := filepath.Join(t.TempDir(), "pixel.json")
	if err := os.WriteFile(profile, []byte(`{"platform":"android","os_version":"13","screen_lock":false,"biometrics":false,"tampered":false}`), 0o600); err != nil {
		t.Fatal(err)
	}
	appLink, tx := g.StartInline(t, "alice", "")
	challenge := queryOf(t, appLink).Get(protocol.ParamChallenge)
	// The HTTPS form of the link, flags after it; --screen-lock and --os
	// override the profile.
	link := g.URL + protocol.VerifyLinkPath + "?" + url.Values{"tx": {tx}, "challenge": {challenge}}.Encode()
	code, stdout, stderr := runCLI(t, "verify", link, "--state", dir, "--profile", profile, "--screen-lock", "--os", "14", "--patch", "2026-10-05")
	if code != exitOK {
		t.Fatalf("verify exit %d: %s", code, stderr)
	}
	for _, want := range []string{"device trusted", "warnings:", "biometrics (no_biometrics)", "required from " + gatetest.BiometricsDeadline.Format(time.DateOnly), "approved", g.URL + protocol.ReturnPath + "?"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	var facts map[string]any
	if err := json.Unmarshal(g.Reported(tx), &facts); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"platform": "android", "os_version": "14", "security_patch": "2026-10-05", "screen_lock": true, "biometrics": false, "tampered": false, "model": "Pixel 8", "app_version": appVersion}
	for k, v := range want {
		if facts[k] != v {
			t.Errorf("reported %s = %v, want %v (all: %v)", k, facts[k], v, facts)
		}
	}
	if _, ok := facts["disk_encryption"]; ok {
		t.Error("disk_encryption reported though given nowhere")
	}
}

func TestVerifyCommandShowsFailuresAndAsks(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	dir := t.TempDir()
	activateIn(t, g, dir, "alice")
	link, _ := g.StartInline(t, "alice", "")
	code, stdout, stderr := runWith(context.Background(), "fraud\n", "verify", link, "--state", dir, "--screen-lock=false", "--tampered=false", "--answer", "ask")
	if code != exitOK {
		t.Fatalf("verify exit %d: %s", code, stderr)
	}
	for _, want := range []string{"device not trusted", "failed requirements:", "Turn on a screen lock", "Approve this login?", "denied"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	push := inlinePushOf(t, stdout)
	if ans := g.Push(t, push); ans.State != store.PushDenied || ans.Answer != protocol.DenyFraud {
		t.Errorf("gateway recorded %+v, want a fraud denial", ans)
	}
}

var loginRequestLine = regexp.MustCompile(`(?m)^login request (\S+):`)

// inlinePushOf returns the ID of the inline push that verify printed.
func inlinePushOf(t *testing.T, stdout string) string {
	t.Helper()
	m := loginRequestLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("verify printed no login request:\n%s", stdout)
	}
	return m[1]
}

// queryOf returns the query of a link.
func queryOf(t *testing.T, link string) url.Values {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestVerifyCommandRefusesOriginNotActivated(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	phish := newGateway(t)
	dir := t.TempDir()
	activateIn(t, g, dir, "alice")
	link, tx := phish.StartInline(t, "alice", "")
	code, stdout, stderr := runCLI(t, "verify", link, "--state", dir, "--screen-lock")
	if code != exitError || !strings.Contains(stderr, "not activated") || !strings.Contains(stderr, phish.URL) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if state := phish.Transaction(t, tx).State; stdout != "" || state != store.TransactionPending {
		t.Errorf("stdout %q; transaction %s", stdout, state)
	}
}

func TestPushCommandsListApproveAndDeny(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	dir := t.TempDir()
	id := activateIn(t, g, dir, "alice")
	code, stdout, _ := runCLI(t, "push", "list", "--state", dir)
	if code != exitOK || !strings.Contains(stdout, "no pending") {
		t.Errorf("empty list: exit %d, %q", code, stdout)
	}
	matching, number := g.PushTo(t, "alice", id)
	plain, _ := g.PushTo(t, "alice", id)
	code, stdout, stderr := runCLI(t, "push", "list", "--state", dir, "--origin", g.URL)
	if code != exitOK || !strings.Contains(stdout, matching) || !strings.Contains(stdout, plain) || !strings.Contains(stdout, "number matching") {
		t.Errorf("list: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "push", "approve", matching, "--number", number, "--state", dir)
	if code != exitOK || !strings.Contains(stdout, "approved") {
		t.Errorf("approve: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, "push", "deny", "--fraud", "--state", dir, plain)
	if code != exitOK {
		t.Errorf("deny: exit %d, stderr %q", code, stderr)
	}
	if ans := g.Push(t, plain); ans.Answer != protocol.DenyFraud {
		t.Errorf("recorded %+v", ans)
	}
	code, _, stderr = runCLI(t, "push", "deny", plain, "--state", dir)
	if code != exitError || !strings.Contains(stderr, "already_answered") {
		t.Errorf("answering twice: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "push", "list", "--state", dir, "--origin", "https://other.example")
	if code != exitError || !strings.Contains(stderr, "not activated for https://other.example") {
		t.Errorf("foreign origin: exit %d, stderr %q", code, stderr)
	}
}

func TestListenAnswersUntilCancelled(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	dir := t.TempDir()
	activateIn(t, g, dir, "alice")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := runWith(ctx, "", "listen", "--approve", "--state", dir)
		done <- result{code, stdout, stderr}
	}()
	wait, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	// A push arriving while listen's long-poll is held is answered.
	if err := g.WaitPolls(wait, 1); err != nil {
		t.Fatal(err)
	}
	// The gate's pushes to another device need the number shown, which
	// listen --approve leaves alone; the inline request of a check this
	// device reports (and leaves unanswered) needs none.
	link, _ := g.StartInline(t, "alice", "")
	code, stdout, stderr := runWith(wait, "", "verify", link, "--state", dir, "--screen-lock", "--tampered=false", "--answer", "ask")
	if code != exitOK || !strings.Contains(stdout, "left unanswered") {
		t.Fatalf("verify: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	p := inlinePushOf(t, stdout)
	ans, err := g.WaitAnswered(wait, p)
	if err != nil {
		t.Fatal(err)
	}
	if ans.State != store.PushApproved {
		t.Errorf("answer %+v", ans)
	}
	// And listen polls on, with the documented wait, until cancelled.
	if err := g.WaitPolls(wait, 2); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case r := <-done:
		if r.code != exitOK || !strings.Contains(r.stdout, p) || !strings.Contains(r.stdout, "approved") {
			t.Errorf("listen: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	case <-wait.Done():
		t.Fatal("listen did not stop when cancelled")
	}
	for _, p := range g.Polls() {
		if p.Wait != "25" {
			t.Errorf("listen polled with wait %q, want 25", p.Wait)
		}
	}
}

func TestPasscodeCommandPrintsValidCode(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	dir := t.TempDir()
	id := activateIn(t, g, dir, "alice")
	code, stdout, stderr := runCLI(t, "passcode", "--state", dir)
	if code != exitOK {
		t.Fatalf("passcode exit %d: %s", code, stderr)
	}
	lines := strings.Split(stdout, "\n")
	if !totp.Validate(lines[0], g.Device(t, id).PasscodeSecret) || !strings.Contains(stdout, "valid for") {
		t.Errorf("passcode printed %q", stdout)
	}
}

func TestAppCommandsRefuseBadInput(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	activated := t.TempDir()
	activateIn(t, g, activated, "alice")
	withKey := t.TempDir()
	keygenIn(t, withKey)
	link, tx := g.StartInline(t, "alice", "")
	cases := []struct {
		name string
		args []string
		want int
		says string
	}{
		{"activate without link", []string{"activate", "--state", withKey}, exitUsage, "missing activation link"},
		{"activate bad link", []string{"activate", "https://gw.example/nope?code=x", "--state", withKey}, exitUsage, "invalid link"},
		{"activate bad platform", []string{"activate", g.ActivationLink("x"), "--platform", "windows", "--state", withKey}, exitUsage, "ios or android"},
		{"activate unknown code", []string{"activate", g.ActivationLink("unknown"), "--state", withKey}, exitError, "not_found"},
		{"verify without link", []string{"verify", "--state", activated}, exitUsage, "missing deep link"},
		{"verify two links", []string{"verify", link, link, "--state", activated}, exitUsage, "unexpected argument"},
		{"verify bad answer", []string{"verify", link, "--answer", "maybe", "--state", activated}, exitUsage, "approve, deny or ask"},
		{"verify bad bool", []string{"verify", link, "--screen-lock=perhaps", "--state", activated}, exitUsage, "screen-lock"},
		{"verify bad platform", []string{"verify", link, "--platform", "symbian", "--state", activated}, exitError, "ios or android"},
		{"verify missing profile", []string{"verify", link, "--profile", filepath.Join(withKey, "none.json"), "--state", activated}, exitError, "profile"},
		{"verify not activated", []string{"verify", link, "--state", withKey}, exitError, "not activated"},
		{"verify link missing challenge", []string{"verify", g.URL + protocol.VerifyLinkPath + "?tx=abc", "--state", activated}, exitUsage, "missing challenge"},
		{"push without subcommand", []string{"push"}, exitUsage, "subcommand"},
		{"push unknown subcommand", []string{"push", "accept", "x"}, exitUsage, "unknown subcommand"},
		{"push approve without ID", []string{"push", "approve", "--state", activated}, exitUsage, "missing push ID"},
		{"listen two modes", []string{"listen", "--approve", "--deny", "--state", activated}, exitUsage, "choose one"},
		{"listen fraud approve", []string{"listen", "--approve", "--fraud", "--state", activated}, exitUsage, "--fraud"},
		{"passcode not activated", []string{"passcode", "--state", withKey}, exitError, "not activated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, c.args...)
			if code != c.want || !strings.Contains(stderr, c.says) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, stderr, c.want, c.says)
			}
		})
	}
	if g.Transaction(t, tx).State != store.TransactionPending {
		t.Error("a refused command line reported facts")
	}
}

// TestPushIDStartingWithDashIsAnArgument: push IDs are random base64url, so
// one in 64 starts with "-"; it must still be read as the ID, not a flag.
func TestPushIDStartingWithDashIsAnArgument(t *testing.T) {
	for _, args := range [][]string{
		{"-XYZ", "--number", "42"},
		{"--number", "42", "-XYZ"},
		{"--number=42", "-XYZ", "--fraud"},
		{"--", "-XYZ", "--number", "42"},
	} {
		fs := flag.NewFlagSet("push approve", flag.ContinueOnError)
		number := fs.String("number", "", "")
		fraud := fs.Bool("fraud", false, "")
		pos, err := parseArgs(fs, args, "push ID")
		if args[0] == "--" {
			if err == nil || !strings.Contains(err.Error(), "unexpected argument") {
				t.Errorf("%q: want the words after -- taken as arguments, got %v, %v", args, pos, err)
			}
			continue
		}
		if err != nil || len(pos) != 1 || pos[0] != "-XYZ" || *number != "42" {
			t.Errorf("%q: got %q, number %q, err %v", args, pos, *number, err)
		}
		if want := slices.Contains(args, "--fraud"); *fraud != want {
			t.Errorf("%q: fraud %v", args, *fraud)
		}
	}
}
