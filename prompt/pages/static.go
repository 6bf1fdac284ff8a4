package pages

import (
	"embed"
	"io/fs"
	"net/http"
	"time"

	"github.com/trustgate/trustgate/prompt/web"
)

//go:embed static
var staticFiles embed.FS

// StaticMaxAge is how long browsers may keep the gateway's fixed files.
const StaticMaxAge = time.Hour

func (p *writer) ServeStatic(w http.ResponseWriter, r *http.Request, name string) {
	sub, _ := fs.Sub(staticFiles, "static")
	web.ServeEmbedded(w, r, sub, name, func(w http.ResponseWriter) { web.StaticHeaders(w, StaticMaxAge) })
}
