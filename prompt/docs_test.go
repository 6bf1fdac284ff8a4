package prompt

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
)

// deviceAPIDoc is the OpenAPI document a mobile team builds the app from.
const deviceAPIDoc = "../docs/device-api.yaml"

func loadDeviceAPIDoc(t *testing.T) (map[string]any, string) {
	t.Helper()
	data, err := os.ReadFile(deviceAPIDoc)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s is not valid YAML: %v", deviceAPIDoc, err)
	}
	return doc, string(data)
}

// docNode walks doc along keys, failing the test where a key is missing.
func docNode(t *testing.T, doc any, keys ...string) any {
	t.Helper()
	cur := doc
	for i, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: %s is not a mapping", deviceAPIDoc, strings.Join(keys[:i], "."))
		}
		if cur, ok = m[k]; !ok {
			t.Fatalf("%s: no %s", deviceAPIDoc, strings.Join(keys[:i+1], "."))
		}
	}
	return cur
}

func TestOpenAPIDocDescribesEveryEndpoint(t *testing.T) {
	doc, _ := loadDeviceAPIDoc(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	endpoints := []struct{ path, method string }{
		{protocol.PathActivate, "post"},
		{protocol.PathReportPrefix + "{tx}/report", "post"},
		{protocol.PathPushes, "get"},
		{protocol.PathPushes + "/{id}", "post"},
		{protocol.PathDevice, "get"},
	}
	paths := docNode(t, doc, "paths").(map[string]any)
	for _, e := range endpoints {
		op, ok := docNode(t, paths, e.path).(map[string]any)[e.method].(map[string]any)
		if !ok {
			t.Errorf("%s %s: not documented", strings.ToUpper(e.method), e.path)
			continue
		}
		responses, _ := op["responses"].(map[string]any)
		for _, status := range []string{"401", "503"} {
			if _, ok := responses[status]; !ok {
				t.Errorf("%s %s: no %s response", strings.ToUpper(e.method), e.path, status)
			}
		}
	}
	for p := range paths {
		if !slices.ContainsFunc(endpoints, func(e struct{ path, method string }) bool { return e.path == p }) {
			t.Errorf("documented path %s is not a protocol endpoint", p)
		}
	}
}

func TestOpenAPIDocSchemasMatchProtocolTypes(t *testing.T) {
	doc, _ := loadDeviceAPIDoc(t)
	schemas := docNode(t, doc, "components", "schemas").(map[string]any)
	types := map[string]any{
		"ActivateRequest":  protocol.ActivateRequest{},
		"ActivateResponse": protocol.ActivateResponse{},
		"Approval":         protocol.Approval{},
		"NewDevice":        protocol.NewDevice{},
		"PasscodeSetup":    protocol.PasscodeSetup{},
		"ReportRequest":    protocol.ReportRequest{},
		"Facts":            policy.Facts{},
		"ReportResponse":   protocol.ReportResponse{},
		"Finding":          protocol.Finding{},
		"Push":             protocol.Push{},
		"PushesResponse":   protocol.PushesResponse{},
		"AnswerRequest":    protocol.AnswerRequest{},
		"AnswerResponse":   protocol.AnswerResponse{},
		"DeviceResponse":   protocol.DeviceResponse{},
		"Error":            protocol.Error{},
	}
	for name, v := range types {
		t.Run(name, func(t *testing.T) {
			schema := docNode(t, schemas, name)
			var documented []string
			for p := range docNode(t, schema, "properties").(map[string]any) {
				documented = append(documented, p)
			}
			var required []string
			if r, ok := schema.(map[string]any)["required"].([]any); ok {
				for _, f := range r {
					required = append(required, f.(string))
				}
			}
			fields, wantRequired := jsonFields(reflect.TypeOf(v))
			slices.Sort(documented)
			slices.Sort(required)
			if !slices.Equal(documented, fields) {
				t.Errorf("properties %v, want the JSON fields %v", documented, fields)
			}
			// A field without omitempty is always sent; the doc must say so.
			// Facts is what the device sends, and the server takes every
			// fact as optional: TestDeviceAPIDocFactsMatchServer asks the
			// server which facts it requires instead.
			if name != "Facts" && !slices.Equal(required, wantRequired) {
				t.Errorf("required %v, want the fields without omitempty %v", required, wantRequired)
			}
		})
	}
}

// jsonFields returns the sorted JSON names of t's fields, and of those
// without omitempty.
func jsonFields(t reflect.Type) (all, required []string) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !slices.Contains(strings.Split(opts, ","), "omitempty") && !slices.Contains(strings.Split(opts, ","), "omitzero") {
			required = append(required, name)
		}
	}
	slices.Sort(all)
	slices.Sort(required)
	return all, required
}

func TestOpenAPIDocRefsResolve(t *testing.T) {
	doc, text := loadDeviceAPIDoc(t)
	refs := regexp.MustCompile(`\$ref: "#/([^"]+)"`).FindAllStringSubmatch(text, -1)
	if len(refs) == 0 {
		t.Fatal("no $ref found")
	}
	for _, ref := range refs {
		docNode(t, doc, strings.Split(ref[1], "/")...)
	}
}

func TestOpenAPIDocExplainsProofsAndLinks(t *testing.T) {
	doc, text := loadDeviceAPIDoc(t)
	scheme := docNode(t, doc, "components", "securitySchemes", "TrustgateProof").(map[string]any)
	if scheme["type"] != "http" || scheme["scheme"] != protocol.AuthScheme {
		t.Errorf("TrustgateProof is %v %v, want http %s", scheme["type"], scheme["scheme"], protocol.AuthScheme)
	}
	desc, _ := scheme["description"].(string)
	mustMention := []string{protocol.ProofType, "ES256", "jwk", "kid", "RFC 7638", "60 s", protocol.BodyHash(nil)}
	for f := range reflect.TypeFor[protocol.ProofClaims]().Fields() {
		mustMention = append(mustMention, "`"+strings.Split(f.Tag.Get("json"), ",")[0]+"`")
	}
	for _, s := range mustMention {
		if !strings.Contains(desc, s) {
			t.Errorf("TrustgateProof description does not mention %s", s)
		}
	}

	for _, s := range []string{
		protocol.Scheme + "://verify?", protocol.Scheme + "://activate?",
		protocol.VerifyLinkPath + "?", protocol.ActivateLinkPath + "?", protocol.ReturnPath + "?",
		"intent://", "S.browser_fallback_url=",
		protocol.ParamOrigin + "=", protocol.ParamTransaction + "=", protocol.ParamChallenge + "=", protocol.ParamCode + "=",
		"/.well-known/apple-app-site-association", "/.well-known/assetlinks.json",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("%s does not mention %s", deviceAPIDoc, s)
		}
	}
	passcode := docNode(t, doc, "x-trustgate-passcode").(map[string]any)
	if passcode["digits"] != int(device.PasscodeDigits) || passcode["period"] != int(device.PasscodePeriod.Seconds()) || passcode["algorithm"] != "SHA1" {
		t.Errorf("x-trustgate-passcode = %v, want SHA1, %d digits, %v", passcode, device.PasscodeDigits, device.PasscodePeriod)
	}
}

// TestOpenAPIDocListsEveryErrorCode reads the codes the device API answers
// with from the device service's source (device.Code...), so a new code
// cannot go undocumented.
func TestOpenAPIDocListsEveryErrorCode(t *testing.T) {
	doc, _ := loadDeviceAPIDoc(t)
	var documented []string
	for _, c := range docNode(t, doc, "components", "schemas", "Error", "properties", "code", "enum").([]any) {
		documented = append(documented, c.(string))
	}
	files, err := filepath.Glob(filepath.Join("device", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	use := regexp.MustCompile(`\bCode[A-Za-z]+\s*=\s*"([a-z_]+)"`)
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range use.FindAllStringSubmatch(string(src), -1) {
			found++
			if !slices.Contains(documented, m[1]) {
				t.Errorf("%s answers with code %q, which the Error schema does not list", f, m[1])
			}
		}
	}
	if found == 0 {
		t.Error("found no device.Code constants; update this test to where the device API's codes are")
	}
}
