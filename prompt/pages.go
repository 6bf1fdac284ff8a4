package prompt

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/web"
	"go.uber.org/zap"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pages holds the parsed page templates.
type pages struct {
	login, message, logout, prompt, denied, notice, applink, forbidden *template.Template
	// signedIn answers a return link opened again after it signed the
	// browser in.
	signedIn *template.Template
}

func loadPages() (*pages, error) {
	parse := func(name string) (*template.Template, error) {
		t, err := template.New("layout.html").ParseFS(templateFiles, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", name, err)
		}
		return t, nil
	}
	var p pages
	var err error
	if p.login, err = parse("login.html"); err != nil {
		return nil, err
	}
	if p.message, err = parse("message.html"); err != nil {
		return nil, err
	}
	if p.logout, err = parse("logout.html"); err != nil {
		return nil, err
	}
	if p.prompt, err = parse("prompt.html"); err != nil {
		return nil, err
	}
	if p.denied, err = parse("denied.html"); err != nil {
		return nil, err
	}
	if p.notice, err = parse("notice.html"); err != nil {
		return nil, err
	}
	if p.applink, err = parse("applink.html"); err != nil {
		return nil, err
	}
	if p.signedIn, err = parse("signedin.html"); err != nil {
		return nil, err
	}
	if p.forbidden, err = parse("forbidden.html"); err != nil {
		return nil, err
	}
	return &p, nil
}

// pageData is what every page template receives.
type pageData struct {
	Title       string
	Application string
	Message     string
	Error       string
	Link        string
	// Login form
	Username string
	CSRF     string
	Return   string
	// Logout page
	User string
	// Prompt page
	Prompt *promptData
	// Denial and notice pages
	Failed   []findingView
	Warnings []findingView
	// Forbidden page: whom to ask for access, as text or as an email
	// address.
	Contact      string
	ContactEmail string
}

// promptData is what the prompt page shows.
type promptData struct {
	Pending *pendingLogin
	// Devices is how many activated devices the person has, and
	// DeviceNames their models (device-supplied text, escaped on output).
	Devices     int
	DeviceNames []string
	// AppLink, HTTPSLink and IntentLink open the app for the inline check.
	AppLink    template.URL
	HTTPSLink  string
	IntentLink template.URL
	// TimedOut says the app did not answer the last request in time.
	TimedOut bool
	// Number is the number to type in the app for a pending push.
	Number string
	// Activation links and QR code, for enrollment.
	ActivationApp   template.URL
	ActivationHTTPS string
	ActivationQR    template.URL
	// AddDevice says the activation is for another device of a person
	// who has one, to be approved there (enrollment approve).
	AddDevice bool
	// CanSkip offers to continue without a checked device (mode check,
	// no activated app).
	CanSkip bool
}

// findingView is a failed or warned requirement as the pages show it.
type findingView struct {
	Reason   string
	Hint     string
	Deadline string
}

func findingViews(fs []policy.Finding) []findingView {
	out := make([]findingView, 0, len(fs))
	for _, f := range fs {
		v := findingView{Reason: string(f.Reason), Hint: f.Hint}
		if !f.Deadline.IsZero() {
			v.Deadline = f.Deadline.UTC().Format("2 January 2006")
		}
		out = append(out, v)
	}
	return out
}

func (g *Gate) render(w http.ResponseWriter, t *template.Template, status int, data pageData) {
	if data.Application == "" {
		data.Application = g.cfg.Application
	}
	var buf bytes.Buffer
	web.SecurityHeaders(w)
	if err := t.Execute(&buf, data); err != nil {
		g.cfg.Logger.Error("rendering page", zap.Error(err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (g *Gate) renderLogin(w http.ResponseWriter, r *http.Request, status int, f *flow, username, errMsg string) {
	g.render(w, g.pages.login, status, pageData{
		Title: "Sign in", Username: username, CSRF: f.CSRF, Return: f.Return, Error: errMsg,
	})
}

func (g *Gate) renderMessage(w http.ResponseWriter, r *http.Request, status int, title, msg, link string) {
	g.render(w, g.pages.message, status, pageData{Title: title, Message: msg, Link: link})
}

func (g *Gate) renderLogout(w http.ResponseWriter, r *http.Request, s *Session) {
	data := pageData{Title: "Sign out"}
	if s != nil {
		data.User, data.CSRF = s.User, s.CSRF
	}
	g.render(w, g.pages.logout, http.StatusOK, data)
}

func (g *Gate) renderPrompt(w http.ResponseWriter, r *http.Request, status int, f *flow, data promptData, errMsg string) {
	g.render(w, g.pages.prompt, status, pageData{
		Title: "Check your device", CSRF: f.CSRF, Error: errMsg, Prompt: &data, User: f.Pending.User,
	})
}

func (g *Gate) renderDenied(w http.ResponseWriter, r *http.Request, failed, warnings []policy.Finding) {
	g.render(w, g.pages.denied, http.StatusForbidden, pageData{
		Title: "Access denied", Failed: findingViews(failed), Warnings: findingViews(warnings), Link: ReservedPrefix + "login",
	})
}

func (g *Gate) renderNotice(w http.ResponseWriter, r *http.Request, warnings []policy.Finding, next string) {
	g.render(w, g.pages.notice, http.StatusOK, pageData{
		Title: "Please update your device", Warnings: findingViews(warnings), Link: SafeReturn(next),
	})
}

// serveAppLinkFallback is what a browser shows when it opens one of the
// app's HTTPS links itself, because the app is not installed.
func (g *Gate) serveAppLinkFallback(w http.ResponseWriter, r *http.Request) {
	g.render(w, g.pages.applink, http.StatusOK, pageData{
		Title: "Open the trustgate app", Link: pathVerify,
	})
}

// staticMaxAge is how long browsers may keep the gateway's fixed files.
const staticMaxAge = time.Hour

// serveStatic serves the gateway's embedded stylesheet, script and images.
func serveStatic(w http.ResponseWriter, r *http.Request, name string) {
	sub, _ := fs.Sub(staticFiles, "static")
	web.ServeEmbedded(w, r, sub, name, func(w http.ResponseWriter) { web.StaticHeaders(w, staticMaxAge) })
}
