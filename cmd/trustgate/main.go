// Command trustgate is Caddy with every standard module plus trustgate's
// trusted_endpoints app and handler (caddymodule) and its admin API and
// dashboard (caddymodule/admin). Use it as you would use
// caddy: `trustgate run --config Caddyfile`. `trustgate hash-password`
// makes bcrypt or argon2id hashes for a users file.
package main

import (
	_ "time/tzdata"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/trustgate/trustgate/caddymodule"
)

func main() { caddycmd.Main() }
