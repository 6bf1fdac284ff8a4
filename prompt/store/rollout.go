package store

import (
	"cmp"
	"slices"
	"time"
)

// RolloutQuery selects the auth-log entries RolloutImpact sums up. Zero
// fields do not filter.
type RolloutQuery struct {
	// Since (inclusive) and Until (exclusive) bound the entries' Time.
	Since time.Time
	Until time.Time
	// Application keeps the entries of one application.
	Application string
	// Authorized, when set, says whether the application's access rules
	// (as they are now) let the entry's person in. An entry of a person
	// they refuse is counted under RolloutImpact.NotAuthorized, not as
	// what the device policy would block: such a person never reaches the
	// device check. Nil counts every entry as authorized.
	Authorized func(AuthLogEntry) bool
}

// RolloutImpact is what block mode would have refused: the logins marked
// WouldBlock, and the distinct users behind them, in total and by reason,
// group, platform and application.
type RolloutImpact struct {
	// Logins counts the would-block logins; Users the distinct users who
	// made them.
	Logins int `json:"logins"`
	Users  int `json:"users"`
	// ByReason counts by failed requirement (no_screen_lock,
	// unsupported_platform, ...): a login that failed two requirements
	// counts under both. A login without failed requirements counts under
	// its auth-log reason.
	ByReason []ImpactCount `json:"by_reason"`
	// ByGroup counts by the user's groups at login: a user in two groups
	// counts under both; one in none under "".
	ByGroup []ImpactCount `json:"by_group"`
	// ByPlatform counts by the access device's operating system (iOS,
	// Android, Windows, ...), "" when unknown.
	ByPlatform []ImpactCount `json:"by_platform"`
	// ByApplication counts by application.
	ByApplication []ImpactCount `json:"by_application"`
	// NotAuthorized counts the would-block logins (and their users) of
	// people whom the access rules now refuse (RolloutQuery.Authorized):
	// block mode would turn them away before any device check, so they
	// are left out of every count above.
	NotAuthorized ImpactTotal `json:"not_authorized"`
	// Desktops splits the desktop logins of mode check (access device
	// kind desktop) by what block would do with them.
	Desktops DesktopImpact `json:"desktops"`
}

// DesktopImpact is what block mode would do with desktop browsers, which
// only a managed device can vouch for. Logins of people whom the access
// rules now refuse are left out of both counts.
type DesktopImpact struct {
	// LetIn counts the desktop logins mode check recorded trusted (a
	// managed device's certificate vouched for them): block lets them in.
	LetIn ImpactTotal `json:"let_in"`
	// KeptOut counts the desktop logins mode check marked would-block
	// (no device certificate, not managed, no integration for desktops):
	// block keeps them out. They are also in the counts above.
	KeptOut ImpactTotal `json:"kept_out"`
}

// AccessKindDesktop is the access-device kind of a desktop browser
// (accessdevice.KindDesktop), which RolloutImpact splits out.
const AccessKindDesktop = "desktop"

// ImpactTotal is a count of logins and of the distinct users behind them.
type ImpactTotal struct {
	Logins int `json:"logins"`
	Users  int `json:"users"`
}

// ImpactCount is one line of a RolloutImpact breakdown.
type ImpactCount struct {
	// Key is the reason, group, platform or application.
	Key string `json:"key"`
	// Logins and Users count the would-block logins and distinct users
	// under Key.
	Logins int `json:"logins"`
	Users  int `json:"users"`
}

// RolloutTally sums up would-block entries one at a time, for backends
// that stream them rather than aggregate in SQL. Its memory grows with the
// distinct (key, user) pairs, not with the number of entries.
type RolloutTally struct {
	// Authorized is RolloutQuery.Authorized: entries it refuses count
	// under NotAuthorized only.
	Authorized func(AuthLogEntry) bool

	logins int
	users  map[string]bool
	by     [4]map[string]*tallyLine
	// refused counts the entries Authorized refuses.
	refused tallyLine
	// desktopsIn and desktopsOut count the desktop logins block would let
	// in and keep out.
	desktopsIn, desktopsOut tallyLine
}

type tallyLine struct {
	logins int
	users  map[string]bool
}

// Breakdowns of a RolloutTally, in RolloutImpact's order.
const (
	byReason = iota
	byGroup
	byPlatform
	byApplication
)

// init makes the tally's maps on first use.
func (t *RolloutTally) init() {
	if t.users == nil {
		t.users = make(map[string]bool)
		for i := range t.by {
			t.by[i] = make(map[string]*tallyLine)
		}
		for _, line := range []*tallyLine{&t.refused, &t.desktopsIn, &t.desktopsOut} {
			line.users = make(map[string]bool)
		}
	}
}

// AddTrustedDesktop counts one desktop login that mode check recorded
// trusted, which block would let in; one of a person the access rules
// refuse is not counted at all.
func (t *RolloutTally) AddTrustedDesktop(e AuthLogEntry) {
	t.init()
	if t.Authorized == nil || t.Authorized(e) {
		t.desktopsIn.logins++
		t.desktopsIn.users[e.User] = true
	}
}

// Add counts one would-block entry.
func (t *RolloutTally) Add(e AuthLogEntry) {
	t.init()
	if t.Authorized != nil && !t.Authorized(e) {
		t.refused.logins++
		t.refused.users[e.User] = true
		return
	}
	t.logins++
	t.users[e.User] = true
	if e.AccessDevice.Kind == AccessKindDesktop {
		t.desktopsOut.logins++
		t.desktopsOut.users[e.User] = true
	}
	reasons := e.FailedRequirements
	if len(reasons) == 0 {
		reasons = []string{e.Reason}
	}
	groups := e.Groups
	if len(groups) == 0 {
		groups = []string{""}
	}
	for _, r := range dedupe(reasons) {
		t.count(byReason, r, e.User)
	}
	for _, g := range dedupe(groups) {
		t.count(byGroup, g, e.User)
	}
	t.count(byPlatform, e.AccessDevice.OS, e.User)
	t.count(byApplication, e.Application, e.User)
}

func (t *RolloutTally) count(breakdown int, key, user string) {
	line := t.by[breakdown][key]
	if line == nil {
		line = &tallyLine{users: make(map[string]bool)}
		t.by[breakdown][key] = line
	}
	line.logins++
	line.users[user] = true
}

// Impact returns the sums, each breakdown by logins, most first, then by
// key.
func (t *RolloutTally) Impact() RolloutImpact {
	out := RolloutImpact{Logins: t.logins, Users: len(t.users),
		NotAuthorized: ImpactTotal{Logins: t.refused.logins, Users: len(t.refused.users)},
		Desktops: DesktopImpact{LetIn: ImpactTotal{Logins: t.desktopsIn.logins, Users: len(t.desktopsIn.users)},
			KeptOut: ImpactTotal{Logins: t.desktopsOut.logins, Users: len(t.desktopsOut.users)}}}
	lists := [4]*[]ImpactCount{&out.ByReason, &out.ByGroup, &out.ByPlatform, &out.ByApplication}
	for i, dst := range lists {
		list := make([]ImpactCount, 0, len(t.by[i]))
		for key, line := range t.by[i] {
			list = append(list, ImpactCount{Key: key, Logins: line.logins, Users: len(line.users)})
		}
		slices.SortFunc(list, func(a, b ImpactCount) int {
			return cmp.Or(cmp.Compare(b.Logins, a.Logins), cmp.Compare(a.Key, b.Key))
		})
		*dst = list
	}
	return out
}

func dedupe(list []string) []string {
	if len(list) < 2 {
		return list
	}
	list = slices.Clone(list)
	slices.Sort(list)
	return slices.Compact(list)
}
