package store

import (
	"fmt"

	"github.com/trustgate/trustgate/policy"
)

// defaultDeviceLimit is DeviceQuery.Limit when it is zero, and the default
// limit of DeviceHealthHistory.
const defaultDeviceLimit = 100

// limit returns the number of devices q asks for.
func (q DeviceQuery) limit() int {
	if q.Limit <= 0 {
		return defaultDeviceLimit
	}
	return q.Limit
}

// HealthHistoryKept is how many health reports a device's history keeps:
// RecordHealth drops the oldest beyond it, so that the history of a device
// in use for years stays small.
const HealthHistoryKept = 100

// HealthHistoryLimit returns the number of health records a
// DeviceHealthHistory call with limit asks for.
func HealthHistoryLimit(limit int) int {
	if limit <= 0 {
		return defaultDeviceLimit
	}
	return limit
}

// Validate reports an OSOlderThan version that cannot be compared.
func (q DeviceQuery) Validate() error {
	for platform, version := range q.OSOlderThan {
		if _, err := policy.ParseVersion(version); err != nil {
			return fmt.Errorf("os older than, %s: %w", platform, err)
		}
	}
	return nil
}

// matchesOS reports whether d passes q's OSOlderThan filter, the one
// filter SQL cannot apply: versions compare part by part, not as strings.
func (q DeviceQuery) matchesOS(d Device) bool {
	if len(q.OSOlderThan) == 0 {
		return true
	}
	limit, ok := q.OSOlderThan[d.Platform]
	if !ok {
		return false
	}
	c, err := policy.CompareVersions(d.CurrentOSVersion(), limit)
	return err == nil && c < 0
}

// CollectDevices is ListDevices for a SQL backend. fetch returns up to n
// devices with an ID after after, by ID, that match every filter of q
// except OSOlderThan; CollectDevices applies that one in Go and fetches
// further batches until the page is full or the devices run out. Without
// OSOlderThan it makes one call. With it, a page may scan every device
// after the cursor (a rare filter over a table of one row per phone, so
// acceptable), but never holds more than one batch in memory.
func CollectDevices(q DeviceQuery, fetch func(after string, n int) ([]Device, error)) ([]Device, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	limit := q.limit()
	var out []Device
	after := q.AfterID
	for {
		batch, err := fetch(after, limit)
		if err != nil {
			return nil, err
		}
		for _, d := range batch {
			if q.matchesOS(d) {
				out = append(out, d)
				if len(out) == limit {
					return out, nil
				}
			}
		}
		if len(batch) < limit || len(q.OSOlderThan) == 0 {
			return out, nil
		}
		after = batch[len(batch)-1].ID
	}
}
