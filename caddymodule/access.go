package caddymodule

import (
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt"
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
