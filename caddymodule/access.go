package caddymodule

import (
	"maps"
	"reflect"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/store"
)

// accessConfig puts the handler's access rules into the gate's config,
// made into sets once here so that a request's check is a few map lookups.
func (h *Handler) accessConfig(cfg *prompt.Config) error {
	access, err := policy.NewAccess(h.Allow)
	if err != nil {
		return err
	}
	cfg.Access, cfg.AccessContact = access, h.AccessContact
	return nil
}

// unmarshalAccess parses one allow or access_contact line:
//
//	allow users  <name...>
//	allow groups <group...>
//	allow emails <address or *@domain...>
//	access_contact <text...>
//
// allow lines add up: a person who matches any one entry is let in.
func (h *Handler) unmarshalAccess(d *caddyfile.Dispenser) error {
	if d.Val() == "access_contact" {
		if h.AccessContact != "" {
			return d.Err("access_contact already specified")
		}
		args := d.RemainingArgs()
		if len(args) == 0 {
			return d.ArgErr()
		}
		h.AccessContact = strings.Join(args, " ")
		return nil
	}
	if !d.NextArg() {
		return d.Err("allow needs a kind and at least one value: allow users|groups|emails <value...>")
	}
	kind := d.Val()
	values := d.RemainingArgs()
	if h.Allow == nil {
		h.Allow = new(policy.AccessRules)
	}
	var target *[]string
	line := new(policy.AccessRules)
	switch kind {
	case "users":
		target, line.Users = &h.Allow.Users, values
	case "groups":
		target, line.Groups = &h.Allow.Groups, values
	case "emails":
		target, line.Emails = &h.Allow.Emails, values
	default:
		return d.Errf("unknown allow kind %q (want users, groups or emails)", kind)
	}
	if len(values) == 0 {
		return d.Errf("allow %s needs at least one value", kind)
	}
	// The line's values are checked by AccessRules.Validate, as JSON's
	// are, with the line's position.
	if err := line.Validate(); err != nil {
		return d.WrapErr(err)
	}
	*target = append(*target, values...)
	return nil
}

// registerAccess records the handler's access rules (as configured, and
// made into sets) with its application, for the what-if API and the
// rollout-impact report. It reports whether it replaced different rules.
func (r *siteRegistry) registerAccess(application string, rules *policy.AccessRules, access *policy.Access) (replaced bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.access == nil {
		r.access = make(map[string]*policy.Access)
		r.rules = make(map[string]*policy.AccessRules)
	}
	old, ok := r.rules[application]
	r.access[application], r.rules[application] = access, rules
	return ok && !reflect.DeepEqual(old, rules)
}

// accessRules returns the access rules of application: nil when it has
// none (everyone gets in) or is not known.
func (r *siteRegistry) accessRules(application string) *policy.Access {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.access[application]
}

// authorized returns, for the rollout-impact report, whether the access
// rules of an entry's application (as they are now) let its person in. The
// rules are read once, so one report sums under one set of them.
func (r *siteRegistry) authorized() func(store.AuthLogEntry) bool {
	r.mu.Lock()
	rules := maps.Clone(r.access)
	r.mu.Unlock()
	return func(e store.AuthLogEntry) bool {
		return rules[e.Application].Allows(e.User, e.Email, e.Groups)
	}
}
