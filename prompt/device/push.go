package device

import (
	"context"
	"encoding/json"
	"fmt"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

// SendPush stores a login request for deviceID and wakes its long-polls.
func (s *Service) SendPush(ctx context.Context, deviceID, txID string, p protocol.Push) error {
	if err := s.storePush(ctx, deviceID, txID, p); err != nil {
		return err
	}
	s.announcePush(ctx, deviceID)
	return nil
}

// storePush stores a login request for deviceID; announcePush must follow
// once it is committed.
func (s *Service) storePush(ctx context.Context, deviceID, txID string, p protocol.Push) error {
	details, err := json.Marshal(p)
	if err != nil {
		return err
	}
	err = s.st.CreatePush(ctx, store.Push{
		ID: p.ID, User: p.User, DeviceID: deviceID, TransactionID: txID,
		State: store.PushPending, Details: details, Created: s.now(), Expires: p.Expires,
	})
	if err != nil {
		return fmt.Errorf("storing push: %w", err)
	}
	return nil
}

// announcePush wakes the long-polls of deviceID, here and on other
// instances, to a login request just stored.
func (s *Service) announcePush(ctx context.Context, deviceID string) {
	s.cfg.Waker.Notify(deviceID)
	if n, ok := s.st.(store.Notifier); ok {
		// Long-polls held by other instances hear of it at once; they
		// would otherwise find it on their next look at the store.
		if err := n.Notify(ctx, store.Event{Kind: store.EventPush, ID: deviceID}); err != nil {
			s.log.Warn("telling other instances about a login request", zap.Error(err))
		}
	}
}

// PendingPushes returns the login requests GET pushes lists for deviceID:
// every pending one, inline ones (marked inline) included, since an app
// that lost the answer to its report finds its inline request only here.
func (s *Service) PendingPushes(ctx context.Context, deviceID string) ([]protocol.Push, error) {
	pending, err := s.st.PendingPushes(ctx, deviceID, s.now())
	if err != nil {
		return nil, err
	}
	var out []protocol.Push
	for _, p := range pending {
		var pp protocol.Push
		if err := json.Unmarshal(p.Details, &pp); err != nil {
			continue
		}
		pp.ID = p.ID
		out = append(out, pp)
	}
	return out, nil
}

// withdrawOtherPushes withdraws the copies of tx's login request sent to
// the person's other devices, all but answered.
func (s *Service) withdrawOtherPushes(ctx context.Context, tx *Transaction, answered string) error {
	others := make([]string, 0, len(tx.Rec.PushIDs))
	for _, id := range tx.Rec.PushIDs {
		if id != answered {
			others = append(others, id)
		}
	}
	if len(others) == 0 {
		return nil
	}
	_, err := s.st.WithdrawPushes(ctx, others)
	return err
}

// alreadyAnswered is the Error of an answer to a login request that was
// answered before, on this device or, when it was withdrawn, on another
// one.
func (s *Service) alreadyAnswered(ctx context.Context, pushID string) *Error {
	msg := "the login request was already answered"
	if p, err := s.st.Push(ctx, pushID); err == nil && p.Answer == store.PushWithdrawn {
		msg = "the login request was answered on another device"
	}
	return refuse(CodeAlreadyAnswered, msg)
}
