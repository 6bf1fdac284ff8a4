package sites

import (
	"slices"
	"sync"

	"github.com/trustgate/trustgate/policy"
)

// Registry holds the sites of one configuration, by application name and
// by realm. Its zero value is ready; it is safe for concurrent use.
type Registry struct {
	mu sync.Mutex
	// policies are the device policy of each application.
	policies map[string]policy.Policy
	// access and rules are the access rules of each application, made
	// into sets and as configured (access.go).
	access map[string]*policy.Access
	rules  map[string]*policy.AccessRules
	// applicationRealms are the realms of each application's sites;
	// realms the first site of each realm, and names the realm of each
	// realm ID (realms.go).
	applicationRealms map[string][]string
	realms            map[string]RealmSite
	names             map[string]string
}

// RegisterPolicy records the policy of application, replacing an earlier
// one of the same name. It reports whether it replaced a different policy.
func (r *Registry) RegisterPolicy(application string, p policy.Policy) (replaced bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.policies == nil {
		r.policies = make(map[string]policy.Policy)
	}
	old, ok := r.policies[application]
	r.policies[application] = p
	return ok && old.Hash() != p.Hash()
}

// Policy returns the policy of application.
func (r *Registry) Policy(application string) (policy.Policy, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.policies[application]
	return p, ok
}

// Applications returns the names of the applications with a policy,
// sorted.
func (r *Registry) Applications() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.policies))
	for name := range r.policies {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
