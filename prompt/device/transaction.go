package device

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
)

// Transaction kinds.
const (
	// KindInline checks the phone the person browses on: its app reports
	// the phone's health, then approves.
	KindInline = "inline"
	// KindPush asks another activated device to approve, with number
	// matching; it proves the person, not the access device.
	KindPush = "push"
	// KindEnroll asks the person's active devices to approve a new device
	// (enrollment approve), with number matching; the new device is
	// created only on approval.
	KindEnroll = "enroll"
)

// Factors and reasons of the device check the service records, in the
// auth log's vocabulary.
const (
	FactorMobileInline = "mobile_inline"
	FactorPush         = "push"
	ReasonWrongNumber  = "wrong_number"
	// ReasonNoActivatedApp: the person has no activated (unrevoked) device.
	ReasonNoActivatedApp = "no_activated_mobile_app"
	// ReasonNotVerified: the person proved who they are (passcode, push to
	// another device) but the access device itself was not checked.
	ReasonNotVerified = "device_not_verified"
	// ReasonNotInScope: the mobile check does not apply to the person
	// (integration disabled or user outside its groups).
	ReasonNotInScope = "device_check_not_enabled"
)

// Factor and reasons of the managed-device check, where a device
// certificate vouches for the access device instead of the mobile app.
const (
	// FactorManagedCertificate: the browser presented a verified client
	// certificate of a device in the active inventory.
	FactorManagedCertificate = "managed_certificate"
	// ReasonNoDeviceCertificate: the managed check decides, but the
	// connection carries no client certificate that the TLS handshake
	// verified.
	ReasonNoDeviceCertificate = "no_device_certificate"
	// ReasonNotManaged: the verified certificate names no device of the
	// active inventory, or one on a platform the managed check does not
	// vouch for (the mobile app decides there).
	ReasonNotManaged = "not_managed"
)

// RequirementManaged names the findings of the managed-device check.
const RequirementManaged = "managed_device"

// NoDeviceCertificateFinding is the finding of an access device that the
// managed check decides for and that presented no verified certificate.
func NoDeviceCertificateFinding() policy.Finding {
	return policy.Finding{Requirement: RequirementManaged, Reason: ReasonNoDeviceCertificate,
		Hint: "This browser did not present the device certificate of a computer your organisation manages. Open this application on a managed computer, in a browser that uses its certificate."}
}

// NotManagedFinding is the finding of an access device whose verified
// certificate is not a managed device's.
func NotManagedFinding() policy.Finding {
	return policy.Finding{Requirement: RequirementManaged, Reason: ReasonNotManaged,
		Hint: "This device's certificate is not on your organisation's list of managed devices. Use a managed computer, or ask your administrator to add this one."}
}

// NotVerifiedFinding is the finding of a login whose person was proven
// but whose access device was not checked.
func NotVerifiedFinding() policy.Finding {
	return policy.Finding{Requirement: "device_check", Reason: ReasonNotVerified,
		Hint: "You proved who you are, but this device was not checked. Open this page on your phone with the trustgate app to check it."}
}

// Record is the flow's record of a verification transaction, kept as the
// store's opaque Transaction.Data.
type Record struct {
	Kind string `json:"kind"`
	// ChallengeHash is the hash of the one-time challenge in the deep
	// link; a report must carry the challenge.
	ChallengeHash string `json:"ch,omitempty"`
	// BrowserHash is the hash of the secret in the browser's flow cookie:
	// only that browser may complete the transaction.
	BrowserHash string `json:"bh"`
	// Who signed in, how, and where they were going.
	Identity session.Identity `json:"id"`
	Primary  string           `json:"pf"`
	Return   string           `json:"ret"`
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
	// Enroll is the device waiting for approval, for KindEnroll.
	Enroll *PendingDevice `json:"enroll,omitempty"`
	// Realm is the ID of the realm the transaction was started in: only
	// devices of that realm, or unbound ones, may report for it or answer
	// its requests. Empty in transactions made before devices had realms.
	Realm string `json:"rl,omitempty"`
}

// Transaction is a stored transaction with its decoded record.
type Transaction struct {
	store.Transaction
	Rec Record
}

// Factor is the auth log's factor of a login proven by tx.
func (tx *Transaction) Factor() string {
	if tx.Rec.Kind == KindInline {
		return FactorMobileInline
	}
	return FactorPush
}

// Transaction loads transaction id.
func (s *Service) Transaction(ctx context.Context, id string) (*Transaction, error) {
	t, err := s.st.Transaction(ctx, id)
	if err != nil {
		return nil, err
	}
	tx := &Transaction{Transaction: t}
	if err := json.Unmarshal(t.Data, &tx.Rec); err != nil {
		return nil, fmt.Errorf("decoding transaction %s: %w", id, err)
	}
	return tx, nil
}

// Transition moves tx from state from to state to with its (changed)
// record; it fails with store.ErrConflict when another request won.
func (s *Service) Transition(ctx context.Context, tx *Transaction, from, to, deviceID string) error {
	data, err := json.Marshal(tx.Rec)
	if err != nil {
		return err
	}
	t, err := s.st.TransitionTransaction(ctx, tx.ID, from, to, deviceID, data, s.now())
	if err != nil {
		return err
	}
	tx.Transaction = t
	return nil
}

// NewTransaction stores a new transaction for user in state with rec,
// bound to the gate's realm, lasting lifetime.
func (s *Service) NewTransaction(ctx context.Context, user, state string, rec Record, lifetime time.Duration) (*Transaction, error) {
	now := s.now()
	rec.Realm = s.cfg.Realm
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	t := store.Transaction{
		ID:      secret.Token(),
		User:    user,
		State:   state,
		Data:    data,
		Created: now,
		Expires: now.Add(lifetime),
		Updated: now,
	}
	if err := s.st.CreateTransaction(ctx, t); err != nil {
		return nil, fmt.Errorf("storing transaction: %w", err)
	}
	s.hooks.VerificationStarted(t.ID, t.Expires)
	return &Transaction{Transaction: t, Rec: rec}, nil
}

// txRealm returns the ID of the realm tx was started in: recorded since
// devices have realms, the gate's for a transaction made before.
func (s *Service) txRealm(tx *Transaction) string {
	if tx.Rec.Realm != "" {
		return tx.Rec.Realm
	}
	return s.cfg.Realm
}

// AccessDescription describes the access device for the app's login
// request, e.g. "Chrome on Android 14".
func AccessDescription(a store.AccessDevice) string {
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
