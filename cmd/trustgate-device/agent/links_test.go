package agent

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseVerifyLink(t *testing.T) {
	const origin = "https://gw.example"
	custom := func(q string) string { return "trustgate://verify?" + q }
	enc := url.QueryEscape
	cases := []struct {
		name    string
		link    string
		origin  string
		tx, ch  string
		wantErr bool
	}{
		{"custom scheme", custom("origin=" + enc(origin) + "&tx=T1&challenge=C1"), origin, "T1", "C1", false},
		{"custom scheme with port", custom("origin=" + enc("http://127.0.0.1:9080") + "&tx=T1&challenge=C1"), "http://127.0.0.1:9080", "T1", "C1", false},
		{"custom scheme upper-case origin", custom("origin=" + enc("HTTPS://GW.Example") + "&tx=T1&challenge=C1"), origin, "T1", "C1", false},
		{"https form", origin + "/.trustgate/app/verify?tx=T1&challenge=C1", origin, "T1", "C1", false},
		{"http loopback form", "http://127.0.0.1:9080/.trustgate/app/verify?tx=T1&challenge=C1", "http://127.0.0.1:9080", "T1", "C1", false},
		{"android intent", "intent://gw.example/.trustgate/app/verify?tx=T1&challenge=C1#Intent;scheme=https;package=dev.trustgate.app;S.browser_fallback_url=" + enc(origin+"/.trustgate/app/verify?tx=T1&challenge=C1") + ";end", origin, "T1", "C1", false},
		{"surrounding space", "  " + origin + "/.trustgate/app/verify?tx=T1&challenge=C1\n", origin, "T1", "C1", false},

		{"empty", "", "", "", "", true},
		{"missing tx", custom("origin=" + enc(origin) + "&challenge=C1"), "", "", "", true},
		{"missing challenge", origin + "/.trustgate/app/verify?tx=T1", "", "", "", true},
		{"empty challenge", origin + "/.trustgate/app/verify?tx=T1&challenge=", "", "", "", true},
		{"duplicate tx", origin + "/.trustgate/app/verify?tx=T1&tx=T2&challenge=C1", "", "", "", true},
		{"missing origin", custom("tx=T1&challenge=C1"), "", "", "", true},
		{"ftp origin", custom("origin=" + enc("ftp://gw.example") + "&tx=T1&challenge=C1"), "", "", "", true},
		{"javascript origin", custom("origin=" + enc("javascript:alert(1)") + "&tx=T1&challenge=C1"), "", "", "", true},
		{"origin with path", custom("origin=" + enc(origin+"/app") + "&tx=T1&challenge=C1"), "", "", "", true},
		{"origin with slash", custom("origin=" + enc(origin+"/") + "&tx=T1&challenge=C1"), "", "", "", true},
		{"origin with query", custom("origin=" + enc(origin+"?x=1") + "&tx=T1&challenge=C1"), "", "", "", true},
		{"origin with userinfo", custom("origin=" + enc("https://evil@gw.example") + "&tx=T1&challenge=C1"), "", "", "", true},
		{"origin with bad port", custom("origin=" + enc("https://gw.example:99999") + "&tx=T1&challenge=C1"), "", "", "", true},
		{"https link with userinfo", "https://user@gw.example/.trustgate/app/verify?tx=T1&challenge=C1", "", "", "", true},
		{"https link naming another origin", origin + "/.trustgate/app/verify?origin=" + enc("https://evil.example") + "&tx=T1&challenge=C1", "", "", "", true},
		{"https link with fragment", origin + "/.trustgate/app/verify?tx=T1&challenge=C1#x", "", "", "", true},
		{"wrong https path", origin + "/.trustgate/app/activate?tx=T1&challenge=C1", "", "", "", true},
		{"wrong custom action", "trustgate://activate?origin=" + enc(origin) + "&tx=T1&challenge=C1", "", "", "", true},
		{"custom with path", "trustgate://verify/x?origin=" + enc(origin) + "&tx=T1&challenge=C1", "", "", "", true},
		{"other scheme", "evil://verify?origin=" + enc(origin) + "&tx=T1&challenge=C1", "", "", "", true},
		{"tx with slash", origin + "/.trustgate/app/verify?tx=" + enc("../pushes") + "&challenge=C1", "", "", "", true},
		{"tx dot-dot", origin + "/.trustgate/app/verify?tx=..&challenge=C1", "", "", "", true},
		{"challenge with control character", origin + "/.trustgate/app/verify?tx=T1&challenge=" + enc("a\nb"), "", "", "", true},
		{"overlong challenge", origin + "/.trustgate/app/verify?tx=T1&challenge=" + strings.Repeat("c", 513), "", "", "", true},
		{"overlong link", origin + "/.trustgate/app/verify?tx=T1&challenge=C1&pad=" + strings.Repeat("p", 5000), "", "", "", true},
		{"intent to custom scheme", "intent://verify?origin=" + enc(origin) + "&tx=T1&challenge=C1#Intent;scheme=trustgate;end", "", "", "", true},
		{"intent without end", "intent://gw.example/.trustgate/app/verify?tx=T1&challenge=C1#Intent;scheme=https", "", "", "", true},
		{"intent with userinfo", "intent://u@gw.example/.trustgate/app/verify?tx=T1&challenge=C1#Intent;scheme=https;end", "", "", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			origin, tx, ch, err := ParseVerifyLink(c.link)
			if c.wantErr {
				if err == nil {
					t.Fatalf("accepted: origin %q tx %q challenge %q", origin, tx, ch)
				}
				if !errors.Is(err, ErrBadLink) {
					t.Errorf("error %v does not wrap ErrBadLink", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if origin != c.origin || tx != c.tx || ch != c.ch {
				t.Errorf("got (%q, %q, %q), want (%q, %q, %q)", origin, tx, ch, c.origin, c.tx, c.ch)
			}
		})
	}
}

func TestParseActivationLink(t *testing.T) {
	enc := url.QueryEscape
	cases := []struct {
		name         string
		link         string
		origin, code string
		wantErr      bool
	}{
		{"custom scheme", "trustgate://activate?origin=" + enc("https://gw.example") + "&code=abc-123", "https://gw.example", "abc-123", false},
		{"https form", "https://gw.example/.trustgate/app/activate?code=abc", "https://gw.example", "abc", false},
		{"http loopback", "http://127.0.0.1:8080/.trustgate/app/activate?code=abc", "http://127.0.0.1:8080", "abc", false},
		{"intent form", "intent://gw.example/.trustgate/app/activate?code=abc#Intent;scheme=https;package=x;end", "https://gw.example", "abc", false},

		{"missing code", "https://gw.example/.trustgate/app/activate", "", "", true},
		{"verify link", "https://gw.example/.trustgate/app/verify?code=abc", "", "", true},
		{"custom verify action", "trustgate://verify?origin=" + enc("https://gw.example") + "&code=abc", "", "", true},
		{"origin with path", "trustgate://activate?origin=" + enc("https://gw.example/x") + "&code=abc", "", "", true},
		{"data origin", "trustgate://activate?origin=" + enc("data:text/html,hi") + "&code=abc", "", "", true},
		{"overlong code", "https://gw.example/.trustgate/app/activate?code=" + strings.Repeat("a", 600), "", "", true},
		{"code with space", "https://gw.example/.trustgate/app/activate?code=a+b", "", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			origin, code, err := ParseActivationLink(c.link)
			if c.wantErr {
				if err == nil {
					t.Fatalf("accepted: origin %q code %q", origin, code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if origin != c.origin || code != c.code {
				t.Errorf("got (%q, %q), want (%q, %q)", origin, code, c.origin, c.code)
			}
		})
	}
}
