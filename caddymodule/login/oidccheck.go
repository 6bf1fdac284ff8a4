package login

import (
	"context"
	"fmt"
	"time"

	"github.com/trustgate/trustgate/prompt/signin"
	"go.uber.org/zap"
)

// oidcCheckWait is how long loading a configuration waits for the OIDC
// provider's discovery document. A provider that answers later is still
// checked, in the background, with the configured timeout.
const oidcCheckWait = 3 * time.Second

// CheckLogin reads the provider's discovery document when the
// configuration is loaded (this includes `trustgate validate`). A provider
// that answers with another issuer, or with no provider at the issuer URL,
// is a configuration error that refuses the configuration; one that cannot
// be reached only logs a warning, so the gateway starts while the provider
// is down and its sign-ins say so until it is back. Nothing learned here is
// kept: the first sign-in discovers the provider as before.
func (o *OIDCLogin) CheckLogin(logger *zap.Logger) error {
	if o.login == nil {
		return nil
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	issuer := zap.String("issuer", o.login.Issuer())
	done := make(chan error, 1)
	go func() {
		warnings, err := o.login.CheckProvider(context.Background())
		for _, w := range warnings {
			logger.Warn("OIDC provider: "+w, issuer)
		}
		done <- err
	}()
	report := func(err error) error {
		switch {
		case err == nil:
			return nil
		case signin.IsConfigurationError(err):
			logger.Error("OIDC provider answers, but not as configured: nobody can sign in", issuer, zap.Error(err))
			return fmt.Errorf("login oidc: %w", err)
		default:
			logger.Warn("OIDC provider not reachable while loading the configuration; sign-ins will try again", issuer, zap.Error(err))
			return nil
		}
	}
	select {
	case err := <-done:
		return report(err)
	case <-time.After(oidcCheckWait):
		// Do not hold the start up: the answer, when it comes (within the
		// provider timeout), is logged.
		go func() { _ = report(<-done) }()
		return nil
	}
}
