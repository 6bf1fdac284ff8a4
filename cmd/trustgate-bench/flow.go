package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/browser"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/gateway"
	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/prompt/protocol"
)

// verifyInline runs one complete inline verification as a person with a
// phone: the protected URL sends the browser to sign in, the prompt hands
// the app a transaction, the app reports healthy facts and approves, the
// browser opens the app's return link and is let in to the upstream. On
// success b holds a session whose device is trusted.
func verifyInline(ctx context.Context, srv *gateway.Server, b *browser.Browser, dev *agent.Agent, user string) error {
	status, body, err := b.Get(ctx, srv.URL+"/")
	if err != nil {
		return fmt.Errorf("opening the protected site: %w", err)
	}
	if status != http.StatusFound && status != http.StatusSeeOther {
		return fmt.Errorf("opening the protected site without a session: status %d, want a redirect to sign in: %s", status, browser.Snippet(body))
	}
	if err := b.Login(ctx, srv.URL, user, benchPassword); err != nil {
		return err
	}
	return deviceCheck(ctx, srv, b, dev)
}

// verifyLapsed runs the device check alone, for a person already signed
// in whose device trust has lapsed: b holds such a session. The protected
// URL sends the browser to the prompt (the gateway's requireCheck), and the
// check goes on as in verifyInline. On success b holds a new session whose
// device is trusted.
func verifyLapsed(ctx context.Context, srv *gateway.Server, b *browser.Browser, dev *agent.Agent) error {
	status, body, err := b.Get(ctx, srv.URL+"/")
	if err != nil {
		return fmt.Errorf("opening the protected site: %w", err)
	}
	if status != http.StatusSeeOther {
		return fmt.Errorf("opening the protected site with a lapsed device trust: status %d, want a redirect to the device check: %s", status, browser.Snippet(body))
	}
	return deviceCheck(ctx, srv, b, dev)
}

// deviceCheck is the device check of a signed-in person whose browser is on
// its way to the prompt: the prompt starts a transaction, the app reports
// healthy facts and approves, the browser opens the app's return link and
// is let in to the upstream.
func deviceCheck(ctx context.Context, srv *gateway.Server, b *browser.Browser, dev *agent.Agent) error {
	link, err := b.Prompt(ctx, srv.URL)
	if err != nil {
		return err
	}
	rep, err := dev.Verify(ctx, link, healthyFacts())
	if err != nil {
		return fmt.Errorf("the app's health report: %w", err)
	}
	if !rep.Trusted || rep.Push == nil {
		return fmt.Errorf("the app's health report: trusted %v, state %q, no login request to approve", rep.Trusted, rep.State)
	}
	ans, err := dev.Answer(ctx, "", rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove})
	if err != nil {
		return fmt.Errorf("approving in the app: %w", err)
	}
	if ans.ReturnURL == "" {
		return fmt.Errorf("approving in the app: state %q and no return link", ans.State)
	}
	if _, err := b.Expect(ctx, ans.ReturnURL, http.StatusSeeOther); err != nil {
		return fmt.Errorf("the app's return link: %w", err)
	}
	page, err := b.Expect(ctx, srv.URL+"/", http.StatusOK)
	if err != nil {
		return fmt.Errorf("the protected site after the check: %w", err)
	}
	if !strings.Contains(page, upstreamBody) {
		return fmt.Errorf("the protected site after the check is not the upstream's page: %s", browser.Snippet(page))
	}
	return nil
}
