package caddymodule

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/web"
)

//go:embed dashboard/templates/*.html
var dashboardTemplates embed.FS

//go:embed dashboard/static
var dashboardStatic embed.FS

// dashboardCSP lets the dashboard's pages load its own stylesheet and
// nothing else: no script at all, charts are inline SVG drawn on the server,
// forms post only to the dashboard, and no page may be framed.
const dashboardCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// dashboardPages holds the parsed templates, one per view.
type dashboardPages struct {
	views map[string]*template.Template
}

// dashboardViews are the templates under dashboard/templates besides the
// layout.
var dashboardViews = []string{"overview", "endpoints", "device", "confirm", "authlog", "impact", "error", "activate"}

func loadDashboardPages() (*dashboardPages, error) {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, errors.New("dict: want key and value pairs")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
	}
	p := &dashboardPages{views: make(map[string]*template.Template)}
	for _, name := range dashboardViews {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(dashboardTemplates,
			"dashboard/templates/layout.html", "dashboard/templates/chart.html", "dashboard/templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parsing dashboard template %s: %w", name, err)
		}
		p.views[name] = t
	}
	return p, nil
}

// dashboardPage is what every dashboard template receives.
type dashboardPage struct {
	Title string
	// Nav names the view shown, for the navigation bar.
	Nav string
	// User is the signed-in admin; empty on a page shown to nobody.
	User string
	// Base is the dashboard's path prefix, for links.
	Base string
	// Message and Error are shown above the view.
	Message string
	Error   string
	// View is the view's own data.
	View any
}

// render writes a view with status.
func (d *Dashboard) render(w http.ResponseWriter, session *prompt.Session, status int, view string, page dashboardPage) {
	page.Base = d.PathPrefix
	if session != nil {
		page.User = session.User
	}
	var buf bytes.Buffer
	dashboardHeaders(w)
	if err := d.pages.views[view].Execute(&buf, page); err != nil {
		d.logger.Error("rendering dashboard page", zap.String("view", view), zap.Error(err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderError writes an error page.
func (d *Dashboard) renderError(w http.ResponseWriter, session *prompt.Session, status int, title, msg string) {
	d.render(w, session, status, "error", dashboardPage{Title: title, Error: msg})
}

// dashboardHeaders are the headers of every dashboard answer: nothing is
// cached (the pages hold user data), framed, sniffed, or leaked in a
// referrer.
func dashboardHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", dashboardCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
}

// serveDashboardStatic serves the dashboard's embedded stylesheet.
func serveDashboardStatic(w http.ResponseWriter, r *http.Request, name string) {
	sub, _ := fs.Sub(dashboardStatic, "dashboard/static")
	web.ServeEmbedded(w, r, sub, name, func(w http.ResponseWriter) {
		dashboardHeaders(w)
		// Behind the sign-in like every dashboard answer, so private
		// caching only.
		w.Header().Set("Cache-Control", "private, max-age=3600")
	})
}
