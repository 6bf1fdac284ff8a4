package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/trustgate/trustgate/prompt/runtime"
)

func TestRetentionPeriodsDefaultsAndForever(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name string
		cfg  *RetentionConfig
		want runtime.Retention
	}{
		{"absent", nil, runtime.Retention{AuthLog: 180 * day, InactiveDevices: 30 * day}},
		{"empty", &RetentionConfig{}, runtime.Retention{AuthLog: 180 * day, InactiveDevices: 30 * day}},
		{"set", &RetentionConfig{AuthLog: caddy.Duration(7 * day), InactiveDevices: caddy.Duration(2 * day)},
			runtime.Retention{AuthLog: 7 * day, InactiveDevices: 2 * day}},
		{"forever", &RetentionConfig{AuthLog: -1, InactiveDevices: caddy.Duration(-day)}, runtime.Retention{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.periods(); got != tt.want {
				t.Errorf("periods() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReloadPushesRetentionIntoSharedState(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	storage := json.RawMessage(fmt.Sprintf(`{"backend": "sqlite", "path": %q}`, filepath.Join(t.TempDir(), "trustgate.db")))
	provision := func(r *RetentionConfig) *App {
		t.Helper()
		a := &App{StorageRaw: storage, Retention: r}
		if err := a.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		return a
	}
	week := caddy.Duration(7 * 24 * time.Hour)

	first := provision(&RetentionConfig{AuthLog: week})
	defer first.Cleanup()
	want := runtime.Retention{AuthLog: 7 * 24 * time.Hour, InactiveDevices: runtime.DefaultInactiveDeviceRetention}
	if got := first.shared.Retention(); got != want {
		t.Errorf("after the first load, retention = %+v, want %+v", got, want)
	}

	// A reload reuses the state, with the new configuration's settings.
	second := provision(&RetentionConfig{AuthLog: -1})
	defer second.Cleanup()
	if second.shared != first.shared {
		t.Fatal("the reload did not reuse the shared state")
	}
	want = runtime.Retention{InactiveDevices: runtime.DefaultInactiveDeviceRetention}
	if got := second.shared.Retention(); got != want {
		t.Errorf("after the reload, retention = %+v, want %+v", got, want)
	}
}
