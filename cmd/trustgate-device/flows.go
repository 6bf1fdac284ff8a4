package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/prompt/protocol"
)

// appVersion is the version the reference agent reports as its app
// version.
const appVersion = "1.0.0"

// listenWait is how long each long-poll of listen waits; listenIdle how
// long it waits before polling again when the only pending requests are
// ones it has already shown and left unanswered.
const (
	listenWait = 25 * time.Second
	listenIdle = 5 * time.Second
)

// parseArgs parses args into fs, accepting flags before and after the
// positional arguments, and returns exactly len(names) positionals.
func parseArgs(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	flags, positional := splitArgs(fs, args)
	if err := fs.Parse(flags); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{msg: err.Error(), reported: true}
	}
	positional = append(positional, fs.Args()...)
	if len(positional) < len(names) {
		return nil, usageError{msg: fmt.Sprintf("missing %s", names[len(positional)])}
	}
	if len(positional) > len(names) {
		return nil, usageError{msg: fmt.Sprintf("unexpected argument %q", positional[len(names)])}
	}
	return positional, nil
}

// splitArgs separates the flags of fs (with their values) from positional
// arguments, wherever they stand. A word that starts with "-" but names no
// flag of fs is positional: push IDs are random base64url and may start
// with "-". After "--" every word is positional.
func splitArgs(fs *flag.FlagSet, args []string) (flags, positional []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(positional, args[i+1:]...)
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		name, _, withValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		f := fs.Lookup(name)
		if f == nil && name != "h" && name != "help" {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		if f == nil || withValue {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, positional
}

// optionalBool is a boolean flag that remembers whether it was given, so a
// fact left out is reported as unknown rather than false.
type optionalBool struct{ v *bool }

func (b *optionalBool) String() string {
	if b == nil || b.v == nil {
		return ""
	}
	return strconv.FormatBool(*b.v)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	b.v = &v
	return nil
}

func (b *optionalBool) IsBoolFlag() bool { return true }

// newAgent loads the state in dir and returns an agent for the activation
// that allows origin ("": the most recent one). With no activation for
// origin it returns the agent of the most recent activation, so that the
// agent itself explains the refusal.
func (c *cli) newAgent(dir, origin string) (*agent.Agent, *deviceState, error) {
	s, err := loadState(dir)
	if err != nil {
		return nil, nil, err
	}
	key, err := s.key()
	if err != nil {
		return nil, nil, err
	}
	var act *activation
	if origin != "" {
		act = s.activationFor(origin)
	}
	if act == nil && len(s.Activations) > 0 {
		act = &s.Activations[len(s.Activations)-1]
	}
	a, err := agent.New(agent.Config{Key: key, Activation: act, Client: c.client, Now: c.now})
	if err != nil {
		return nil, nil, fmt.Errorf("state file in %s: %w", dir, err)
	}
	return a, s, nil
}

// selectOrigin checks an --origin flag against the stored activations.
func selectOrigin(s *deviceState, origin string) error {
	if origin == "" || s.activationFor(origin) != nil {
		return nil
	}
	var known []string
	for _, act := range s.Activations {
		known = append(known, act.Origins...)
	}
	return fmt.Errorf("this device is not activated for %s (activated for: %s)", origin, strings.Join(known, ", "))
}

func (c *cli) activate(args []string) error {
	fs, state := c.flags("activate", "activate <activation link> [--state DIR] [--platform ios|android] [--model M] [--os V] [--app-version V]")
	platform := fs.String("platform", "android", "`platform` of the device: ios or android")
	model := fs.String("model", "trustgate-device", "device `model` shown to admins")
	osVersion := fs.String("os", "", "operating system `version`")
	version := fs.String("app-version", appVersion, "app `version`")
	pos, err := parseArgs(fs, args, "activation link")
	if err != nil {
		return err
	}
	if *platform != "ios" && *platform != "android" {
		return usageError{msg: fmt.Sprintf("--platform %q: want ios or android", *platform)}
	}
	origin, _, err := agent.ParseActivationLink(pos[0])
	if err != nil {
		return usageError{msg: err.Error()}
	}
	dir, err := stateDir(*state)
	if err != nil {
		return err
	}
	if _, err := loadState(dir); errors.Is(err, errNoState) {
		// The key is saved before the gateway learns it, so an activation
		// can never outlive its key.
		s, err := newState()
		if err != nil {
			return err
		}
		if err := saveState(dir, s, false); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "created device key in %s\n", dir)
	}
	a, s, err := c.newAgent(dir, origin)
	if err != nil {
		return err
	}
	resp, err := a.Activate(c.ctx, pos[0], agent.DeviceInfo{Platform: *platform, Model: *model, OSVersion: *osVersion, AppVersion: *version})
	if err != nil {
		if agent.ErrorCode(err) == "conflict" {
			return fmt.Errorf("%w\n(this key is already activated with that gateway; \"keygen --force\" makes a new key)", err)
		}
		return err
	}
	act, _ := a.Activation()
	s.setActivation(act)
	if err := saveState(dir, s, true); err != nil {
		return fmt.Errorf("activated, but saving the activation failed: %w", err)
	}
	fmt.Fprintf(c.stdout, "activated for user %s\ndevice ID: %s\norigins: %s\n", resp.User, resp.DeviceID, strings.Join(act.Origins, " "))
	if ap := resp.Approval; ap != nil {
		fmt.Fprintf(c.stdout, "pending: approve this device on one of your active devices and type %s there (before %s)\n",
			safe(ap.Number), ap.Expires.Local().Format(time.TimeOnly))
	}
	if act.PasscodeSecret != "" {
		fmt.Fprintln(c.stdout, "passcodes: run \"trustgate-device passcode\"")
	}
	return nil
}

// answerFlags are the flags that say how to answer a login request.
type answerFlags struct {
	answer string
	number string
	fraud  bool
}

// decider returns how to answer a push: approve, deny or ask on stdin.
// ok false leaves the push unanswered.
func (c *cli) decider(f answerFlags) func(protocol.Push) (req protocol.AnswerRequest, ok bool) {
	return func(p protocol.Push) (protocol.AnswerRequest, bool) {
		switch f.answer {
		case protocol.AnswerDeny:
			return denyRequest(f.fraud), true
		case protocol.AnswerApprove:
			if p.NumberMatching && f.number == "" {
				fmt.Fprintf(c.stdout, "  this request needs the number shown %s: left unanswered (use --number or --ask)\n", numberShown(p))
				return protocol.AnswerRequest{}, false
			}
			return protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: f.number}, true
		case "ask":
			question := "Approve this login? [y/N/fraud] "
			if p.Kind == protocol.PushKindEnrollment {
				question = "Approve this new device? [y/N/fraud] "
			}
			line, ok := c.prompt(question)
			if !ok {
				fmt.Fprintln(c.stdout, "  no answer: left unanswered")
				return protocol.AnswerRequest{}, false
			}
			switch strings.ToLower(line) {
			case "y", "yes":
			case "fraud":
				return denyRequest(true), true
			default:
				return denyRequest(false), true
			}
			number := f.number
			if p.NumberMatching && number == "" {
				if number, ok = c.prompt("Type the number shown " + numberShown(p) + ": "); !ok || number == "" {
					return denyRequest(false), true
				}
			}
			return protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: number}, true
		default:
			return protocol.AnswerRequest{}, false
		}
	}
}

func denyRequest(fraud bool) protocol.AnswerRequest {
	req := protocol.AnswerRequest{Answer: protocol.AnswerDeny, Reason: protocol.DenyCancelled}
	if fraud {
		req.Reason = protocol.DenyFraud
	}
	return req
}

// prompt prints question and reads one line of stdin; ok is false at the
// end of input.
func (c *cli) prompt(question string) (string, bool) {
	fmt.Fprint(c.stdout, question)
	if c.input == nil {
		c.input = bufio.NewReader(c.stdin)
	}
	line, err := c.input.ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(c.stdout)
		return "", false
	}
	return strings.TrimSpace(line), true
}

// numberShown says where the number of a number-matching push is shown.
func numberShown(p protocol.Push) string {
	if p.Kind == protocol.PushKindEnrollment {
		return "on the new device"
	}
	return "in the browser"
}

// printPush describes a login request, or a request to approve a new
// device.
func (c *cli) printPush(p protocol.Push) {
	if p.Kind == protocol.PushKindEnrollment && p.NewDevice != nil {
		fmt.Fprintf(c.stdout, "new device request %s: add %s (%s %s) to %s\n", p.ID, safe(p.NewDevice.Model), safe(p.NewDevice.Platform), safe(p.NewDevice.OSVersion), safe(p.User))
		fmt.Fprintf(c.stdout, "  from %s; expires %s\n", safe(p.IP), p.Expires.Local().Format(time.TimeOnly))
		fmt.Fprintln(c.stdout, "  number matching: type the number the new device shows")
		return
	}
	fmt.Fprintf(c.stdout, "login request %s: %s signing in to %s\n", p.ID, safe(p.User), safe(p.Application))
	fmt.Fprintf(c.stdout, "  from %s at %s, %s; expires %s\n", safe(p.AccessDevice), safe(p.IP), p.Time.Local().Format(time.DateTime), p.Expires.Local().Format(time.TimeOnly))
	if p.NumberMatching {
		fmt.Fprintln(c.stdout, "  number matching: type the number the browser shows")
	}
	if p.Inline {
		fmt.Fprintln(c.stdout, "  this is the check of this device")
	}
}

// answerPush answers p at origin and reports the outcome.
func (c *cli) answerPush(a *agent.Agent, origin string, p protocol.Push, req protocol.AnswerRequest, open bool) error {
	resp, err := a.Answer(c.ctx, origin, p.ID, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s\n", safe(resp.State))
	if resp.ReturnURL != "" {
		fmt.Fprintf(c.stdout, "open this link in the phone's browser to finish the login:\n%s\n", resp.ReturnURL)
		if open {
			c.openURL(resp.ReturnURL)
		}
	}
	return nil
}

// openURL opens u in the desktop's browser, as the phone's app would;
// failing that it says so and leaves the printed link.
func (c *cli) openURL(u string) {
	opener := "xdg-open"
	if runtime.GOOS == "darwin" {
		opener = "open"
	}
	path, err := exec.LookPath(opener)
	if err != nil {
		fmt.Fprintf(c.stderr, "trustgate-device: cannot open the link: %s not found\n", opener)
		return
	}
	if err := exec.CommandContext(c.ctx, path, u).Start(); err != nil {
		fmt.Fprintf(c.stderr, "trustgate-device: cannot open the link: %v\n", err)
	}
}

// safe makes text from the gateway safe for a terminal.
func safe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

// factFlags adds the health-fact flags to fs; the returned function gives
// the facts the flags set.
func factFlags(fs *flag.FlagSet) func() agent.Facts {
	var f agent.Facts
	var screenLock, biometrics, diskEncryption, tampered optionalBool
	fs.StringVar(&f.Platform, "platform", "", "`platform`: ios or android (default: as activated)")
	fs.StringVar(&f.OSVersion, "os", "", "operating system `version` (default: as activated)")
	fs.StringVar(&f.SecurityPatch, "patch", "", "Android security patch `date`, YYYY-MM-DD")
	fs.Var(&screenLock, "screen-lock", "a screen lock is set (true/false; unreported if not given)")
	fs.Var(&biometrics, "biometrics", "biometrics are enrolled (true/false)")
	fs.Var(&diskEncryption, "disk-encryption", "storage is encrypted (true/false)")
	fs.Var(&tampered, "tampered", "the device is rooted or jailbroken (true/false)")
	fs.StringVar(&f.AppVersion, "app-version", "", "app `version` (default: as activated)")
	fs.StringVar(&f.Model, "model", "", "device `model` (default: as activated)")
	return func() agent.Facts {
		f.ScreenLock, f.Biometrics, f.DiskEncryption, f.Tampered = screenLock.v, biometrics.v, diskEncryption.v, tampered.v
		return f
	}
}

func (c *cli) verify(args []string) error {
	fs, state := c.flags("verify", "verify <deep link> [--state DIR] [--profile FILE] [fact flags] [--answer approve|deny|ask] [--number N] [--fraud] [--open]")
	profile := fs.String("profile", "", "JSON `file` of health facts; fact flags override it")
	facts := factFlags(fs)
	answer := fs.String("answer", "approve", "how to answer the login request: approve, deny or ask")
	number := fs.String("number", "", "the `number` the browser shows, for number matching")
	fraud := fs.Bool("fraud", false, "when denying, report the request as fraudulent")
	open := fs.Bool("open", false, "open the return link with xdg-open")
	pos, err := parseArgs(fs, args, "deep link")
	if err != nil {
		return err
	}
	switch *answer {
	case protocol.AnswerApprove, protocol.AnswerDeny, "ask":
	default:
		return usageError{msg: fmt.Sprintf("--answer %q: want approve, deny or ask", *answer)}
	}
	if *fraud && *answer == protocol.AnswerApprove {
		return usageError{msg: "--fraud goes with --answer deny or ask"}
	}
	origin, _, _, err := agent.ParseVerifyLink(pos[0])
	if err != nil {
		return usageError{msg: err.Error()}
	}
	dir, err := stateDir(*state)
	if err != nil {
		return err
	}
	a, _, err := c.newAgent(dir, origin)
	if err != nil {
		return err
	}
	var reported agent.Facts
	if act, ok := a.Activation(); ok {
		reported = agent.Facts{Platform: act.Device.Platform, OSVersion: act.Device.OSVersion, AppVersion: act.Device.AppVersion, Model: act.Device.Model}
	}
	if *profile != "" {
		fromFile, err := agent.LoadProfile(*profile)
		if err != nil {
			return err
		}
		reported = reported.Override(fromFile)
	}
	reported = reported.Override(facts())
	resp, err := a.Verify(c.ctx, pos[0], reported)
	if err != nil {
		return err
	}
	c.printVerdict(resp)
	if resp.State != "reported" || resp.Push == nil {
		if resp.State == "denied" {
			fmt.Fprintln(c.stdout, "access denied: fix the failed requirements, then sign in again")
		}
		return nil
	}
	c.printPush(*resp.Push)
	req, ok := c.decider(answerFlags{answer: *answer, number: *number, fraud: *fraud})(*resp.Push)
	if !ok {
		return nil
	}
	return c.answerPush(a, origin, *resp.Push, req, *open)
}

// printVerdict prints the verdict on a health report with its findings.
func (c *cli) printVerdict(resp protocol.ReportResponse) {
	verdict := "not trusted"
	if resp.Trusted {
		verdict = "trusted"
	}
	fmt.Fprintf(c.stdout, "device %s\n", verdict)
	list := func(title string, findings []protocol.Finding) {
		if len(findings) == 0 {
			return
		}
		fmt.Fprintf(c.stdout, "%s:\n", title)
		for _, f := range findings {
			fmt.Fprintf(c.stdout, "  - %s (%s): %s", safe(f.Requirement), safe(f.Reason), safe(f.Hint))
			if f.Deadline != nil {
				fmt.Fprintf(c.stdout, " [required from %s]", f.Deadline.Format(time.DateOnly))
			}
			fmt.Fprintln(c.stdout)
		}
	}
	list("failed requirements", resp.Failed)
	list("warnings", resp.Warnings)
}

func (c *cli) push(args []string) error {
	const synopsis = "push list [--origin O] | push approve ID [--number N] | push deny ID [--fraud]"
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" && args[0] != "-help" {
		return usageError{msg: "want a subcommand: " + synopsis}
	}
	sub, args := args[0], args[1:]
	fs, state := c.flags("push "+sub, synopsis+" [--state DIR]")
	origin := fs.String("origin", "", "gateway `origin` (default: the most recent activation's)")
	var number *string
	var fraud *bool
	var names []string
	switch sub {
	case "list":
	case "approve":
		number = fs.String("number", "", "the `number` the browser shows, for number matching")
		names = []string{"push ID"}
	case "deny":
		fraud = fs.Bool("fraud", false, "report the request as fraudulent")
		names = []string{"push ID"}
	case "-h", "-help", "--help":
		fmt.Fprintf(c.stderr, "usage: trustgate-device %s\n", synopsis)
		return flag.ErrHelp
	default:
		return usageError{msg: fmt.Sprintf("unknown subcommand %q: %s", sub, synopsis)}
	}
	pos, err := parseArgs(fs, args, names...)
	if err != nil {
		return err
	}
	dir, err := stateDir(*state)
	if err != nil {
		return err
	}
	a, s, err := c.newAgent(dir, *origin)
	if err != nil {
		return err
	}
	if err := selectOrigin(s, *origin); err != nil {
		return err
	}
	switch sub {
	case "list":
		pushes, err := a.Pushes(c.ctx, 0)
		if err != nil {
			return err
		}
		if len(pushes) == 0 {
			fmt.Fprintln(c.stdout, "no pending login requests")
		}
		for _, p := range pushes {
			c.printPush(p)
		}
		return nil
	case "approve":
		req := protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: *number}
		return c.answerPush(a, *origin, protocol.Push{ID: pos[0]}, req, false)
	default:
		return c.answerPush(a, *origin, protocol.Push{ID: pos[0]}, denyRequest(*fraud), false)
	}
}

func (c *cli) listen(args []string) error {
	fs, state := c.flags("listen", "listen [--state DIR] [--origin O] [--approve | --deny [--fraud] | --ask] [--number N]")
	origin := fs.String("origin", "", "gateway `origin` (default: the most recent activation's)")
	approve := fs.Bool("approve", false, "approve every login request")
	deny := fs.Bool("deny", false, "deny every login request")
	ask := fs.Bool("ask", false, "ask on the terminal for each login request")
	number := fs.String("number", "", "the `number` to answer number matching with (with --approve)")
	fraud := fs.Bool("fraud", false, "with --deny, report requests as fraudulent")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	f := answerFlags{number: *number, fraud: *fraud}
	modes := 0
	for mode, set := range map[string]bool{protocol.AnswerApprove: *approve, protocol.AnswerDeny: *deny, "ask": *ask} {
		if set {
			f.answer = mode
			modes++
		}
	}
	if modes > 1 {
		return usageError{msg: "choose one of --approve, --deny and --ask"}
	}
	if *fraud && f.answer != protocol.AnswerDeny {
		return usageError{msg: "--fraud goes with --deny"}
	}
	dir, err := stateDir(*state)
	if err != nil {
		return err
	}
	a, s, err := c.newAgent(dir, *origin)
	if err != nil {
		return err
	}
	if err := selectOrigin(s, *origin); err != nil {
		return err
	}
	act, ok := a.Activation()
	if !ok {
		return agent.ErrNotActivated
	}
	fmt.Fprintf(c.stdout, "listening for login requests for %s at %s (interrupt to stop)\n", act.User, act.Origin)
	l := &listener{cli: c, agent: a, decide: c.decider(f), wait: listenWait, idle: listenIdle}
	return l.run(c.ctx)
}

// listener is the loop of listen.
type listener struct {
	cli    *cli
	agent  *agent.Agent
	decide func(protocol.Push) (protocol.AnswerRequest, bool)
	// wait is each long-poll's wait; idle the pause before polling again
	// when every pending request has already been shown.
	wait, idle time.Duration
}

// run long-polls for login requests, shows each once and answers it as
// decide says, until ctx ends (then it returns nil) or the gateway refuses
// the device.
func (l *listener) run(ctx context.Context) error {
	c := l.cli
	shown := map[string]bool{}
	backoff := time.Second
	for ctx.Err() == nil {
		pushes, err := l.agent.Pushes(ctx, l.wait)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var apiErr *agent.APIError
			if errors.As(err, &apiErr) && (apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden) {
				return err
			}
			fmt.Fprintf(c.stderr, "trustgate-device listen: %v; trying again in %s\n", err, backoff)
			if !pause(ctx, backoff) {
				break
			}
			backoff = min(2*backoff, time.Minute)
			continue
		}
		backoff = time.Second
		fresh := false
		for _, p := range pushes {
			if shown[p.ID] {
				continue
			}
			shown[p.ID], fresh = true, true
			c.printPush(p)
			req, ok := l.decide(p)
			if !ok {
				continue
			}
			if err := c.answerPush(l.agent, "", p, req, false); err != nil {
				if ctx.Err() != nil {
					break
				}
				fmt.Fprintf(c.stderr, "trustgate-device listen: %v\n", err)
			}
		}
		if len(pushes) > 0 && !fresh && !pause(ctx, l.idle) {
			break
		}
	}
	return nil
}

// pause waits for d or until ctx ends; it reports whether to go on.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *cli) passcode(args []string) error {
	fs, state := c.flags("passcode", "passcode [--state DIR] [--origin O]")
	origin := fs.String("origin", "", "gateway `origin` (default: the most recent activation's)")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	dir, err := stateDir(*state)
	if err != nil {
		return err
	}
	a, s, err := c.newAgent(dir, *origin)
	if err != nil {
		return err
	}
	if err := selectOrigin(s, *origin); err != nil {
		return err
	}
	now := c.now()
	code, err := a.Passcode(now)
	if err != nil {
		return err
	}
	left, err := a.PasscodeValidFor(now)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s\nvalid for %d more seconds\n", code, int((left+time.Second-1)/time.Second))
	return nil
}
