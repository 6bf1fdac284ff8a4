package admin

import (
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestDashboardCaddyfile(t *testing.T) {
	for _, c := range []struct {
		input, err string
		want       Dashboard
	}{
		{"trusted_endpoints_dashboard {\n admin_group admins ops\n path_prefix /admin\n}", "", Dashboard{AdminGroups: []string{"admins", "ops"}, PathPrefix: "/admin"}},
		{"trusted_endpoints_dashboard {\n admin_group a\n admin_group b\n}", "", Dashboard{AdminGroups: []string{"a", "b"}}},
		{"trusted_endpoints_dashboard", "admin_group is required", Dashboard{}},
		{"trusted_endpoints_dashboard {\n admin_group\n}", "wrong argument count", Dashboard{}},
		{"trusted_endpoints_dashboard {\n admin_group a\n colour red\n}", "unknown trusted_endpoints_dashboard option", Dashboard{}},
		{"trusted_endpoints_dashboard extra", "wrong argument count", Dashboard{}},
	} {
		var d Dashboard
		err := d.UnmarshalCaddyfile(caddyfile.NewTestDispenser(c.input))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.input, err, c.err)
			}
			continue
		}
		if err != nil || strings.Join(d.AdminGroups, " ") != strings.Join(c.want.AdminGroups, " ") || d.PathPrefix != c.want.PathPrefix {
			t.Errorf("%q: %+v %v", c.input, d, err)
		}
	}
}
