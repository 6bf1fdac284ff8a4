package pages

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/web"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Writer writes the gateway's pages. Each method answers one page, with
// the page security headers; status is the answer's status.
type Writer interface {
	// Login is the users-file login form.
	Login(w http.ResponseWriter, r *http.Request, status int, p Login)
	// Message is a page of a title, a message and, when link is set, a
	// button to start again there.
	Message(w http.ResponseWriter, r *http.Request, status int, title, msg, link string)
	// Error is the page of an error a handler returned: the Page func of
	// a web.ErrorWriter.
	Error(w http.ResponseWriter, r *http.Request, e *web.Error)
	// Logout offers user (empty: nobody is signed in) to sign out.
	Logout(w http.ResponseWriter, r *http.Request, user, csrf string)
	// Prompt is the device check: the app's links, other factors and
	// enrollment.
	Prompt(w http.ResponseWriter, r *http.Request, status int, p Prompt)
	// Denied says which integration decided (the mobile app, a managed
	// device's certificate, or none when none could check the device),
	// which requirements the device failed (403), and links to sign in
	// again.
	Denied(w http.ResponseWriter, r *http.Request, decidedBy policy.Decider, failed, warnings []policy.Finding, link string)
	// Notice lets a person in whose device needs attention soon, with a
	// link to go on to.
	Notice(w http.ResponseWriter, r *http.Request, warnings []policy.Finding, link string)
	// AppLink is what a browser shows when it opens one of the app's HTTPS
	// links itself, because the app is not installed.
	AppLink(w http.ResponseWriter, r *http.Request, link string)
	// SignedIn answers a return link opened again after it signed the
	// browser in.
	SignedIn(w http.ResponseWriter, r *http.Request, user, link string)
	// Forbidden tells user, signed in, that the access rules of
	// application refuse them, and whom (contact: text or an email
	// address; empty: the administrator) to ask.
	Forbidden(w http.ResponseWriter, r *http.Request, application, user, csrf, contact string)
	// ServeStatic serves the embedded static file name (stylesheet,
	// script).
	ServeStatic(w http.ResponseWriter, r *http.Request, name string)
}

// Opts configures a Writer.
type Opts struct {
	// Application names the protected application on every page.
	Application string
	// Logger hears of a page that failed to render. Default: no-op.
	Logger *zap.Logger
}

// writer is the Writer: the parsed templates of every page.
type writer struct {
	opts                                                                         Opts
	login, message, logout, prompt, denied, notice, applink, forbidden, signedIn *template.Template
}

// NewWriter parses the page templates.
func NewWriter(opts Opts) (Writer, error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	p := &writer{opts: opts}
	for name, t := range map[string]**template.Template{
		"login.html": &p.login, "message.html": &p.message, "logout.html": &p.logout,
		"prompt.html": &p.prompt, "denied.html": &p.denied, "notice.html": &p.notice,
		"applink.html": &p.applink, "signedin.html": &p.signedIn, "forbidden.html": &p.forbidden,
	} {
		parsed, err := template.New("layout.html").ParseFS(templateFiles, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", name, err)
		}
		*t = parsed
	}
	return p, nil
}

// render answers t of data with status, or a plain 500 when t fails.
func (p *writer) render(w http.ResponseWriter, t *template.Template, status int, data pageData) {
	if data.Application == "" {
		data.Application = p.opts.Application
	}
	var buf bytes.Buffer
	web.SecurityHeaders(w)
	if err := t.Execute(&buf, data); err != nil {
		p.opts.Logger.Error("rendering page", zap.Error(err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

var _ Writer = (*writer)(nil)
