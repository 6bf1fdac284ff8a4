package deviceapi

import (
	"errors"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/web"
)

// Config configures the device API of one gate.
type Config struct {
	// Service is the device service; nil answers every request with 404
	// (device checks are not enabled on the site).
	Service *device.Service
	// Limiter rate-limits the API (see Limiter). Nil: no rate limits, and
	// 10s to read a body.
	Limiter *Limiter
	// Application names the protected application in login requests.
	// Default: the host the request came to.
	Application string
	// ClientIP returns the client's IP address for r. Required.
	ClientIP func(r *http.Request) string
	// Retired, once closed, says a replacement has taken over (a
	// configuration reload): a held long-poll answers at once. Exiting
	// reports whether the process is shutting down, to the same effect.
	Retired <-chan struct{}
	Exiting func() bool
	// Logger receives operational logs. Default: no-op.
	Logger *zap.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// API answers the device API under protocol.APIPrefix.
type API struct {
	cfg    Config
	svc    *device.Service
	mux    *http.ServeMux
	errors web.ErrorWriter
}

// New returns the device API of cfg.
func New(cfg Config) *API {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &API{cfg: cfg, svc: cfg.Service}
	a.errors = web.ErrorWriter{Log: a.logFailure}
	p := protocol.APIPrefix
	a.mux = http.NewServeMux()
	a.mux.Handle(p+"activate", a.handle(http.MethodPost, a.activate))
	a.mux.Handle(p+"device", a.handle(http.MethodGet, a.deviceRecord))
	a.mux.Handle(p+"pushes", a.handle(http.MethodGet, a.pushes))
	a.mux.Handle(p+"pushes/{id...}", a.handle(http.MethodPost, a.answer))
	a.mux.Handle(p+"transactions/{id}/report", a.handle(http.MethodPost, a.report))
	a.mux.Handle("/", a.handle("", notFound))
	return a
}

// ServeHTTP answers a device API request: no device check, rate limits,
// then the route.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.svc == nil {
		a.errors.Write(w, r, &web.Error{Status: http.StatusNotFound, Code: device.CodeNotFound, Message: "device checks are not enabled on this site"})
		return
	}
	if err := a.limit(w, r, strings.TrimPrefix(r.URL.Path, protocol.APIPrefix)); err != nil {
		a.errors.Write(w, r, a.webError(w, err))
		return
	}
	if r.URL.Path != cleanPath(r.URL.Path) {
		// The mux would redirect to the clean path; no device asks for
		// one, and the API answers only its own paths.
		a.errors.Write(w, r, a.webError(w, notFound(w, r)))
		return
	}
	a.mux.ServeHTTP(w, r)
}

// cleanPath is p as the mux wants it: clean, with its trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// handle adapts h, which answers method only, to an http.Handler whose
// failures the API's error writer answers.
func (a *API) handle(method string, h web.HandlerFunc) http.Handler {
	return a.errors.Handle(func(w http.ResponseWriter, r *http.Request) error {
		if method != "" && r.Method != method {
			w.Header().Set("Allow", method)
			return &web.Error{Status: http.StatusMethodNotAllowed, Code: device.CodeBadRequest,
				Message: "method " + r.Method + " not allowed; use " + method}
		}
		if err := h(w, r); err != nil {
			return a.webError(w, err)
		}
		return nil
	})
}

func notFound(http.ResponseWriter, *http.Request) error {
	return &web.Error{Status: http.StatusNotFound, Code: device.CodeNotFound, Message: "no such device API endpoint"}
}

// statusOf is the HTTP status of each code the device service answers
// with.
var statusOf = map[string]int{
	device.CodeBadRequest:        http.StatusBadRequest,
	device.CodeNotFound:          http.StatusNotFound,
	device.CodeConflict:          http.StatusConflict,
	device.CodeExpired:           http.StatusGone,
	device.CodeWrongUser:         http.StatusForbidden,
	device.CodeWrongChallenge:    http.StatusForbidden,
	device.CodeWrongNumber:       http.StatusForbidden,
	device.CodeAlreadyAnswered:   http.StatusConflict,
	device.CodeUnavailable:       http.StatusServiceUnavailable,
	device.CodeTooManyRequests:   http.StatusTooManyRequests,
	device.CodeEnrollmentRefused: http.StatusForbidden,
	device.CodeInvalidProof:      http.StatusUnauthorized,
	device.CodeUnknownDevice:     http.StatusUnauthorized,
	device.CodeReplayedProof:     http.StatusUnauthorized,
	device.CodeRevokedDevice:     http.StatusForbidden,
	device.CodeRateLimited:       http.StatusTooManyRequests,
}

// webError turns an error of the device service (or of this package) into
// the answer's; a rate limit sets Retry-After on w.
func (a *API) webError(w http.ResponseWriter, err error) error {
	var de *device.Error
	var rl *rateLimited
	switch {
	case errors.As(err, &rl):
		return rl.webError(w)
	case errors.As(err, &de):
		status, ok := statusOf[de.Code]
		if !ok {
			status = http.StatusInternalServerError
		}
		return &web.Error{Status: status, Message: de.Message, Code: de.Code, Err: de}
	}
	return err
}

// logFailure logs a failure the device service has not logged already.
func (a *API) logFailure(r *http.Request, e *web.Error) {
	var de *device.Error
	if errors.As(e.Err, &de) {
		return
	}
	a.cfg.Logger.Error("device API", zap.String("path", r.URL.Path), zap.Error(e))
}

// caller describes r for the device service.
func (a *API) caller(r *http.Request) device.Caller {
	app := a.cfg.Application
	if app == "" {
		app = hostName(r.Host)
	}
	return device.Caller{
		Origin: requestOrigin(r), Application: app,
		IP: a.cfg.ClientIP(r), UserAgent: truncate(r.UserAgent(), maxUserAgent),
	}
}

// maxUserAgent caps the user agent kept in a transaction.
const maxUserAgent = 512

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// hostName returns host without its port.
func hostName(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

var _ http.Handler = (*API)(nil)
