package store

import "time"

// LastActive is when the device was last active as far as the store knows:
// the latest of its activation (Created), its last signed request
// (LastSeen) and its revocation (Revoked). Retention deletes a device once
// LastActive is older than the inactive-device period (see
// Store.PurgeInactiveDevices), so a device never seen after activation goes
// that long after activation, and a revoked one stays listed that long after
// revocation, for an admin to see, even if it was not seen for longer.
func (d Device) LastActive() time.Time {
	last := d.Created
	for _, t := range []time.Time{d.LastSeen, d.Revoked} {
		if t.After(last) {
			last = t
		}
	}
	return last
}
