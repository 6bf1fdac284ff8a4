package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDescribeJSONErrorNamesTheFieldInPlainWords(t *testing.T) {
	type facts struct {
		Lock *bool  `json:"screen_lock"`
		OS   string `json:"os_version"`
	}
	type request struct {
		Answer string   `json:"answer"`
		Count  int      `json:"count"`
		Facts  facts    `json:"facts"`
		Tags   []string `json:"tags"`
	}
	tests := []struct {
		body, prefix, want string
	}{
		{`{"answer":1}`, "", "field answer must be a string"},
		{`{"count":1.5}`, "", "field count must be a whole number"},
		{`{"count":1e400}`, "", "field count must be a whole number"},
		{`{"facts":{"screen_lock":"yes"}}`, "", "field facts.screen_lock must be true or false"},
		{`{"screen_lock":"yes"}`, "facts", "field facts.screen_lock must be true or false"},
		{`{"tags":{}}`, "", "field tags must be an array"},
		{`{"facts":[]}`, "", "field facts must be an object"},
		{`[]`, "", "the body must be an object"},
		{`[]`, "facts", "facts must be an object"},
		{`{"answer":`, "", "the JSON ends too early"},
		{`{"answer" 1}`, "", "not valid JSON at byte"},
		{``, "", "the body is empty"},
		{`{"nope":1}`, "", `unknown field "nope"`},
		{`{"nope":1}`, "facts", `unknown field "facts.nope"`},
		{`{"iat":"now"}`, "", "field iat must be a whole number of seconds since the Unix epoch"},
	}
	for _, tt := range tests {
		var dst any = new(request)
		if tt.prefix == "facts" {
			dst = new(facts)
		}
		if strings.Contains(tt.body, "iat") {
			dst = new(ProofClaims)
		}
		dec := json.NewDecoder(strings.NewReader(tt.body))
		dec.DisallowUnknownFields()
		err := dec.Decode(dst)
		if err == nil {
			t.Fatalf("%s decoded", tt.body)
		}
		got := DescribeJSONError(err, tt.prefix)
		if !strings.Contains(got, tt.want) {
			t.Errorf("%s (prefix %q): %q, want %q (from %v)", tt.body, tt.prefix, got, tt.want, err)
		}
		for _, s := range []string{"Go ", "unmarshal", "json:", "struct", "int64", "*bool", "main.", "protocol."} {
			if strings.Contains(got, s) {
				t.Errorf("%s: %q exposes %q", tt.body, got, s)
			}
		}
	}
}
