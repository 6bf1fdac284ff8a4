package gateway

import (
	"os"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/trustgate/trustgate/caddymodule"
)

// serveCommand is the hidden first argument that makes this binary run as
// the gateway (Caddy with trustgate's modules, as cmd/trustgate), so the
// bench can start its server as a child process of the same build.
const serveCommand = "__serve-caddy"

// IsServeInvocation reports whether this process was started as the
// gateway child: a command (or test binary) that starts servers calls it
// first thing in main (or TestMain), and then Serve.
func IsServeInvocation() bool {
	return len(os.Args) > 1 && os.Args[1] == serveCommand
}

// Serve runs Caddy with the arguments after serveCommand; it does not
// return while Caddy runs.
func Serve() {
	os.Args = append([]string{os.Args[0]}, os.Args[2:]...)
	caddycmd.Main()
}
