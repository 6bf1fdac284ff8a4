package prompt

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pages holds the parsed page templates.
type pages struct {
	login, message, logout *template.Template
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
}

func (g *Gate) render(w http.ResponseWriter, t *template.Template, status int, data pageData) {
	data.Application = g.cfg.Application
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		g.cfg.Logger.Error("rendering page", zapError(err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	securityHeaders(w)
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

// serveStatic serves the gateway's embedded stylesheet and images.
func serveStatic(w http.ResponseWriter, r *http.Request, name string) {
	sub, _ := fs.Sub(staticFiles, "static")
	if name == "" || path.Clean(name) != name {
		http.NotFound(w, r)
		return
	}
	data, err := fs.ReadFile(sub, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}
