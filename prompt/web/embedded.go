package web

import (
	"bytes"
	"io/fs"
	"net/http"
	"path"
	"time"
)

// ServeEmbedded serves the file name of fsys, a tree of fixed files built
// into the binary (the gateway's and the dashboard's stylesheets, scripts
// and images). setHeaders sets the answer's headers (policy, caching) and
// runs only when the file exists; an empty, unclean or unknown name is a
// plain 404. http.ServeContent answers GET and HEAD, ranges and
// conditional requests, and sets the Content-Type from the name.
func ServeEmbedded(w http.ResponseWriter, r *http.Request, fsys fs.FS, name string, setHeaders func(http.ResponseWriter)) {
	// fs.ValidPath refuses these too; checked here so that no fsys
	// implementation is trusted with them.
	if name == "" || path.Clean(name) != name {
		http.NotFound(w, r)
		return
	}
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	setHeaders(w)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}
