package prompt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
)

// Transaction kinds.
const (
	// txInline checks the phone the person browses on: its app reports the
	// phone's health, then approves.
	txInline = "inline"
	// txPush asks another activated device to approve, with number
	// matching; it proves the person, not the access device.
	txPush = "push"
	// txEnroll asks the person's active devices to approve a new device
	// (enrollment approve), with number matching; the new device is
	// created only on approval.
	txEnroll = "enroll"
)

// txRecord is the flow's record of a verification transaction, kept as the
// store's opaque Transaction.Data.
type txRecord struct {
	Kind string `json:"kind"`
	// ChallengeHash is the hash of the one-time challenge in the deep
	// link; a report must carry the challenge.
	ChallengeHash string `json:"ch,omitempty"`
	// BrowserHash is the hash of the secret in the browser's flow cookie:
	// only that browser may complete the transaction.
	BrowserHash string `json:"bh"`
	// Who signed in, how, and where they were going.
	Identity Identity `json:"id"`
	Primary  string   `json:"pf"`
	Return   string   `json:"ret"`
	// The access device as the browser's request described it.
	Access    store.AccessDevice `json:"ad"`
	IP        string             `json:"ip"`
	UserAgent string             `json:"ua,omitempty"`
	// NumberHash is the hash of the number the person must type in the
	// app (number matching), for push transactions.
	NumberHash string `json:"nh,omitempty"`
	// Filled in by the health report.
	Facts      json.RawMessage `json:"facts,omitempty"`
	Verdict    *policy.Verdict `json:"verdict,omitempty"`
	PolicyHash string          `json:"ph,omitempty"`
	// The login requests sent for this transaction and when they lapse.
	PushIDs     []string  `json:"push,omitempty"`
	PushExpires time.Time `json:"pe,omitzero"`
	// Reason is why the transaction was denied.
	Reason string `json:"reason,omitempty"`
	// ReturnHash is the hash of the return code given to the app once an
	// inline check is approved.
	ReturnHash string `json:"rh,omitempty"`
	// ReturnSealed is the same return code sealed with the gateway's
	// cookie keys, so that the device approving again gets the same link
	// (repeatApproval), not a second one.
	ReturnSealed string `json:"rs,omitempty"`
	// Enroll is the device waiting for approval, for txEnroll.
	Enroll *pendingDevice `json:"enroll,omitempty"`
	// Realm is the ID of the realm the transaction was started in: only
	// devices of that realm, or unbound ones, may report for it or answer
	// its requests. Empty in transactions made before devices had realms.
	Realm string `json:"rl,omitempty"`
}

// transaction is a stored transaction with its decoded record.
type transaction struct {
	store.Transaction
	rec txRecord
}

func (g *Gate) loadTransaction(ctx context.Context, id string) (*transaction, error) {
	t, err := g.cfg.Store.Transaction(ctx, id)
	if err != nil {
		return nil, err
	}
	tx := &transaction{Transaction: t}
	if err := json.Unmarshal(t.Data, &tx.rec); err != nil {
		return nil, fmt.Errorf("decoding transaction %s: %w", id, err)
	}
	return tx, nil
}

// transition moves tx from state from to state to with its (changed)
// record; it fails with store.ErrConflict when another request won.
func (g *Gate) transition(ctx context.Context, tx *transaction, from, to, deviceID string) error {
	data, err := json.Marshal(tx.rec)
	if err != nil {
		return err
	}
	t, err := g.cfg.Store.TransitionTransaction(ctx, tx.ID, from, to, deviceID, data, g.cfg.Now())
	if err != nil {
		return err
	}
	tx.Transaction = t
	return nil
}

// newTransaction stores a new transaction of kind for the pending login p,
// started by request r, in state.
func (g *Gate) newTransaction(ctx context.Context, r *http.Request, p *pendingLogin, returnTo, kind, state string, rec txRecord) (*transaction, error) {
	now := g.cfg.Now()
	access := ClassifyAccessDevice(r)
	rec.Kind = kind
	rec.Realm = g.realm.id
	rec.BrowserHash = secret.Hash(p.Secret)
	rec.Identity = p.Identity
	rec.Primary = p.Factor
	rec.Return = returnTo
	rec.Access = store.AccessDevice{Kind: access.Kind, OS: access.OS, OSVersion: access.OSVersion, Browser: access.Browser}
	rec.IP = g.cfg.ClientIP(r)
	rec.UserAgent = truncate(r.UserAgent(), maxUserAgent)
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	t := store.Transaction{
		ID:      secret.Token(),
		User:    p.User,
		State:   state,
		Data:    data,
		Created: now,
		Expires: now.Add(flowLifetime),
		Updated: now,
	}
	if err := g.cfg.Store.CreateTransaction(ctx, t); err != nil {
		return nil, fmt.Errorf("storing transaction: %w", err)
	}
	g.observer().VerificationStarted(t.ID, t.Expires)
	return &transaction{Transaction: t, rec: rec}, nil
}

// accessDescription describes the access device for the app's login
// request, e.g. "Chrome on Android 14".
func accessDescription(a store.AccessDevice) string {
	browser := a.Browser
	if browser == "" {
		browser = "A browser"
	}
	switch {
	case a.OS != "" && a.OSVersion != "":
		return browser + " on " + a.OS + " " + a.OSVersion
	case a.OS != "":
		return browser + " on " + a.OS
	}
	return browser
}
