package web

import (
	"fmt"
	"net/url"
)

// CheckOrigin accepts scheme://host[:port] with scheme http or https and
// nothing after the host, not even a slash: origins are compared as
// strings. The device check's origins and the links the admin API and the
// dashboard issue are checked by it alike.
func CheckOrigin(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("origin %q is not scheme://host[:port] (http or https)", s)
	}
	return nil
}
