package policy

import (
	"errors"
	"fmt"
	"strings"
)

// AccessRules say who may enter an application at all, before any device
// check: a person who matches any one entry is let in. Without rules (a nil
// *AccessRules) everyone the login source signs in is let in.
type AccessRules struct {
	// Users are user names, matched exactly, case included, as the login
	// source gives them.
	Users []string `json:"users,omitempty"`
	// Groups are group names, matched exactly, case included: a person in
	// any one of them is let in.
	Groups []string `json:"groups,omitempty"`
	// Emails are email addresses (alice@example.com) or whole domains
	// (*@example.com), matched without regard to case. A domain matches
	// exactly that domain: not its subdomains, nor a name that merely ends
	// with it.
	Emails []string `json:"emails,omitempty"`
}

// ReasonNotAuthorized is the auth-log reason of a person the access rules
// refuse.
const ReasonNotAuthorized Reason = "not_authorized"

// Access is AccessRules made ready for the request path: sets, so that a
// decision is a few map lookups. A nil *Access lets everyone in.
type Access struct {
	users, groups, emails, domains map[string]struct{}
}

// NewAccess checks rules and builds their sets. Nil rules give a nil
// *Access, which lets everyone in; rules that name no one are an error, not
// a way to let no one (or everyone) in.
func NewAccess(rules *AccessRules) (*Access, error) {
	if rules == nil {
		return nil, nil
	}
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	a := &Access{
		users:   make(map[string]struct{}, len(rules.Users)),
		groups:  make(map[string]struct{}, len(rules.Groups)),
		emails:  make(map[string]struct{}),
		domains: make(map[string]struct{}),
	}
	for _, u := range rules.Users {
		a.users[u] = struct{}{}
	}
	for _, g := range rules.Groups {
		a.groups[g] = struct{}{}
	}
	for _, e := range rules.Emails {
		e = strings.ToLower(e)
		if domain, ok := strings.CutPrefix(e, "*@"); ok {
			a.domains[domain] = struct{}{}
		} else {
			a.emails[e] = struct{}{}
		}
	}
	return a, nil
}

// Validate reports rules that name no one, an empty user or group name, and
// a malformed email pattern (see ParseEmailPattern).
func (r *AccessRules) Validate() error {
	if r == nil {
		return nil
	}
	if len(r.Users)+len(r.Groups)+len(r.Emails) == 0 {
		return errors.New("allow names no users, groups or emails; leave it out to let everyone in")
	}
	for _, u := range r.Users {
		if strings.TrimSpace(u) == "" {
			return errors.New("allow users: empty user name")
		}
	}
	for _, g := range r.Groups {
		if strings.TrimSpace(g) == "" {
			return errors.New("allow groups: empty group name")
		}
	}
	for _, e := range r.Emails {
		if err := ValidateEmailPattern(e); err != nil {
			return fmt.Errorf("allow emails: %w", err)
		}
	}
	return nil
}

// ValidateEmailPattern reports whether p is an email address
// (local@domain) or a whole domain (*@domain). The only wildcard is a
// leading "*@": "a@*", "*a@b" and "*@*.example.com" are refused, as are an
// empty local part or domain ("@x", "*@", "a@"), a second "@", spaces and
// control characters, and a domain with an empty label (".x", "x..y",
// "x.").
func ValidateEmailPattern(p string) error {
	domain, wildcard := strings.CutPrefix(p, "*@")
	local := "*"
	if !wildcard {
		at := strings.IndexByte(p, '@')
		if at < 0 {
			return fmt.Errorf("%q is not an email address or *@domain", truncate(p))
		}
		local, domain = p[:at], p[at+1:]
		if local == "" {
			return fmt.Errorf("%q has nothing before the @", truncate(p))
		}
		if strings.Contains(local, "*") {
			return fmt.Errorf("%q: the only wildcard is a whole domain, *@domain", truncate(p))
		}
	}
	switch {
	case domain == "":
		return fmt.Errorf("%q has no domain after the @", truncate(p))
	case strings.Contains(domain, "*"):
		return fmt.Errorf("%q: a domain cannot hold a wildcard (use *@domain for a whole domain, which leaves out its subdomains)", truncate(p))
	case strings.Contains(domain, "@"):
		return fmt.Errorf("%q has more than one @", truncate(p))
	case strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return fmt.Errorf("%q: malformed domain %q", truncate(p), truncate(domain))
	}
	for _, c := range local + domain {
		if c <= ' ' || c == 0x7f {
			return fmt.Errorf("%q holds a space or control character", truncate(p))
		}
	}
	return nil
}

// Allows reports whether a person with this user name, email address and
// groups may enter: whether any one rule matches. A nil *Access allows
// everyone. It allocates nothing for a lower-case email address.
func (a *Access) Allows(user, email string, groups []string) bool {
	if a == nil {
		return true
	}
	if _, ok := a.users[user]; ok {
		return true
	}
	for _, g := range groups {
		if _, ok := a.groups[g]; ok {
			return true
		}
	}
	if email == "" || len(a.emails)+len(a.domains) == 0 {
		return false
	}
	email = strings.ToLower(email)
	if _, ok := a.emails[email]; ok {
		return true
	}
	// The domain is what follows the last @: a quoted local part may hold
	// an @ of its own.
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return false
	}
	_, ok := a.domains[email[at+1:]]
	return ok
}
