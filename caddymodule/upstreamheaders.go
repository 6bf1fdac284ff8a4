package caddymodule

import (
	"errors"
	"fmt"

	"github.com/trustgate/trustgate/prompt"
)

// UpstreamHeaders names the identity headers. "-" turns one off.
type UpstreamHeaders struct {
	User   string `json:"user,omitempty"`
	Email  string `json:"email,omitempty"`
	Groups string `json:"groups,omitempty"`
	// Trust carries the access device's trust status (trusted, not
	// trusted, unknown); DeviceID the verifying mobile device's ID.
	Trust    string `json:"trust,omitempty"`
	DeviceID string `json:"device_id,omitempty"`
}

// validate checks the header names, JSON or Caddyfile alike (the
// Caddyfile adds the line).
func (u *UpstreamHeaders) validate() error {
	if u == nil {
		return nil
	}
	var errs []error
	for _, name := range []string{u.User, u.Email, u.Groups, u.Trust, u.DeviceID} {
		if name != "" {
			errs = append(errs, checkHeaderName(name))
		}
	}
	return errors.Join(errs...)
}

// checkHeaderName accepts a header field name, or "-" for none.
func checkHeaderName(name string) error {
	if name != "-" && !validHeaderName(name) {
		return fmt.Errorf("invalid header name %q", name)
	}
	return nil
}

// identityHeaders returns the header names the gate sets: the default for
// a name not given, none for "-".
func (h *Handler) identityHeaders() prompt.IdentityHeaders {
	names := prompt.DefaultIdentityHeaders()
	if u := h.UpstreamHeaders; u != nil {
		pick := func(configured, def string) string {
			switch configured {
			case "":
				return def
			case "-":
				return ""
			}
			return configured
		}
		names.User = pick(u.User, names.User)
		names.Email = pick(u.Email, names.Email)
		names.Groups = pick(u.Groups, names.Groups)
		names.Trust = pick(u.Trust, names.Trust)
		names.DeviceID = pick(u.DeviceID, names.DeviceID)
	}
	return names
}

// validHeaderName reports whether s is a valid HTTP header field name.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || c == ':' || c == '(' || c == ')' || c == '<' || c == '>' || c == '@' ||
			c == ',' || c == ';' || c == '\\' || c == '"' || c == '/' || c == '[' || c == ']' || c == '?' ||
			c == '=' || c == '{' || c == '}' {
			return false
		}
	}
	return true
}
