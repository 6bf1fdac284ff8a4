package caddymodule

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"

	"github.com/trustgate/trustgate/caddymodule/login"
)

// loadLogin loads the handler's login module.
func (h *Handler) loadLogin(ctx caddy.Context) (login.Login, error) {
	if err := login.CheckSource(h.LoginRaw); err != nil {
		return nil, err
	}
	mod, err := ctx.LoadModule(h, "LoginRaw")
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	source, ok := mod.(login.Login)
	if !ok {
		return nil, fmt.Errorf("login: module %T is not a login source (it lacks ConfigureGate or Realm)", mod)
	}
	return source, nil
}
