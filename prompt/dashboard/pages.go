package dashboard

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/trustgate/trustgate/prompt/web"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// CSP lets the dashboard's pages load its own stylesheet and nothing else:
// no script at all, charts are inline SVG drawn on the server, forms post
// only to the dashboard, and no page may be framed.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// pages holds the parsed templates, one per view.
type pages struct {
	views map[string]*template.Template
}

// viewNames are the templates under templates/ besides the layout.
func viewNames() []string {
	return []string{"overview", "endpoints", "device", "confirm", "authlog", "impact", "error", "activate", "inventories"}
}

func templateFuncs() template.FuncMap {
	return template.FuncMap{
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
}

func loadPages() (*pages, error) {
	p := &pages{views: make(map[string]*template.Template)}
	for _, name := range viewNames() {
		t, err := template.New("layout.html").Funcs(templateFuncs()).ParseFS(templateFiles,
			"templates/layout.html", "templates/chart.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parsing dashboard template %s: %w", name, err)
		}
		p.views[name] = t
	}
	return p, nil
}

// pageData is what every dashboard template receives.
type pageData struct {
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

// render writes a view with status for person (nil: nobody signed in).
func (h *Handler) render(w http.ResponseWriter, person *Person, status int, view string, pg pageData) error {
	pg.Base = h.cfg.PathPrefix
	if person != nil {
		pg.User = person.User
	}
	var buf bytes.Buffer
	if err := h.pages.views[view].Execute(&buf, pg); err != nil {
		return fmt.Errorf("rendering dashboard page %s: %w", view, err)
	}
	setHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// errorPage is the dashboard's page for an error, titled by its code.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, e *web.Error) {
	if err := h.render(w, h.cfg.SignedIn(r), e.Status, "error", pageData{Title: errorTitle(e.Code), Error: e.Message}); err != nil {
		h.errors.Log(r, web.AsError(err))
		setHeaders(w)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// errorTitle is the heading of the error page of an error code.
func errorTitle(code string) string {
	switch code {
	case "not_found":
		return "Not found"
	case "method_not_allowed", "not_admin":
		return "Not allowed"
	case "misconfigured":
		return "Dashboard not available"
	case "storage_unavailable":
		return "Storage unavailable"
	case "unknown_device":
		return "Unknown device"
	case "revocation_refused":
		return "Revocation refused"
	case "activation_refused":
		return "Activation refused"
	case "inventory_refused":
		return "Change refused"
	case "unknown_inventory":
		return "Unknown inventory"
	case "inventory_conflict":
		return "Not possible"
	case "bad_filter":
		return "Bad filter"
	}
	return "Something went wrong"
}

// setHeaders sets the headers of every dashboard answer: nothing is
// cached (the pages hold user data), framed, sniffed, or leaked in a
// referrer.
func setHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
}

// serveStatic serves the dashboard's embedded stylesheet.
func serveStatic(w http.ResponseWriter, r *http.Request, name string) {
	sub, _ := fs.Sub(staticFiles, "static")
	web.ServeEmbedded(w, r, sub, name, func(w http.ResponseWriter) {
		setHeaders(w)
		// Behind the sign-in like every dashboard answer, so private
		// caching only.
		w.Header().Set("Cache-Control", "private, max-age=3600")
	})
}
