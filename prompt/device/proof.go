package device

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

// ProofMaxAge is how far a proof's issue time may be from now.
const ProofMaxAge = 60 * time.Second

// proofUnavailable is what a device is told when its proof cannot be
// checked for a store failure.
const proofUnavailable = "the gateway cannot check devices right now"

// ProofKey returns the public key of the activated device id, for checking
// its proof, and sets *d to the device. An unknown device is
// protocol.ErrUnknownDevice.
func (s *Service) ProofKey(ctx context.Context, id string, d **store.Device) (*ecdsa.PublicKey, error) {
	dev, err := s.st.Device(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", protocol.ErrUnknownDevice, truncate(id, 64))
	}
	if err != nil {
		return nil, err
	}
	*d = &dev
	return protocol.ParsePublicJWK(dev.PublicKey)
}

// ProofRefused is the Error of a proof that protocol.VerifyProof refused
// with err.
func (s *Service) ProofRefused(err error) *Error {
	switch {
	case errors.Is(err, protocol.ErrUnknownDevice):
		return refuse(CodeUnknownDevice, "the proof's key is not an activated device")
	case errors.Is(err, protocol.ErrMalformedProof), errors.Is(err, protocol.ErrProofSignature),
		errors.Is(err, protocol.ErrProofStale), errors.Is(err, protocol.ErrProofMismatch):
		return refuse(CodeInvalidProof, truncate(err.Error(), 200))
	}
	s.log.Error("checking device proof", zap.Error(err))
	return &Error{Code: CodeUnavailable, Message: proofUnavailable, Err: err}
}

// UseProof uses up the unique ID of a verified proof, so that a replayed
// proof is refused, and refuses a revoked device d (nil for an
// activation).
func (s *Service) UseProof(ctx context.Context, vp protocol.VerifiedProof, d *store.Device) error {
	fresh, err := s.st.UseOnce(ctx, "proof:"+vp.DeviceID+":"+vp.Claims.ID, s.now().Add(2*ProofMaxAge))
	if err != nil {
		s.log.Error("recording device proof", zap.Error(err))
		return &Error{Code: CodeUnavailable, Message: proofUnavailable, Err: err}
	}
	if !fresh {
		return refuse(CodeReplayedProof, "this proof was already used")
	}
	if d != nil && !d.Active() {
		return refuse(CodeRevokedDevice, "this device was revoked; activate it again")
	}
	return nil
}

// truncate cuts s to at most n bytes of valid UTF-8.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
