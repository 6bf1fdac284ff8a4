package prompt

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
)

// serveVerify shows the prompt page: the deep links into the app for an
// inline check, the other factors, and enrollment.
func (g *Gate) serveVerify(w http.ResponseWriter, r *http.Request) {
	f, ok := g.pendingFlow(w, r)
	if !ok {
		return
	}
	g.showPrompt(w, r, f, http.StatusOK, "")
}

// showPrompt renders the prompt for f, starting a fresh inline transaction
// when there is none or the last one is over.
func (g *Gate) showPrompt(w http.ResponseWriter, r *http.Request, f *flow, status int, errMsg string) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	p := f.Pending
	now := g.cfg.Now()
	tx, err := g.ownTransaction(ctx, p, p.Tx)
	timedOut := false
	switch {
	case err == nil && tx.State == store.TransactionDenied:
		g.showDenial(w, r, tx)
		return
	case err == nil && tx.State == store.TransactionReported && !now.Before(tx.rec.PushExpires):
		// The login request lapsed: say so, and let the app try again on
		// a fresh transaction.
		g.recordNoResponse(r, tx)
		timedOut = true
		fallthrough
	case err == nil && (!now.Before(tx.Expires) || tx.State != store.TransactionPending && tx.State != store.TransactionReported && tx.State != store.TransactionApproved),
		errors.Is(err, store.ErrNotFound):
		challenge := RandomToken()
		tx, err = g.newTransaction(ctx, r, p, f.Return, txInline, store.TransactionPending, txRecord{ChallengeHash: hashSecret(challenge)})
		if err != nil {
			g.promptUnavailable(w, r, f, "starting device check", err)
			return
		}
		p.Tx, p.Challenge = tx.ID, challenge
	case err != nil:
		g.promptUnavailable(w, r, f, "loading device check", err)
		return
	}
	devices, err := g.activeDevices(ctx, p.User)
	if err != nil {
		g.promptUnavailable(w, r, f, "reading devices", err)
		return
	}
	data := promptData{Pending: p, Devices: len(devices), TimedOut: timedOut || r.URL.Query().Get("timeout") != ""}
	if p.PushTx != "" {
		if ptx, err := g.ownTransaction(ctx, p, p.PushTx); err == nil && ptx.State == store.TransactionReported && now.Before(ptx.rec.PushExpires) {
			data.Number = p.Number
		}
	}
	origin := requestOrigin(r)
	appLink, httpsLink := verifyLinks(origin, tx.ID, p.Challenge)
	// The links are built from escaped parts; template.URL lets their
	// trustgate: and intent: schemes through html/template.
	data.AppLink, data.HTTPSLink = template.URL(appLink), httpsLink
	if pkg := g.androidPackage(); pkg != "" && ClassifyAccessDevice(r).Platform == string(policy.Android) {
		data.IntentLink = template.URL(intentLink(httpsLink, pkg))
	}
	for _, d := range devices {
		name := d.Model
		if name == "" {
			name = "your " + d.Platform + " device"
		}
		data.DeviceNames = append(data.DeviceNames, name)
	}
	if len(devices) == 0 && g.cfg.Device.Enrollment {
		if p.Activation == "" {
			code, err := IssueActivation(ctx, g.cfg.Store, p.User, g.cfg.Device.ActivationTTL, now)
			if err != nil {
				g.storeUnavailable(w, r, "issuing activation code", err)
				return
			}
			p.Activation = code
		}
		actApp, actHTTPS := ActivationLinks(origin, p.Activation)
		data.ActivationApp, data.ActivationHTTPS = template.URL(actApp), actHTTPS
		qr, err := qrCodeDataURI(actApp)
		if err != nil {
			g.cfg.Logger.Warn("drawing activation QR code", zap.Error(err))
		}
		data.ActivationQR = qr
	}
	data.CanSkip = len(devices) == 0 && g.cfg.Device.Policy.Mode == policy.ModeCheck
	if err := g.setFlow(w, r, f); err != nil {
		g.internalError(w, r, "encoding login flow", err)
		return
	}
	w.Header().Set("Accept-CH", AcceptClientHints)
	g.renderPrompt(w, r, status, f, data, errMsg)
}

// promptUnavailable handles a storage error while showing the prompt: under
// fail mode safe or check the person goes on without a device check,
// otherwise they are told to try again later.
func (g *Gate) promptUnavailable(w http.ResponseWriter, r *http.Request, f *flow, what string, err error) {
	if g.degrade(r, what, err) {
		g.finishDegraded(w, r, f.Return, f.Pending.Identity, f.Pending.Factor)
		return
	}
	g.unavailable(w, r, what, err)
}

func (g *Gate) activeDevices(ctx context.Context, user string) ([]store.Device, error) {
	all, err := g.cfg.Store.UserDevices(ctx, user)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(d store.Device) bool { return !d.Active() }), nil
}

func (g *Gate) androidPackage() string {
	if apps := g.cfg.Device.AndroidApps; len(apps) > 0 {
		return apps[0].Package
	}
	return ""
}

// recordNoResponse records, once per transaction, that the person did not
// answer the login request in time.
func (g *Gate) recordNoResponse(r *http.Request, tx *transaction) {
	fresh, err := g.cfg.Store.UseOnce(r.Context(), "noresponse:"+tx.ID, tx.Expires)
	if err != nil || !fresh {
		return
	}
	_ = g.recordTx(r, tx, nil, store.ResultDenied, reasonNoResponse, factorOf(tx), false)
}

// status is what the waiting page's script reads.
type status struct {
	State   string `json:"state"`
	Message string `json:"message"`
	// Next, when set, is where the page goes now.
	Next string `json:"next,omitempty"`
}

// checkStatus works out where the pending check stands.
func (g *Gate) checkStatus(ctx context.Context, p *pendingLogin) status {
	now := g.cfg.Now()
	if p.PushTx != "" {
		if tx, err := g.ownTransaction(ctx, p, p.PushTx); err == nil {
			switch {
			case tx.State == store.TransactionApproved || tx.State == store.TransactionDenied:
				return status{State: tx.State, Message: "Answered on your other device.", Next: pathComplete + "?push=1"}
			case tx.State == store.TransactionReported && now.Before(tx.rec.PushExpires):
				return status{State: "waiting_approval", Message: "Approve the request on your other device and type the number shown here."}
			}
		}
	}
	tx, err := g.ownTransaction(ctx, p, p.Tx)
	if err != nil {
		return status{State: "expired", Message: "This check has expired.", Next: pathVerify}
	}
	switch tx.State {
	case store.TransactionPending:
		if !now.Before(tx.Expires) {
			return status{State: "expired", Message: "This check has expired.", Next: pathVerify}
		}
		return status{State: "waiting", Message: "Waiting for the trustgate app to check this device…"}
	case store.TransactionReported:
		if !now.Before(tx.rec.PushExpires) {
			return status{State: "timeout", Message: "No answer from the app in time.", Next: pathVerify + "?timeout=1"}
		}
		return status{State: "waiting_approval", Message: "Device checked. Approve the sign-in in the trustgate app."}
	case store.TransactionApproved:
		if g.cfg.Device.Unbound {
			return status{State: "approved", Message: "Approved.", Next: pathComplete}
		}
		return status{State: "approved", Message: "Approved in the app. The app brings you back to finish; if it did not, go back to the app and tap Continue."}
	case store.TransactionDenied:
		return status{State: "denied", Message: "Sign-in denied.", Next: pathComplete}
	}
	return status{State: tx.State, Message: "This check is finished.", Next: pathVerify}
}

// serveStatus answers the waiting page's poll.
func (g *Gate) serveStatus(w http.ResponseWriter, r *http.Request) {
	f := g.readFlow(r)
	if f == nil || f.Pending == nil || g.cfg.Device == nil {
		writeJSON(w, http.StatusOK, status{State: "expired", Message: "Your sign-in expired.", Next: ReservedPrefix + "login"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	writeJSON(w, http.StatusOK, g.checkStatus(ctx, f.Pending))
}

// serveNext is the no-script "Continue" button: it goes where the waiting
// page's script would go.
func (g *Gate) serveNext(w http.ResponseWriter, r *http.Request) {
	f, ok := g.pendingFlow(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	next := g.checkStatus(ctx, f.Pending).Next
	if next == "" {
		next = pathVerify
	}
	noStore(w)
	http.Redirect(w, r, next, http.StatusSeeOther)
}
