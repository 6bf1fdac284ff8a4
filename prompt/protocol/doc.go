// Package protocol holds the public, versioned protocol between the gateway
// and the companion mobile app: the device proof that signs every device
// request, and (as the device API grows) the request and response bodies.
// Both sides use it: the gateway to verify, the reference agent
// (cmd/trustgate-device) to sign. It knows nothing of the gateway's storage
// or of Caddy.
//
// A device proof is a compact JWS, in the spirit of DPoP (RFC 9449), signed
// with the device's ECDSA P-256 key (ES256), that the app sends in the
// Authorization header as "TrustgateProof <jws>". Its protected header has
// typ "trustgate-proof+jwt" and either kid (the device ID, which is the
// RFC 7638 SHA-256 thumbprint of the device's public key) or, for
// activation only, jwk (the new public key itself). Its payload binds the
// proof to one request:
//
//	htm  the HTTP method
//	htu  the request URL without query or fragment
//	iat  issue time, Unix seconds
//	jti  a unique ID, refused if seen again
//	bh   base64url SHA-256 of the request body (of the empty string for none)
package protocol
