package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/gateway"
	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/prompt/protocol"
)

// healthyFacts are what every bench phone reports: it meets the bench
// policy (screen lock required).
func healthyFacts() agent.Facts {
	yes, no := true, false
	return agent.Facts{Platform: "android", OSVersion: "14", ScreenLock: &yes, Tampered: &no, AppVersion: "1.0.0", Model: "Pixel 8"}
}

// activateDevice issues an activation code for user through the admin API
// and activates a new device key with it, as a phone scanning the code
// would. The agent sends its requests through client.
func activateDevice(ctx context.Context, srv *gateway.Server, user string, client *http.Client) (*agent.Agent, error) {
	body, _ := json.Marshal(map[string]string{"user": user, "origin": srv.URL})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.Admin+"/trusted-endpoints/activations", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("issuing an activation for %s: %w", user, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("issuing an activation for %s: %w", user, err)
	}
	var issued struct {
		Code string `json:"code"`
	}
	err = json.NewDecoder(resp.Body).Decode(&issued)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("issuing an activation for %s: status %d, decoding the answer: %w", user, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusCreated || issued.Code == "" {
		return nil, fmt.Errorf("issuing an activation for %s: %w", user, &agent.APIError{Status: resp.StatusCode})
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("making a device key: %w", err)
	}
	dev, err := agent.New(agent.Config{Key: key, Client: client})
	if err != nil {
		return nil, fmt.Errorf("making the agent for %s: %w", user, err)
	}
	link := srv.URL + protocol.ActivateLinkPath + "?code=" + url.QueryEscape(issued.Code)
	info := agent.DeviceInfo{Platform: "android", Model: "Pixel 8", OSVersion: "14", AppVersion: "1.0.0"}
	if _, err := dev.Activate(ctx, link, info); err != nil {
		return nil, fmt.Errorf("activating %s's device: %w", user, err)
	}
	return dev, nil
}

// setupAttempts is how often setup (not measured) tries an activation: a
// busy store may refuse one with 503 now and then. Other refusals are not
// retried: failed activations count towards the address's lockout.
const setupAttempts = 3

// activateDevices activates one device for each phone, with up to parallel
// activations at once; device i is user i's, on phone i. Setup is not
// measured, so an activation the gateway was too busy for is tried again a
// few times.
func activateDevices(ctx context.Context, srv *gateway.Server, phones []*http.Transport, parallel int) ([]*agent.Agent, error) {
	n := len(phones)
	devices := make([]*agent.Agent, n)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan int)
	)
	for range max(1, parallel) {
		wg.Go(func() {
			for i := range next {
				var (
					dev *agent.Agent
					err error
				)
				for attempt := range setupAttempts {
					if attempt > 0 {
						time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
					}
					if dev, err = activateDevice(ctx, srv, userName(i), &http.Client{Transport: phones[i], Timeout: 30 * time.Second}); err == nil || ctx.Err() != nil || !busy(err) {
						break
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				devices[i] = dev
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return devices, nil
}

// busy reports whether err is the gateway saying it cannot serve right now.
func busy(err error) bool {
	var apiErr *agent.APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusServiceUnavailable
}
