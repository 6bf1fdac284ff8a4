package prompt

import (
	"context"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/web"
)

// pageCause is the cause of a gate error that carries what its page needs
// beyond the status and message of its web.Error: the page's title and its
// link (sign in again, go back). What names the step that failed for the
// log of a server-side failure; empty, the failure is logged where it
// happened (or not at all).
type pageCause struct {
	title, link string
	what        string
	err         error
}

func (c *pageCause) Error() string {
	switch {
	case c.err == nil:
		return c.title
	case c.what == "":
		return c.err.Error()
	}
	return c.what + ": " + c.err.Error()
}

func (c *pageCause) Unwrap() error { return c.err }

// pageErr is an error answered with the gateway's message page titled
// title, saying msg, with link (empty: none).
func pageErr(status int, title, msg, link string) error {
	return &web.Error{Status: status, Message: msg, Err: &pageCause{title: title, link: link}}
}

// failedErr is pageErr for a failure of the step what, whose cause err is
// logged by the error writer.
func failedErr(status int, title, msg, what string, err error) error {
	return &web.Error{Status: status, Message: msg, Err: &pageCause{title: title, what: what, err: err}}
}

// errUnavailable tells the person that the gateway cannot sign anyone in
// right now (storage unreachable); the cause is logged. A client that went
// away is told nothing (nil): nothing failed on the gateway's side.
func (g *Gate) errUnavailable(r *http.Request, what string, err error) error {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		g.cfg.Logger.Debug(what+": the client went away", zap.Error(err))
		return nil
	}
	return failedErr(http.StatusServiceUnavailable, "Temporarily unavailable",
		"Sign-in is temporarily unavailable. Please try again in a minute.", what, err)
}

// errStoreUnavailable is errUnavailable for a storage failure that no fail
// mode applies to, counted as a store error.
func (g *Gate) errStoreUnavailable(r *http.Request, what string, err error) error {
	g.storeFailed(what, err)
	return g.errUnavailable(r, what, err)
}

// errInternal is a generic error page; the cause is logged.
func errInternal(what string, err error) error {
	return failedErr(http.StatusInternalServerError, "Something went wrong",
		"The gateway could not complete your request. Please try again.", what, err)
}

// errMethod answers a method the route does not take, with link back.
func errMethod(w http.ResponseWriter, allow, link string) error {
	if allow != "" {
		w.Header().Set("Allow", allow)
	}
	return pageErr(http.StatusMethodNotAllowed, "Not allowed", "That method is not allowed here.", link)
}

// errorPage is the error writer's page: the message page with the title
// and link a pageCause carries, or the pages writer's error page.
func (g *Gate) errorPage(w http.ResponseWriter, r *http.Request, e *web.Error) {
	var c *pageCause
	if errors.As(e.Err, &c) {
		g.pages.Message(w, r, e.Status, c.title, e.Message, c.link)
		return
	}
	g.pages.Error(w, r, e)
}

// logError logs a gateway answer that failed on the server's side: a
// pageCause's step with its cause, or the path answered.
func (g *Gate) logError(r *http.Request, e *web.Error) {
	var c *pageCause
	if errors.As(e.Err, &c) {
		if c.what != "" {
			g.cfg.Logger.Error(c.what, zap.Error(c.err))
		}
		return
	}
	g.cfg.Logger.Error("answering "+r.URL.Path, zap.Int("status", e.Status), zap.Error(e.Err))
}

// writeError answers err on the proxied path (not one of the gateway's
// own routes, whose handlers return their errors): with the page security
// headers, a page for a browser and JSON for any other client, as on the
// gateway's routes.
func (g *Gate) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		return
	}
	web.SecurityHeaders(w)
	g.errors.Write(w, r, err)
}
