package protocol

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// ProofType is the typ header of a device proof.
const ProofType = "trustgate-proof+jwt"

// AuthScheme is the Authorization scheme that carries a device proof.
const AuthScheme = "TrustgateProof"

// MaxProofSize bounds the proofs the gateway parses.
const MaxProofSize = 4096

// ProofClaims is the payload of a device proof.
type ProofClaims struct {
	Method   string `json:"htm"`
	URL      string `json:"htu"`
	IssuedAt int64  `json:"iat"`
	ID       string `json:"jti"`
	BodyHash string `json:"bh"`
}

// Errors a proof is refused with. Each is wrapped with detail.
var (
	ErrMalformedProof = errors.New("malformed device proof")
	ErrProofSignature = errors.New("device proof signature does not verify")
	ErrProofStale     = errors.New("device proof is stale or from the future")
	ErrProofMismatch  = errors.New("device proof is for another request")
	ErrUnknownDevice  = errors.New("unknown device key")
)

// DeviceID returns the ID of a device public key: its RFC 7638 SHA-256
// thumbprint, base64url without padding.
func DeviceID(pub *ecdsa.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// PublicJWK returns the public key as JSON Web Key JSON.
func PublicJWK(pub *ecdsa.PublicKey) ([]byte, error) {
	return json.Marshal(jose.JSONWebKey{Key: pub, Algorithm: string(jose.ES256), Use: "sig"})
}

// ParsePublicJWK parses an ECDSA P-256 public key from JSON Web Key JSON.
func ParsePublicJWK(data []byte) (*ecdsa.PublicKey, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("parsing JWK: %w", err)
	}
	pub, ok := jwk.Key.(*ecdsa.PublicKey)
	if !ok || !jwk.IsPublic() || pub.Curve != elliptic.P256() {
		return nil, errors.New("JWK is not an ECDSA P-256 public key")
	}
	return pub, nil
}

// BodyHash returns the bh claim for body.
func BodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ProofURL returns the htu value for a request URL: scheme, host and path,
// without query or fragment.
func ProofURL(u *url.URL) string {
	return (&url.URL{Scheme: strings.ToLower(u.Scheme), Host: strings.ToLower(u.Host), Path: u.Path}).String()
}

// SignProof makes a device proof for one request. With embedKey the
// public key goes in the header (activation, when the gateway does not know
// the key yet); otherwise its device ID goes in kid.
func SignProof(key *ecdsa.PrivateKey, embedKey bool, method string, u *url.URL, body []byte, now time.Time) (string, error) {
	opts := (&jose.SignerOptions{EmbedJWK: embedKey}).WithType(ProofType)
	if !embedKey {
		id, err := DeviceID(&key.PublicKey)
		if err != nil {
			return "", err
		}
		opts = opts.WithHeader(jose.HeaderKey("kid"), id)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("making signer: %w", err)
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	payload, err := json.Marshal(ProofClaims{
		Method:   strings.ToUpper(method),
		URL:      ProofURL(u),
		IssuedAt: now.Unix(),
		ID:       base64.RawURLEncoding.EncodeToString(jti),
		BodyHash: BodyHash(body),
	})
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("signing proof: %w", err)
	}
	return jws.CompactSerialize()
}

// VerifiedProof is a proof that verified: who signed it and its claims.
type VerifiedProof struct {
	// DeviceID is the signing key's ID.
	DeviceID string
	// Key is the signing key; for an embedded key, the key from the header.
	Key *ecdsa.PublicKey
	// Claims is the verified payload. The caller must still refuse a
	// Claims.ID it has seen before (replay).
	Claims ProofClaims
}

// ProofCheck is what VerifyProof checks a proof against.
type ProofCheck struct {
	// Method and URL are the request's; Body its body.
	Method string
	URL    *url.URL
	Body   []byte
	// Now is the time to check iat against; MaxAge the allowed distance
	// either way (clock skew). Default MaxAge: 60s.
	Now    time.Time
	MaxAge time.Duration
	// Key returns the public key of a device ID, or an error wrapping
	// ErrUnknownDevice. Nil means only proofs with an embedded key are
	// accepted (activation); non-nil means only proofs with a kid are.
	Key func(deviceID string) (*ecdsa.PublicKey, error)
}

// VerifyProof checks a compact-serialized device proof: ES256 only, typ
// trustgate-proof+jwt, a signature by the device's key, the method, URL and
// body hash of this request, and an issue time within MaxAge of Now.
func VerifyProof(token string, c ProofCheck) (VerifiedProof, error) {
	var vp VerifiedProof
	if len(token) > MaxProofSize {
		return vp, fmt.Errorf("%w: %d bytes", ErrMalformedProof, len(token))
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		// The library's own words (and Go types) are not the client's
		// business: say what a proof must be.
		return vp, fmt.Errorf("%w: want a compact JWS (three base64url parts joined by dots) with alg ES256 and a valid protected header", ErrMalformedProof)
	}
	if len(jws.Signatures) != 1 {
		return vp, fmt.Errorf("%w: want one signature", ErrMalformedProof)
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != ProofType {
		return vp, fmt.Errorf("%w: typ %q", ErrMalformedProof, typ)
	}
	switch {
	case c.Key == nil:
		if h.JSONWebKey == nil || h.KeyID != "" {
			return vp, fmt.Errorf("%w: an activation proof carries its key in jwk", ErrMalformedProof)
		}
		pub, ok := h.JSONWebKey.Key.(*ecdsa.PublicKey)
		if !ok || !h.JSONWebKey.IsPublic() || pub.Curve != elliptic.P256() {
			return vp, fmt.Errorf("%w: jwk is not an ECDSA P-256 public key", ErrMalformedProof)
		}
		vp.Key = pub
		if vp.DeviceID, err = DeviceID(pub); err != nil {
			return vp, fmt.Errorf("%w: jwk is not an ECDSA P-256 public key", ErrMalformedProof)
		}
	default:
		if h.JSONWebKey != nil || h.KeyID == "" {
			return vp, fmt.Errorf("%w: a device proof names its key in kid", ErrMalformedProof)
		}
		pub, err := c.Key(h.KeyID)
		if err != nil {
			return vp, err
		}
		vp.Key, vp.DeviceID = pub, h.KeyID
	}
	payload, err := jws.Verify(vp.Key)
	if err != nil {
		return vp, ErrProofSignature
	}
	if err := json.Unmarshal(payload, &vp.Claims); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field == "" {
			return vp, fmt.Errorf("%w: the claims must be a JSON object", ErrMalformedProof)
		}
		return vp, fmt.Errorf("%w: claims: %s", ErrMalformedProof, DescribeJSONError(err, ""))
	}
	cl := vp.Claims
	if cl.ID == "" || len(cl.ID) > 128 {
		return vp, fmt.Errorf("%w: jti missing or too long", ErrMalformedProof)
	}
	maxAge := c.MaxAge
	if maxAge <= 0 {
		maxAge = 60 * time.Second
	}
	if d := c.Now.Sub(time.Unix(cl.IssuedAt, 0)); d > maxAge || d < -maxAge {
		return vp, fmt.Errorf("%w: issued %s from now", ErrProofStale, d.Round(time.Second))
	}
	if !strings.EqualFold(cl.Method, c.Method) {
		return vp, fmt.Errorf("%w: method %q", ErrProofMismatch, cl.Method)
	}
	if cl.URL != ProofURL(c.URL) {
		return vp, fmt.Errorf("%w: URL %q", ErrProofMismatch, cl.URL)
	}
	if cl.BodyHash != BodyHash(c.Body) {
		return vp, fmt.Errorf("%w: body hash", ErrProofMismatch)
	}
	return vp, nil
}
