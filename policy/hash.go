package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"
)

// hashVersion names the canonical encoding; change it whenever the
// encoding changes, so old and new hashes never collide.
const hashVersion = "trustgate-policy/1"

// Hash returns a stable identifier of everything in p that can change a
// decision: the SHA-256, in hex, of a canonical encoding of p. It does not
// depend on map order or on how equivalent values were written (17.4 and
// v17.4.0, group order and duplicates, deadlines in any time zone, an unset
// unit and "major"), so equal policies hash equal across processes and
// restarts; any change that can change a verdict or an outcome changes it.
// Settings that cannot matter are left out: the parameters of a requirement
// that is off, the deadline of a require rule, the groups of an integration
// not in state groups, the platforms of a disabled one.
func (p Policy) Hash() string {
	var e encoder
	e.line("v", hashVersion)
	e.line("mode", string(p.Mode))

	i := p.Integration
	state := i.State
	if state == "" {
		state = Disabled
	}
	e.line("integration.state", string(state))
	if state != Disabled {
		e.list("integration.platforms", platformStrings(i.platforms()))
	}
	if state == Groups {
		groups := slices.Clone(i.Groups)
		slices.Sort(groups)
		e.list("integration.groups", slices.Compact(groups))
	}

	e.managed(p.Managed)

	r := p.Requirements
	e.rule(KindScreenLock, r.ScreenLock)
	e.rule(KindBiometrics, r.Biometrics)
	e.rule(KindDiskEncryption, r.DiskEncryption)
	e.rule(KindNotTampered, r.NotTampered)
	if e.rule(KindMinOS, r.MinOS.Rule) {
		for _, pl := range sortedKeys(r.MinOS.Versions) {
			e.line("min_os."+strconv.Quote(string(pl)), canonicalVersion(r.MinOS.Versions[pl]))
		}
	}
	if e.rule(KindMinSecurityPatch, r.MinSecurityPatch.Rule) {
		e.line("min_security_patch.date", canonicalDate(r.MinSecurityPatch.Date))
		e.line("min_security_patch.max_age_days", strconv.Itoa(r.MinSecurityPatch.MaxAgeDays))
	}
	if e.rule(KindMinAppVersion, r.MinAppVersion.Rule) {
		e.line("min_app_version.version", canonicalVersion(r.MinAppVersion.Version))
	}
	if e.rule(KindOSUpToDate, r.OSUpToDate.Rule) {
		for _, pl := range sortedKeys(r.OSUpToDate.Latest) {
			l := r.OSUpToDate.Latest[pl]
			key := "os_up_to_date." + strconv.Quote(string(pl))
			e.line(key+".version", canonicalVersion(l.Version))
			e.line(key+".behind", strconv.Itoa(l.Behind))
			e.line(key+".unit", string(l.unit()))
		}
	}
	sum := sha256.Sum256([]byte(e.b.String()))
	return hex.EncodeToString(sum[:])
}

// managed encodes the managed-device settings when they are on; a policy
// without them, or with them disabled, hashes as it did before they
// existed.
func (e *encoder) managed(m Managed) {
	if m.State == "" || m.State == Disabled {
		return
	}
	e.line("managed.state", string(m.State))
	e.list("managed.platforms", platformStrings(m.platforms()))
	e.line("managed.match", string(m.MatchBy()))
	if m.State == Groups {
		groups := slices.Clone(m.Groups)
		slices.Sort(groups)
		e.list("managed.groups", slices.Compact(groups))
	}
}

// encoder writes one quoted key=value line per setting, so no value can
// pass for another.
type encoder struct{ b strings.Builder }

func (e *encoder) line(key, value string) {
	e.b.WriteString(key)
	e.b.WriteByte('=')
	e.b.WriteString(strconv.Quote(value))
	e.b.WriteByte('\n')
}

func (e *encoder) list(key string, values []string) {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = strconv.Quote(v)
	}
	e.b.WriteString(key)
	e.b.WriteString("=[")
	e.b.WriteString(strings.Join(quoted, ","))
	e.b.WriteString("]\n")
}

// rule encodes r and reports whether the requirement is on, that is
// whether its parameters matter.
func (e *encoder) rule(k Kind, r Rule) bool {
	switch {
	case r.Level == "":
		e.line(string(k), "off")
		return false
	case r.Level == Warn && !r.Until.IsZero():
		e.line(string(k), "warn until "+r.Until.UTC().Format(time.RFC3339Nano))
	default:
		e.line(string(k), string(r.Level))
	}
	return true
}

// canonicalVersion writes a version so that versions comparing equal encode
// equal; an unparseable one (which Validate refuses) is kept verbatim and
// marked, so it can never collide with a valid one.
func canonicalVersion(s string) string {
	v, err := ParseVersion(s)
	if err != nil {
		return "invalid:" + s
	}
	return v.canonical()
}

func canonicalDate(s string) string {
	if s == "" {
		return ""
	}
	d, err := ParsePatchDate(s)
	if err != nil {
		return "invalid:" + s
	}
	return d.Format(time.DateOnly)
}

func platformStrings(ps []Platform) []string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return s
}
