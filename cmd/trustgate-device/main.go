// Command trustgate-device is the reference mobile agent: it plays the
// companion app against a trustgate gateway, speaking the public device
// protocol of package protocol, so the protocol can be exercised and
// documented without a phone.
//
// Usage:
//
//	trustgate-device <command> [flags]
//
// Commands:
//
//	keygen      create the device key (--force replaces it and forgets all activations)
//	id          print the device ID (first line) and the public JWK (second line)
//	sign-proof  print a device proof for one request (a debugging aid, see below)
//
// Every command takes --state DIR, the state directory (default
// $XDG_CONFIG_HOME/trustgate-device, else ~/.config/trustgate-device). See
// keystore.go for the state file and its permissions.
//
// sign-proof --method M --url U [--body-file F] [--activation] is a
// debugging aid for people implementing or testing the device API: it prints
// the compact JWS that the app would send as
//
//	Authorization: TrustgateProof <proof>
//
// for that one request. With --activation the public key is embedded in the
// proof (as for activation) instead of named by kid. A proof is valid for
// about a minute and only once.
//
// The app's flows talk to the gateway's device API through package agent:
//
//	activate <activation link>   bind the key to a user (creates the key if there is none)
//	verify <deep link>           report health facts for a login, show the verdict,
//	                             answer the login request and print the return link
//	push list|approve ID|deny ID list and answer pending login requests
//	listen                       long-poll for login requests and answer them until interrupted
//	passcode                     print the current offline passcode
//
// verify's facts default to what activate said about the device, then a
// --profile JSON file of facts, then the fact flags. A fact given nowhere
// is not reported. The return link is what a real app opens in the phone's
// browser to finish the login there; the CLI prints it (and with --open
// hands it to xdg-open).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/trustgate/trustgate/prompt/protocol"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const usage = `usage: trustgate-device <command> [flags]

commands:
  keygen      create the device key
  id          print the device ID and the public JWK
  sign-proof  print a device proof for one request (debugging aid)
  activate    activate with a gateway: activate <activation link>
  verify      report this device's health for a login: verify <deep link>
  push        list or answer login requests: push list | push approve ID | push deny ID
  listen      wait for login requests and answer them, until interrupted
  passcode    print the current passcode

Every command takes --state DIR (default $XDG_CONFIG_HOME/trustgate-device
or ~/.config/trustgate-device). Run "trustgate-device <command> -h" for its flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// cli is one invocation: where input and output go, the context that an
// interrupt cancels, the clock proofs are stamped with and the HTTP client
// (nil: the agent's default).
type cli struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	now            func() time.Time
	client         *http.Client

	// input buffers stdin across the questions of one invocation.
	input *bufio.Reader
}

// run runs the command line args (without the program name) and returns the
// exit code. An interrupt cancels what is in flight; listen then stops.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{ctx: ctx, stdin: os.Stdin, stdout: stdout, stderr: stderr, now: time.Now}
	return c.run(args)
}

func (c *cli) run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	var cmd func([]string) error
	switch name {
	case "keygen":
		cmd = c.keygen
	case "id":
		cmd = c.id
	case "sign-proof":
		cmd = c.signProof
	case "activate":
		cmd = c.activate
	case "verify":
		cmd = c.verify
	case "push":
		cmd = c.push
	case "listen":
		cmd = c.listen
	case "passcode":
		cmd = c.passcode
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(c.stderr, "trustgate-device: unknown command %q\n\n%s", name, usage)
		return exitUsage
	}
	err := cmd(rest)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		if ue.reported {
			return exitUsage
		}
		fmt.Fprintf(c.stderr, "trustgate-device %s: %v\n", name, err)
		return exitUsage
	default:
		fmt.Fprintf(c.stderr, "trustgate-device %s: %v\n", name, err)
		return exitError
	}
}

// usageError is a mistake in the command line rather than a failure.
// reported means the flag package has already printed it.
type usageError struct {
	msg      string
	reported bool
}

func (e usageError) Error() string { return e.msg }

// flags returns the flag set of a subcommand, with the --state flag every
// subcommand has.
func (c *cli) flags(name, synopsis string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: trustgate-device %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	state := fs.String("state", "", "state `DIR` (default $XDG_CONFIG_HOME/trustgate-device or ~/.config/trustgate-device)")
	return fs, state
}

// parse parses args into fs and refuses positional arguments. The flag
// package has already printed its own message for a parse error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{msg: err.Error(), reported: true}
	}
	if fs.NArg() > 0 {
		return usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// stateDir returns the --state value or the default.
func stateDir(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	return defaultStateDir()
}

func (c *cli) keygen(args []string) error {
	fs, state := c.flags("keygen", "keygen [--state DIR] [--force]")
	force := fs.Bool("force", false, "replace an existing key; this forgets every activation made with it")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir, err := stateDir(*state)
	if err != nil {
		return err
	}
	if !*force {
		// Checked here for a clear message; saveState refuses atomically too.
		if _, err := os.Lstat(filepath.Join(dir, stateFile)); err == nil {
			return fmt.Errorf("a device key already exists in %s (use --force to replace it and forget its activations)", dir)
		}
	}
	s, err := newState()
	if err != nil {
		return err
	}
	if err := saveState(dir, s, *force); err != nil {
		return err
	}
	_, id, err := s.keyAndID()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "created device key in %s\ndevice ID: %s\n", dir, id)
	return nil
}

func (c *cli) id(args []string) error {
	fs, state := c.flags("id", "id [--state DIR]")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir, err := stateDir(*state)
	if err != nil {
		return err
	}
	s, err := loadState(dir)
	if err != nil {
		return err
	}
	key, id, err := s.keyAndID()
	if err != nil {
		return err
	}
	jwk, err := protocol.PublicJWK(&key.PublicKey)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s\n%s\n", id, jwk)
	return nil
}

func (c *cli) signProof(args []string) error {
	fs, state := c.flags("sign-proof", "sign-proof [--state DIR] --method M --url U [--body-file F] [--activation]")
	method := fs.String("method", "", "HTTP `method` of the request (required)")
	rawURL := fs.String("url", "", "absolute http(s) `URL` of the request (required; query and fragment are not signed)")
	bodyFile := fs.String("body-file", "", "`file` holding the exact request body (default: empty body)")
	activation := fs.Bool("activation", false, "embed the public key (jwk) instead of the device ID (kid), as an activation request does")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *method == "" || *rawURL == "" {
		return usageError{msg: "--method and --url are required"}
	}
	if !isToken(*method) {
		return usageError{msg: fmt.Sprintf("--method %q is not an HTTP method", *method)}
	}
	u, err := url.Parse(*rawURL)
	if err != nil {
		return usageError{msg: fmt.Sprintf("--url: %v", err)}
	}
	if scheme := strings.ToLower(u.Scheme); (scheme != "https" && scheme != "http") || u.Host == "" {
		return usageError{msg: fmt.Sprintf("--url %q is not an absolute http(s) URL", *rawURL)}
	}
	var body []byte
	if *bodyFile != "" {
		if body, err = os.ReadFile(*bodyFile); err != nil {
			return fmt.Errorf("reading body: %w", err)
		}
	}
	dir, err := stateDir(*state)
	if err != nil {
		return err
	}
	s, err := loadState(dir)
	if err != nil {
		return err
	}
	key, err := s.key()
	if err != nil {
		return err
	}
	proof, err := protocol.SignProof(key, *activation, *method, u, body, c.now())
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, proof)
	return nil
}

// isToken reports whether s is an RFC 9110 token, the syntax of a method.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}
