package inventoryfetch

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/prompt/inventory"
)

func TestGlobalOptionParsesInventoryURL(t *testing.T) {
	good := []struct {
		input string
		want  Config
	}{
		{"inventory_url https://mdm.example.com/export.csv every 1h",
			Config{URL: "https://mdm.example.com/export.csv", Interval: caddy.Duration(time.Hour)}},
		{"inventory_url {env.MDM_URL} every 15m {\n  bearer_token {env.MDM_TOKEN}\n  format json\n  ca_file /etc/trustgate/mdm-ca.pem\n  timeout 30s\n  max_size 64MiB\n }",
			Config{URL: "{env.MDM_URL}", Interval: caddy.Duration(15 * time.Minute), BearerToken: "{env.MDM_TOKEN}",
				Format: "json", CAFile: "/etc/trustgate/mdm-ca.pem", Timeout: caddy.Duration(30 * time.Second), MaxSize: 64 << 20}},
	}
	for _, tt := range good {
		got, err := parse(tt.input)
		if err != nil {
			t.Fatalf("%s: %v", tt.input, err)
		}
		if *got != tt.want {
			t.Errorf("%s:\nparsed %+v, want %+v", tt.input, got, tt.want)
		}
	}

	bad := map[string]struct{ input, message string }{
		"http":           {"inventory_url http://mdm.example.com/export.csv every 1h", "inventory_url must be an https URL"},
		"no host":        {"inventory_url https:///export.csv every 1h", "inventory_url must be an https URL"},
		"missing every":  {"inventory_url https://mdm.example.com/export.csv 1h", "want inventory_url <https url> every <duration>"},
		"other word":     {"inventory_url https://mdm.example.com/export.csv each 1h", "want inventory_url <https url> every <duration>"},
		"short interval": {"inventory_url https://mdm.example.com/export.csv every 30s", `interval must be a duration of at least 1m0s, got "30s"`},
		"bad interval":   {"inventory_url https://mdm.example.com/export.csv every often", `got "often"`},
		"bad format":     {"inventory_url https://mdm.example.com/x every 1h {\n  format xml\n }", `format must be csv or json, got "xml"`},
		"bad size":       {"inventory_url https://mdm.example.com/x every 1h {\n  max_size lots\n }", `want a positive size such as 64MiB, got "lots"`},
		"unknown option": {"inventory_url https://mdm.example.com/x every 1h {\n  password x\n }", `unknown inventory_url option "password"`},
		"no token value": {"inventory_url https://mdm.example.com/x every 1h {\n  bearer_token\n }", "wrong argument count"},
	}
	fileLine := regexp.MustCompile(`Testfile:\d+`)
	for name, tt := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := parse(tt.input)
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.input)
			}
			if !strings.Contains(err.Error(), tt.message) || !fileLine.MatchString(err.Error()) {
				t.Errorf("error %q does not say %q with the file and line", err, tt.message)
			}
		})
	}
}

func TestInventoryFetchConfigResolvesPlaceholdersAndChecksWhatTheyGive(t *testing.T) {
	t.Setenv("TG_TEST_MDM_URL", "https://mdm.example.com/export")
	t.Setenv("TG_TEST_MDM_TOKEN", "s3cret")
	t.Setenv("TG_TEST_EMPTY", "")
	hour := caddy.Duration(time.Hour)
	fetch, err := (&Config{URL: "{env.TG_TEST_MDM_URL}", Interval: hour, BearerToken: "{env.TG_TEST_MDM_TOKEN}", Format: "csv"}).Runtime(nil)
	if err != nil {
		t.Fatal(err)
	}
	if fetch.URL != "https://mdm.example.com/export" || fetch.BearerToken != "s3cret" || fetch.Format != inventory.FormatCSV || fetch.Every != time.Hour {
		t.Errorf("resolved %+v", fetch)
	}
	caFile := filepath.Join(t.TempDir(), "not-a-ca.pem")
	if err := os.WriteFile(caFile, []byte("nothing here"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := map[string]struct {
		config  Config
		message string
	}{
		"url placeholder gives http": {Config{URL: "http://{env.TG_TEST_EMPTY}mdm.example.com/x", Interval: hour}, "want an https URL"},
		"empty token":                {Config{URL: "https://mdm.example.com/x", Interval: hour, BearerToken: "{env.TG_TEST_EMPTY}"}, "bearer token is empty"},
		"short interval in JSON":     {Config{URL: "https://mdm.example.com/x", Interval: caddy.Duration(time.Second)}, "at least 1m0s"},
		"ca file holds no CA":        {Config{URL: "https://mdm.example.com/x", Interval: hour, CAFile: caFile}, "holds no PEM certificate"},
		"ca file missing":            {Config{URL: "https://mdm.example.com/x", Interval: hour, CAFile: caFile + ".gone"}, "reading ca_file"},
	}
	for name, tt := range bad {
		_, err := tt.config.Runtime(nil)
		if err == nil || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("%s: error %v, want one saying %q", name, err, tt.message)
		}
	}
}

// parse parses one inventory_url line and its block.
func parse(input string) (*Config, error) {
	d := caddyfile.NewTestDispenser(input)
	d.Next()
	return Parse(d)
}
