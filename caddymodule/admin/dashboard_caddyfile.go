package admin

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	_ "github.com/trustgate/trustgate/caddymodule/internal/directive" // the directive's order
)

func init() {
	// Its place, right after trusted_endpoints, is set by
	// caddymodule/internal/directive.
	httpcaddyfile.RegisterHandlerDirective("trusted_endpoints_dashboard", parseDashboardCaddyfile)
}

func parseDashboardCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	var d Dashboard
	err := d.UnmarshalCaddyfile(h.Dispenser)
	return &d, err
}

// UnmarshalCaddyfile sets up the dashboard from Caddyfile tokens:
//
//	trusted_endpoints_dashboard [<matcher>] {
//		admin_group <group...>
//		path_prefix <path>
//	}
//
// admin_group is required and may be repeated. The directive must come
// after trusted_endpoints on the same site or route.
func (d *Dashboard) UnmarshalCaddyfile(disp *caddyfile.Dispenser) error {
	disp.Next() // directive name
	if disp.NextArg() {
		return disp.ArgErr()
	}
	for disp.NextBlock(0) {
		switch disp.Val() {
		case "admin_group":
			groups := disp.RemainingArgs()
			if len(groups) == 0 {
				return disp.ArgErr()
			}
			d.AdminGroups = append(d.AdminGroups, groups...)
		case "path_prefix":
			if !disp.AllArgs(&d.PathPrefix) {
				return disp.ArgErr()
			}
		default:
			return disp.Errf("unknown trusted_endpoints_dashboard option %q", disp.Val())
		}
	}
	if len(d.AdminGroups) == 0 {
		return disp.Err("trusted_endpoints_dashboard: admin_group is required")
	}
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Dashboard)(nil)
