package signin

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// This file makes a wrong user name cost what a wrong password costs: an
// unknown name is checked against a dummy hash with the parameters most of
// the file's users have, made at load time, and a file whose users differ
// in algorithm or cost is reported, since its cheaper or costlier users can
// be told apart by timing whatever the dummy is.

// hashCost is implemented by every passwordHash: it names the work one
// check does and makes a dummy hash that does the same work.
type hashCost interface {
	// params names the algorithm and the parameters that decide the work
	// of one check, e.g. "bcrypt cost=10" or "argon2id m=19456,t=2,p=1,keylen=32".
	params() string
	// dummy returns a hash of a random password, which nobody knows, with
	// the same parameters.
	dummy() (passwordHash, error)
}

func (h bcryptHash) params() string {
	cost, _ := bcrypt.Cost([]byte(h)) // checked when parsed
	return "bcrypt cost=" + strconv.Itoa(cost)
}

func (h bcryptHash) dummy() (passwordHash, error) {
	cost, err := bcrypt.Cost([]byte(h))
	if err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(randomPassword()), cost)
	if err != nil {
		return nil, fmt.Errorf("making the dummy bcrypt hash: %w", err)
	}
	return bcryptHash(hash), nil
}

func (h *argon2idHash) params() string {
	return fmt.Sprintf("argon2id m=%d,t=%d,p=%d,keylen=%d", h.memory, h.time, h.threads, len(h.key))
}

func (h *argon2idHash) dummy() (passwordHash, error) {
	d := &argon2idHash{memory: h.memory, time: h.time, threads: h.threads, salt: make([]byte, len(h.salt))}
	_, _ = rand.Read(d.salt) // never fails (crypto/rand)
	d.key = argon2.IDKey([]byte(randomPassword()), d.salt, d.time, d.memory, d.threads, uint32(len(h.key)))
	return d, nil
}

// randomPassword returns a password nobody knows.
func randomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// costGroup is the users of a file whose hashes share one params().
type costGroup struct {
	params string
	first  passwordHash
	users  []string
}

// groupByCost groups the users (in file order) by their hashes' params,
// the groups in the order they first appear.
func groupByCost(names []string, hashes []passwordHash) []costGroup {
	var groups []costGroup
next:
	for i, h := range hashes {
		p := h.params()
		for g := range groups {
			if groups[g].params == p {
				groups[g].users = append(groups[g].users, names[i])
				continue next
			}
		}
		groups = append(groups, costGroup{params: p, first: h, users: []string{names[i]}})
	}
	return groups
}

// majority returns the group with the most users; a tie goes to the group
// that appears first in the file.
func majority(groups []costGroup) costGroup {
	best := groups[0]
	for _, g := range groups[1:] {
		if len(g.users) > len(best.users) {
			best = g
		}
	}
	return best
}

// mixedCostWarning describes a file whose users' hashes differ in
// algorithm or cost, naming the users of each kind (never a hash), or
// returns "" when they all share one.
func mixedCostWarning(groups []costGroup, dummy string) string {
	if len(groups) < 2 {
		return ""
	}
	kinds := make([]string, len(groups))
	for i, g := range groups {
		kinds[i] = fmt.Sprintf("%s: %s", g.params, namedUsers(g.users))
	}
	return fmt.Sprintf("users file mixes password hash algorithms or costs, so the time a wrong password takes tells these users apart from the others and from unknown names (%s); unknown names are checked against %s; hash every password with the same algorithm and cost ('trustgate hash-password')",
		strings.Join(kinds, "; "), dummy)
}

// namedUsers lists up to five user names, then how many more.
func namedUsers(users []string) string {
	const shown = 5
	noun := "users"
	if len(users) == 1 {
		noun = "user"
	}
	if len(users) <= shown {
		return fmt.Sprintf("%d %s (%s)", len(users), noun, strings.Join(users, ", "))
	}
	return fmt.Sprintf("%d %s (%s and %d more)", len(users), noun, strings.Join(users[:shown], ", "), len(users)-shown)
}

// Interface guards.
var (
	_ hashCost = bcryptHash("")
	_ hashCost = (*argon2idHash)(nil)
)
