package prompt

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/accessdevice"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
)

// This file is the managed-device check: where Policy.Decider names the
// managed integration, the request's verified client certificate is looked
// up in the active inventory, and a session it vouched for stays bound to
// that certificate.

// Integrations that decide a device's trust, as the auth log names them.
const (
	integrationMobile  = string(policy.DecidedByMobile)
	integrationManaged = string(policy.DecidedByManaged)
)

// accessPlatform is the platform of the access device as the integrations
// name it: ios or android for a phone or tablet the mobile app can check,
// windows, macos or linux for a desktop, "" for anything else. Like the
// classification it comes from, it proves nothing: the managed check also
// holds the platform of the inventory's entry to the rules.
func accessPlatform(a accessdevice.Device) policy.Platform {
	if a.Platform != "" {
		return policy.Platform(a.Platform)
	}
	if a.Kind != accessdevice.KindDesktop {
		return ""
	}
	switch a.OS {
	case "Windows":
		return policy.Windows
	case "macOS":
		return policy.MacOS
	case "Linux":
		return policy.Linux
	}
	return ""
}

// verifiedLeaf returns the client certificate of r's connection when the
// TLS handshake verified it against the site's trust pool, else nil. The
// certificates a client merely sent (PeerCertificates) are never read: a
// site that asks for certificates without verifying them would otherwise
// trust anyone's self-made one.
func verifiedLeaf(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil
	}
	return r.TLS.VerifiedChains[0][0]
}

// certificateDigest is the SHA-256 of cert, as a session carries it.
func certificateDigest(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// managedEntry returns the active inventory's entry for cert, found by the
// policy's match, when it may vouch for a user in groups: the entry's own
// platform must be one the managed check decides for this person, so a
// phone's entry never overrides the mobile app where it applies, whatever
// the user agent says.
// It also returns the ID of the inventory that holds the entry.
func (d *DeviceTrust) managedEntry(groups []string, cert *x509.Certificate) (e store.InventoryEntry, inventoryID string, ok bool) {
	if d.Inventory == nil || cert == nil {
		return store.InventoryEntry{}, "", false
	}
	index := d.Inventory.Index()
	e, ok = index.Lookup(cert, d.Policy.Managed.MatchBy())
	if !ok || d.Policy.Decider(groups, policy.Platform(e.Platform)) != policy.DecidedByManaged {
		return store.InventoryEntry{}, "", false
	}
	return e, index.Inventory().ID, true
}

// managedCheck decides v, whose access device the managed integration
// decides for, from r's verified client certificate.
func (g *Gate) managedCheck(r *http.Request, v verification) verification {
	d := g.cfg.Device
	v.Integration = integrationManaged
	leaf := verifiedLeaf(r)
	if leaf == nil {
		v.Status, v.Failed = policy.NotTrusted, []policy.Finding{device.NoDeviceCertificateFinding()}
		return v
	}
	e, inventoryID, ok := d.managedEntry(v.Groups, leaf)
	if !ok {
		v.Status, v.Failed = policy.NotTrusted, []policy.Finding{device.NotManagedFinding()}
		return v
	}
	v.Status, v.Factor, v.Reason = policy.Trusted, factorManagedCertificate, reasonManagedDevice
	v.Certificate = certificateDigest(leaf)
	v.Detail = truncate(fmt.Sprintf("managed device %q (%s), inventory %s", e.Label, e.Platform, inventoryID), 256)
	// The entry itself goes in the facts, for views that tell devices
	// apart (the dashboard's last seen). Marshalling strings cannot fail.
	v.Facts, _ = json.Marshal(store.ManagedLogin{Inventory: inventoryID, Device: e})
	return v
}

// certificateHolds reports whether the managed-device trust of s still
// counts for r: r's connection presents the very certificate that vouched
// for it, verified, and the active inventory still holds its device. It
// reads only the TLS state and the index in memory.
func (g *Gate) certificateHolds(r *http.Request, s *session.Session) bool {
	leaf := verifiedLeaf(r)
	if leaf == nil {
		return false
	}
	digest := certificateDigest(leaf)
	if subtle.ConstantTimeCompare([]byte(digest), []byte(s.DeviceCertificate)) != 1 {
		return false
	}
	_, _, ok := g.cfg.Device.managedEntry(s.Groups, leaf)
	return ok
}
