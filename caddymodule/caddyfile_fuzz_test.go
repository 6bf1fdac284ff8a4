package caddymodule

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

var caddyfileSeeds = []string{
	`trusted_endpoints {
	application wiki
	login users_file /etc/trustgate/users.yaml
	session_lifetime 8h
	lockout 5 15m
	mode check
	mobile {
		enable groups pilot
		platforms ios android
		require screen_lock not_tampered
		warn os_up_to_date until 2027-01-15
		min_os ios 17.4 android 14
		min_security_patch 90d
	}
	trust_for 12h
	push_timeout 60s
	enrollment
	fail_mode secure
	upstream_headers {
		user X-User
	}
}`,
	`trusted_endpoints {
	login oidc {
		issuer https://idp.example.com
		client_id gate
		client_secret {env.SECRET}
		scopes openid email
		timeout 10s
	}
}`,
	`trusted_endpoints {
	login users_file u
	allow users alice bob
	allow groups pilot
	allow emails carol@example.com *@example.org
	access_contact it-help@example.com
}`,
	`trusted_endpoints {
	storage postgres {env.TG_DSN}
	cookie_key aGFzaA== YmxvY2s=
	trust_cache_size 1000
}`,
	`trusted_endpoints {
	storage sqlite /var/lib/trustgate.db
}`,
	`trusted_endpoints extra`, `trusted_endpoints {
	mobile {
		min_os ios
	}
}`, `trusted_endpoints {
	lockout -1 0s
}`, "trusted_endpoints {\n\tmode\n}", `trusted_endpoints {`,
}

// FuzzUnmarshalCaddyfile feeds arbitrary Caddyfile text to the directive and
// the global option. Neither panics; what they accept survives a JSON round
// trip unchanged, as Caddy stores and reloads it.
func FuzzUnmarshalCaddyfile(f *testing.F) {
	for _, s := range caddyfileSeeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, input string, global bool) {
		tokens, err := caddyfile.Tokenize([]byte(input), "Caddyfile")
		if err != nil || len(tokens) == 0 {
			return
		}
		d := caddyfile.NewDispenser(tokens)
		var first []byte
		if global {
			v, err := parseGlobalOption(d, nil)
			if err != nil {
				if err.Error() == "" {
					t.Fatal("empty error")
				}
				return
			}
			app, ok := v.(httpcaddyfile.App)
			if !ok || app.Name != appName {
				t.Fatalf("global option gave %#v, want the %s app", v, appName)
			}
			first = app.Value
		} else {
			h := new(Handler)
			if err := h.UnmarshalCaddyfile(d); err != nil {
				if err.Error() == "" {
					t.Fatal("empty error")
				}
				return
			}
			if first, err = json.Marshal(h); err != nil {
				t.Fatalf("accepted config does not marshal: %v", err)
			}
		}
		var again any = new(Handler)
		if global {
			again = new(App)
		}
		dec := json.NewDecoder(bytes.NewReader(first))
		dec.DisallowUnknownFields()
		if err := dec.Decode(again); err != nil {
			t.Fatalf("accepted config %s does not unmarshal: %v", first, err)
		}
		second, _ := json.Marshal(again)
		if !bytes.Equal(first, second) {
			t.Fatalf("JSON round trip changed the config:\n%s\n%s", first, second)
		}
	})
}
