package prompt

import (
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
)

// A return link opened again resumes a completed login only for its own
// code, for an inline check, and within the transaction's lifetime.
func TestReturnLinkReopenIsLimitedToItsLifetime(t *testing.T) {
	now := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	g := &Gate{cfg: Config{Now: func() time.Time { return now }}}
	completed := func(mod func(*device.Transaction)) *device.Transaction {
		tx := &device.Transaction{
			Transaction: store.Transaction{ID: "tx", User: "alice", State: store.TransactionCompleted, Expires: now.Add(time.Minute)},
			Rec:         device.Record{Kind: device.KindInline, ReturnHash: secret.Hash("the-code")},
		}
		if mod != nil {
			mod(tx)
		}
		return tx
	}
	tests := []struct {
		name string
		tx   *device.Transaction
		code string
		want bool
	}{
		{"completed, in time, its code", completed(nil), "the-code", true},
		{"another code", completed(nil), "the-codf", false},
		{"no code", completed(nil), "", false},
		{"expired", completed(func(tx *device.Transaction) { tx.Expires = now }), "the-code", false},
		{"not completed yet", completed(func(tx *device.Transaction) { tx.State = store.TransactionApproved }), "the-code", false},
		{"denied", completed(func(tx *device.Transaction) { tx.State = store.TransactionDenied }), "the-code", false},
		{"a push, which has no return link", completed(func(tx *device.Transaction) { tx.Rec.Kind = device.KindPush }), "the-code", false},
		{"no return code issued", completed(func(tx *device.Transaction) { tx.Rec.ReturnHash = "" }), "", false},
	}
	for _, tt := range tests {
		if got := g.reopenedAfterCompleting(tt.tx, tt.code); got != tt.want {
			t.Errorf("%s: reopenedAfterCompleting = %v, want %v", tt.name, got, tt.want)
		}
	}
}
