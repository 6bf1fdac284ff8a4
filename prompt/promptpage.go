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
	"github.com/trustgate/trustgate/prompt/accessdevice"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/pages"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// serveVerify shows the prompt page: the deep links into the app for an
// inline check, the other factors, and enrollment.
//
// The page is built on a fresh stack (onFreshStack): the browser's
// connection then waits, between the page's status polls, on a goroutine
// that rendering and the store reads did not grow.
func (g *Gate) serveVerify(w http.ResponseWriter, r *http.Request) error {
	var err error
	web.OnFreshStack(func() {
		var f *flow
		if f, err = g.pendingFlow(r); err == nil {
			err = g.showPrompt(w, r, f, http.StatusOK, "")
		}
	})
	return err
}

// showPrompt renders the prompt for f, starting a fresh inline transaction
// when there is none or the last one is over.
func (g *Gate) showPrompt(w http.ResponseWriter, r *http.Request, f *flow, status int, errMsg string) error {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	p := f.Pending
	now := g.cfg.Now()
	tx, timedOut, err := g.promptTransaction(ctx, w, r, f, now)
	if tx == nil {
		return err
	}
	devices, err := g.activeDevices(ctx, p.User)
	if err != nil {
		return g.promptUnavailable(w, r, f, "reading devices", err)
	}
	data := pages.Prompt{User: p.User, CSRF: f.CSRF, Error: errMsg, Devices: len(devices), TimedOut: timedOut || r.URL.Query().Get("timeout") != ""}
	if p.PushTx != "" {
		if ptx, err := g.ownTransaction(ctx, p, p.PushTx); err == nil && ptx.State == store.TransactionReported && now.Before(ptx.Rec.PushExpires) {
			data.Number = p.Number
		}
	}
	origin := requestOrigin(r)
	g.promptLinks(r, origin, tx.ID, p.Challenge, &data)
	for _, d := range devices {
		name := d.Model
		if name == "" {
			name = "your " + d.Platform + " device"
		}
		data.DeviceNames = append(data.DeviceNames, name)
	}
	if g.promptOffersEnrollment(len(devices)) {
		if err := g.promptEnrollment(ctx, p, origin, len(devices) > 0, now, &data); err != nil {
			return g.errStoreUnavailable(r, "issuing activation code", err)
		}
	}
	data.CanSkip = len(devices) == 0 && g.cfg.Device.Policy.Mode == policy.ModeCheck
	if err := g.setFlow(w, r, f); err != nil {
		return errInternal("encoding login flow", err)
	}
	w.Header().Set("Accept-CH", accessdevice.AcceptClientHints)
	g.pages.Prompt(w, r, status, data)
	return nil
}

// promptTransaction returns the flow's inline transaction, starting a
// fresh one when it is gone, over or lapsed (timedOut then says the login
// request lapsed). Without a transaction (nil) the request is answered:
// by the error returned, or (nil error) by a page already written (a
// denial, a login let in by the fail mode).
func (g *Gate) promptTransaction(ctx context.Context, w http.ResponseWriter, r *http.Request, f *flow, now time.Time) (tx *device.Transaction, timedOut bool, err error) {
	p := f.Pending
	tx, err = g.ownTransaction(ctx, p, p.Tx)
	switch {
	case err == nil && tx.State == store.TransactionDenied:
		g.showDenial(w, r, tx)
		return nil, false, nil
	case err == nil && tx.State == store.TransactionReported && !now.Before(tx.Rec.PushExpires):
		// The login request lapsed: say so, and let the app try again on
		// a fresh transaction.
		g.recordNoResponse(r, tx)
		timedOut = true
		fallthrough
	case err == nil && (!now.Before(tx.Expires) || tx.State != store.TransactionPending && tx.State != store.TransactionReported && tx.State != store.TransactionApproved),
		errors.Is(err, store.ErrNotFound):
		challenge := secret.Token()
		tx, err = g.newTransaction(ctx, r, p, f.Return, device.KindInline, store.TransactionPending, device.Record{ChallengeHash: secret.Hash(challenge)})
		if err != nil {
			return nil, false, g.promptUnavailable(w, r, f, "starting device check", err)
		}
		p.Tx, p.Challenge = tx.ID, challenge
	case err != nil:
		return nil, false, g.promptUnavailable(w, r, f, "loading device check", err)
	}
	return tx, timedOut, nil
}

// promptLinks fills in the links that open the app on the transaction: the
// custom scheme, the HTTPS app link and, on Android, the intent link.
func (g *Gate) promptLinks(r *http.Request, origin, txID, challenge string, data *pages.Prompt) {
	appLink, httpsLink := device.VerifyLinks(origin, txID, challenge)
	// The links are built from escaped parts; template.URL lets their
	// trustgate: and intent: schemes through html/template.
	data.AppLink, data.HTTPSLink = template.URL(appLink), httpsLink
	if pkg := g.androidPackage(); pkg != "" && accessdevice.Classify(r).Platform == string(policy.Android) {
		data.IntentLink = template.URL(device.IntentLink(httpsLink, pkg))
	}
}

// promptEnrollment fills in what the prompt offers to add a device: under
// approve a person with a device asks for a code (Add a new device,
// submitEnroll); under self the code is what they need, issued here once
// per flow.
func (g *Gate) promptEnrollment(ctx context.Context, p *pendingLogin, origin string, hasDevice bool, now time.Time, data *pages.Prompt) error {
	data.AddDevice = hasDevice
	if device.CodeSource(p.Activation) != g.cfg.Device.Enrollment {
		p.Activation = ""
	}
	if p.Activation == "" && !data.AddDevice {
		code, err := g.issuePromptActivation(ctx, p.User, now)
		if err != nil {
			return err
		}
		p.Activation = code
	}
	if p.Activation == "" {
		return nil
	}
	actApp, actHTTPS := device.ActivationLinks(origin, p.Activation)
	data.ActivationApp, data.ActivationHTTPS = template.URL(actApp), actHTTPS
	qr, err := pages.QRCode(actApp)
	if err != nil {
		g.cfg.Logger.Warn("drawing activation QR code", zap.Error(err))
	}
	data.ActivationQR = qr
	return nil
}

// promptUnavailable handles a storage error while showing the prompt: under
// fail mode safe or check the person goes on without a device check,
// otherwise they are told to try again later (the error returned).
func (g *Gate) promptUnavailable(w http.ResponseWriter, r *http.Request, f *flow, what string, err error) error {
	if g.degrade(r, what, err) {
		return g.finishDegraded(w, r, f.Return, f.Pending.Identity, f.Pending.Factor)
	}
	return g.errUnavailable(r, what, err)
}

// activeDevices returns the person's active devices that count on this
// site: those of its realm and the unbound ones.
func (g *Gate) activeDevices(ctx context.Context, user string) ([]store.Device, error) {
	return g.activeDevicesIn(ctx, user, g.realmID)
}

// activeDevicesIn returns user's active devices that count in the realm
// whose ID is realm (DeviceInRealm).
func (g *Gate) activeDevicesIn(ctx context.Context, user, realm string) ([]store.Device, error) {
	all, err := g.cfg.Store.UserDevices(ctx, user)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(d store.Device) bool { return !d.Active() || !device.InRealm(&d, realm) }), nil
}

func (g *Gate) androidPackage() string {
	if apps := g.cfg.Device.AndroidApps; len(apps) > 0 {
		return apps[0].Package
	}
	return ""
}

// recordNoResponse records, once per transaction, that the person did not
// answer the login request in time.
func (g *Gate) recordNoResponse(r *http.Request, tx *device.Transaction) {
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

// stateUnavailable is the state of a status answer the script retries
// (sent with 503 and Retry-After): the store could not be read just now.
// The check is not over, and the page must not leave it.
const stateUnavailable = "unavailable"

// statusRetryAfter is the Retry-After of an unavailable status answer, in
// seconds; the script also backs off by itself.
const statusRetryAfter = "2"

// checkStatus works out where the pending check stands. It fails only when
// the store could not be read; a check that is gone (not found, not this
// browser's) has expired.
//
// Each call reads one or two transactions by key (the push transaction,
// when there is one, and the inline one), and the waiting page calls it
// about every second at first. It is not served from memory: a
// transaction changes through the device API, possibly on another
// instance, and the Waker only knows of pushes. Instead the page's script
// slows its poll down once the person has had time to act (see
// pages/static/trustgate.js), which keeps the reads of a long wait low.
func (g *Gate) checkStatus(ctx context.Context, p *pendingLogin) (status, error) {
	now := g.cfg.Now()
	if p.PushTx != "" {
		tx, err := g.ownTransaction(ctx, p, p.PushTx)
		switch {
		case err == nil && (tx.State == store.TransactionApproved || tx.State == store.TransactionDenied):
			return status{State: tx.State, Message: "Answered on your other device.", Next: pathComplete + "?push=1"}, nil
		case err == nil && tx.State == store.TransactionReported && now.Before(tx.Rec.PushExpires):
			return status{State: "waiting_approval", Message: "Approve the request on your other device and type the number shown here."}, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return status{}, err
		}
	}
	tx, err := g.ownTransaction(ctx, p, p.Tx)
	if errors.Is(err, store.ErrNotFound) {
		return status{State: "expired", Message: "This check has expired.", Next: pathVerify}, nil
	}
	if err != nil {
		return status{}, err
	}
	switch tx.State {
	case store.TransactionPending:
		if !now.Before(tx.Expires) {
			return status{State: "expired", Message: "This check has expired.", Next: pathVerify}, nil
		}
		return status{State: "waiting", Message: "Waiting for the trustgate app to check this device…"}, nil
	case store.TransactionReported:
		if !now.Before(tx.Rec.PushExpires) {
			return status{State: "timeout", Message: "No answer from the app in time.", Next: pathVerify + "?timeout=1"}, nil
		}
		return status{State: "waiting_approval", Message: "Device checked. Approve the sign-in in the trustgate app."}, nil
	case store.TransactionApproved:
		if g.cfg.Device.Unbound {
			return status{State: "approved", Message: "Approved.", Next: pathComplete}, nil
		}
		return status{State: "approved", Message: "Approved in the app. The app brings you back to finish; if it did not, go back to the app and tap Continue."}, nil
	case store.TransactionDenied:
		return status{State: "denied", Message: "Sign-in denied.", Next: pathComplete}, nil
	}
	return status{State: tx.State, Message: "This check is finished.", Next: pathVerify}, nil
}

// serveStatus answers the waiting page's poll. A store failure (an outage,
// or a read that timed out under load) says "try again later" with 503 and
// Retry-After, and the page keeps waiting: answering "expired" would send
// every waiting page to start its check over, adding load just when the
// store is short of it.
//
// The answer is worked out on a fresh stack (onFreshStack): between two
// polls the page's keep-alive connection waits on the goroutine that
// served the last one, with whatever stack that grew to. Every answer,
// the 503 included, is the status the script reads: none is an error.
func (g *Gate) serveStatus(w http.ResponseWriter, r *http.Request) error {
	web.OnFreshStack(func() { g.answerStatus(w, r) })
	return nil
}

// answerStatus is serveStatus on its fresh stack.
func (g *Gate) answerStatus(w http.ResponseWriter, r *http.Request) {
	f := g.readFlow(r)
	if f == nil || f.Pending == nil || g.cfg.Device == nil {
		web.WriteJSON(w, http.StatusOK, status{State: "expired", Message: "Your sign-in expired.", Next: ReservedPrefix + "login"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	st, err := g.checkStatus(ctx, f.Pending)
	if err != nil {
		// A request whose context ended usually has nobody left to answer;
		// answering anyway costs nothing, and a page still listening (its
		// context ended by a connection deadline, say) gets the retryable
		// answer, not an empty 200.
		if r.Context().Err() == nil {
			g.storeFailed("reading check status", err)
			g.cfg.Logger.Warn("reading check status", zap.Error(err))
		}
		w.Header().Set("Retry-After", statusRetryAfter)
		web.WriteJSON(w, http.StatusServiceUnavailable, status{State: stateUnavailable, Message: "Still waiting (the gateway is busy)…"})
		return
	}
	web.WriteJSON(w, http.StatusOK, st)
}

// serveNext is the no-script "Continue" button: it goes where the waiting
// page's script would go.
func (g *Gate) serveNext(w http.ResponseWriter, r *http.Request) error {
	f, err := g.pendingFlow(r)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	// On a store failure the prompt page decides, where the fail mode
	// applies.
	st, _ := g.checkStatus(ctx, f.Pending)
	next := st.Next
	if next == "" {
		next = pathVerify
	}
	web.NoStore(w)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
