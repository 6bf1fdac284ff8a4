package admin

import (
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/adminapi"
	"github.com/trustgate/trustgate/prompt/web"
)

func init() {
	caddy.RegisterModule(AdminAPI{})
}

// AdminAPI serves the gateway's admin API (package adminapi) on Caddy's
// admin endpoint, under /trusted-endpoints/; docs/admin-api.md documents
// each route with its parameters and answers.
//
// Caddy's admin endpoint has no authentication of its own: keep it on
// localhost or a unix socket, as Caddy does by default.
type AdminAPI struct {
	ctx     caddy.Context
	logger  *zap.Logger
	handler *adminapi.Handler
}

// CaddyModule returns the Caddy module information.
func (AdminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.trusted_endpoints",
		New: func() caddy.Module { return new(AdminAPI) },
	}
}

// Provision keeps the context; the app is looked up per request, since the
// admin module is provisioned before the apps.
func (a *AdminAPI) Provision(ctx caddy.Context) error {
	a.ctx = ctx
	a.logger = ctx.Logger(a)
	a.handler = adminapi.New(a.gateway, a.logger)
	return nil
}

// Routes returns the admin routes: every path under /trusted-endpoints/
// goes to the admin API.
func (a *AdminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: adminapi.Prefix, Handler: caddy.AdminHandlerFunc(a.serve)}}
}

// serve hands the request to the admin API, which answers its own errors.
func (a *AdminAPI) serve(w http.ResponseWriter, r *http.Request) error {
	a.handler.ServeHTTP(w, r)
	return nil
}

// gateway returns the running app as the admin API sees it; a 404 when
// none runs.
func (a *AdminAPI) gateway() (adminapi.Gateway, error) {
	appIface, err := a.ctx.AppIfConfigured(appName)
	if err != nil {
		return nil, &web.Error{Status: http.StatusNotFound, Message: fmt.Sprintf("trusted_endpoints is not running: %v", err), Err: err}
	}
	app, err := asApp(appIface)
	if err != nil {
		return nil, err
	}
	return gateway{app: app}, nil
}

// Interface guards
var (
	_ caddy.AdminRouter = (*AdminAPI)(nil)
	_ caddy.Provisioner = (*AdminAPI)(nil)
)
