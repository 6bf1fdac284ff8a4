package sites

import (
	"maps"
	"reflect"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
)

// RegisterAccess records the access rules of application (as configured,
// and made into sets), for the what-if API and the rollout-impact report.
// It reports whether it replaced different rules.
func (r *Registry) RegisterAccess(application string, rules *policy.AccessRules, access *policy.Access) (replaced bool) {
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

// AccessRules returns the access rules of application: nil when it has
// none (everyone gets in) or is not known.
func (r *Registry) AccessRules(application string) *policy.Access {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.access[application]
}

// Authorized returns, for the rollout-impact report, whether the access
// rules of an entry's application (as they are now) let its person in. The
// rules are read once, so one report sums under one set of them.
func (r *Registry) Authorized() func(store.AuthLogEntry) bool {
	r.mu.Lock()
	rules := maps.Clone(r.access)
	r.mu.Unlock()
	return func(e store.AuthLogEntry) bool {
		return rules[e.Application].Allows(e.User, e.Email, e.Groups)
	}
}
