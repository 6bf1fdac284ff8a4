package prompt

import (
	"html/template"
	"net/http"
	"time"

	"github.com/trustgate/trustgate/prompt/accessdevice"
	"github.com/trustgate/trustgate/prompt/assertion"
	"github.com/trustgate/trustgate/prompt/pages"
	"github.com/trustgate/trustgate/prompt/store"
)

// Forwarding names for code outside the pages helper's files, while the
// restructure lands; the lead removes this file after merging.

// ClassifyAccessDevice is accessdevice.Classify.
func ClassifyAccessDevice(r *http.Request) accessdevice.Device { return accessdevice.Classify(r) }

// AcceptClientHints is accessdevice.AcceptClientHints.
const AcceptClientHints = accessdevice.AcceptClientHints

// Forwarding names of package assertion.
type (
	// Assertion is assertion.Config.
	Assertion = assertion.Config
	// AssertionClaims is assertion.Claims.
	AssertionClaims = assertion.Claims
	// SigningKeys is assertion.SigningKeys.
	SigningKeys = assertion.SigningKeys
)

// NewSigningKeys is assertion.NewSigningKeys.
func NewSigningKeys(keys []store.SigningKey) (*SigningKeys, error) {
	return assertion.NewSigningKeys(keys)
}

// NewSigningKey is assertion.NewSigningKey.
func NewSigningKey(created, activates time.Time) (store.SigningKey, error) {
	return assertion.NewSigningKey(created, activates)
}

// Assertion names of package assertion.
const (
	DefaultAssertionHeader     = assertion.DefaultHeader
	MaxAssertionLifetime       = assertion.MaxLifetime
	SigningKeyPropagationDelay = assertion.SigningKeyPropagationDelay
)

// qrCodeDataURI is pages.QRCode.
func qrCodeDataURI(content string) (template.URL, error) { return pages.QRCode(content) }
