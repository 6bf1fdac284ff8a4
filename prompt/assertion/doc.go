// Package assertion signs the upstream assertion: a short-lived JWT
// (ES256) of the signed-in identity and the access device's trust that the
// gate sets on every request it lets through, for upstreams that can
// verify it rather than trust plain identity headers. Its keys are shared
// by every instance through the store (SigningKeys, refreshed and rotated
// by the runtime) and published as a JSON Web Key Set (ServeJWKS). A
// Signer keeps each token for reuse by later requests of the same
// session, so the hot path signs only when a token is half way through
// its life.
package assertion
