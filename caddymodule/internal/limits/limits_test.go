package limits

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/prompt/deviceapi"
)

func TestLimitsOptionParses(t *testing.T) {
	for _, tc := range []struct {
		name, block string
		want        *Config
	}{
		{"every option", `limits {
			device     10/s burst 20
			ip         30/s
			activation 5/m
			keys         500
			body_timeout 5s
		}`, &Config{
			Device:      &Rate{Events: 10, Window: caddy.Duration(time.Second), Burst: 20},
			IP:          &Rate{Events: 30, Window: caddy.Duration(time.Second)},
			Activation:  &Rate{Events: 5, Window: caddy.Duration(time.Minute)},
			Keys:        500,
			BodyTimeout: caddy.Duration(5 * time.Second),
		}},
		{"duration windows and off", `limits {
			device     100/h
			ip         off
			activation 3/30s burst 1
		}`, &Config{
			Device:     &Rate{Events: 100, Window: caddy.Duration(time.Hour)},
			IP:         &Rate{Off: true},
			Activation: &Rate{Events: 3, Window: caddy.Duration(30 * time.Second), Burst: 1},
		}},
		{"empty block keeps the defaults", `limits`, &Config{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := caddyfile.NewTestDispenser(tc.block)
			d.Next()
			got, err := Parse(d)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("parsed %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLimitsOptionErrorsNameTheLine(t *testing.T) {
	for _, block := range []string{
		"limits {\n device 10\n}",
		"limits {\n device ten/s\n}",
		"limits {\n device 0/s\n}",
		"limits {\n device 10/fortnight\n}",
		"limits {\n device 10/s burst\n}",
		"limits {\n device 10/s burst 0\n}",
		"limits {\n device 10/s surge 20\n}",
		"limits {\n ip\n}",
		"limits {\n keys -1\n}",
		"limits {\n body_timeout never\n}",
		"limits {\n speed 10/s\n}",
		"limits extra {\n}",
	} {
		d := caddyfile.NewTestDispenser(block)
		d.Next()
		_, err := Parse(d)
		if err == nil || !strings.Contains(err.Error(), "Testfile:") {
			t.Errorf("%q: error %v, want one naming the file and line", block, err)
		}
	}
}

func TestLimitsReachTheGate(t *testing.T) {
	lim, err := (&Config{Device: &Rate{Events: 2, Window: caddy.Duration(time.Minute)}, BodyTimeout: caddy.Duration(3 * time.Second)}).Limiter()
	if err != nil {
		t.Fatal(err)
	}
	got, def := lim.Limits(), deviceapi.DefaultLimits()
	if got.Device != (deviceapi.Rate{Events: 2, Per: time.Minute, Burst: 2}) || got.IP != def.IP || got.BodyTimeout != 3*time.Second {
		t.Errorf("limits %+v", got)
	}
	if _, err := (&Config{IP: &Rate{Events: 1}}).Limiter(); err == nil {
		t.Error("a rate without a window was accepted")
	}
	var none *Config
	if lim, err := none.Limiter(); err != nil || lim.Limits().Device != def.Device {
		t.Errorf("no limits block: %v, %+v", err, lim)
	}
}
