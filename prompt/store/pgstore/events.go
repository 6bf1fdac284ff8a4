package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trustgate/trustgate/prompt/store"
)

// eventChannel is the LISTEN/NOTIFY channel that carries store.Events
// between the instances sharing a database.
const eventChannel = "trustgate_events"

// Reconnection delays of Listen after a lost connection.
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 5 * time.Second
)

// Notify sends e to every instance listening on this database, this one
// included. PostgreSQL delivers it when the sending transaction commits;
// here that is at once.
func (s *Store) Notify(ctx context.Context, e store.Event) error {
	payload, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", eventChannel, string(payload)); err != nil {
		return fmt.Errorf("notifying %s event: %w", e.Kind, err)
	}
	return nil
}

// Listen calls fn for each event until ctx ends. It listens on a connection
// of its own, outside the pool; when that connection is lost it reconnects
// with backoff. Each time it starts listening, the first time included, it
// calls fn with a store.EventResync, since events sent before (while it was
// away, or while the instance loaded its state) are lost.
func (s *Store) Listen(ctx context.Context, fn func(store.Event)) error {
	delay := listenRetryMin
	for {
		conn, err := s.listenConn(ctx)
		if err == nil {
			fn(store.Event{Kind: store.EventResync})
			delay = listenRetryMin
			s.receive(ctx, conn, fn)
			closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
			conn.Close(closeCtx)
			cancel()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, listenRetryMax)
	}
}

// listenConn opens a connection that listens on eventChannel.
func (s *Store) listenConn(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+eventChannel); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// receive hands every notification on conn to fn until the connection
// fails or ctx ends.
func (s *Store) receive(ctx context.Context, conn *pgx.Conn, fn func(store.Event)) {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return
		}
		var e store.Event
		if json.Unmarshal([]byte(n.Payload), &e) == nil && e.Kind != "" {
			fn(e)
		}
	}
}

// Interface guard
var _ store.Notifier = (*Store)(nil)
