package inventory

import (
	"encoding/json"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// LoginQuery asks the auth log for the limit most recent logins a managed
// device vouched for, which LastSeen reads.
func LoginQuery(limit int) store.AuthLogQuery {
	return store.AuthLogQuery{Integration: "managed", Result: store.ResultSuccess, TrustStatus: "trusted", Limit: limit}
}

// LastSeen returns, for each managed device that logins name in their
// DeviceFacts (a store.ManagedLogin: the inventory and its entry), the
// time of its latest login. Entries without such facts are skipped.
func LastSeen(logins []store.AuthLogEntry) map[store.ManagedLogin]time.Time {
	seen := make(map[store.ManagedLogin]time.Time, len(logins))
	for _, e := range logins {
		var m store.ManagedLogin
		if json.Unmarshal(e.DeviceFacts, &m) != nil || m.Inventory == "" {
			continue
		}
		if e.Time.After(seen[m]) {
			seen[m] = e.Time
		}
	}
	return seen
}
