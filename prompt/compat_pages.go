package prompt

import (
	"net/http"

	"github.com/trustgate/trustgate/prompt/accessdevice"
)

// Forwarding names for code outside the pages helper's files, while the
// restructure lands; the lead removes this file after merging.

// ClassifyAccessDevice is accessdevice.Classify.
func ClassifyAccessDevice(r *http.Request) accessdevice.Device { return accessdevice.Classify(r) }

// AcceptClientHints is accessdevice.AcceptClientHints.
const AcceptClientHints = accessdevice.AcceptClientHints
